// The lab's TLS front as a careful operator ships it, checked with OpenSSL against the proxy and web2
// (block 127.48): Mozilla-intermediate suites and groups only, resumption by ticket and by session ID,
// OCSP stapled and good on both, and a handshake deadline for clients that never say ClientHello.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDSHAKE_TIMEOUT_MS } from '../../../services/common/tls-policy.js';
import { startTestLab, type TestLab } from '../../support/lab.js';

const BLOCK = '127.48';
const SERVERS = { proxy: `${BLOCK}.2.80`, web2: `${BLOCK}.2.81` };
let lab: TestLab;
const dir = mkdtempSync(join(tmpdir(), 'tls-policy-'));
const rootPem = join(dir, 'root.pem');

/** openssl s_client to a lab server; stdin stays open a moment (longer to save a session: TLS 1.3 tickets come after the handshake) */
function sClient(address: string, args: string[]): string {
  const wait = args.includes('-sess_out') ? 1.5 : 0.3;
  const r = spawnSync(
    'sh',
    [
      '-c',
      `sleep ${wait} | openssl s_client -connect ${address}:443 -servername www.example.test ${args.join(' ')}`,
    ],
    { encoding: 'utf8', timeout: 15_000 },
  );
  return `${r.stdout}${r.stderr}`;
}
const negotiated = (out: string) => /^New, (TLSv1\.[23]), Cipher is (\S+)/m.exec(out)?.slice(1, 3);

beforeAll(async () => {
  lab = await startTestLab({
    block: BLOCK,
    hosts: ['ns-root', 'ns-tld', 'ns-example', 'resolver', 'ca', 'app', 'proxy', 'web2'],
  });
  const r = spawnSync('curl', ['-s', '--max-time', '5', `http://${BLOCK}.2.20/root.pem`], {
    encoding: 'utf8',
  });
  writeFileSync(rootPem, r.stdout);
}, 120_000);
afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(Object.entries(SERVERS))(
  'TLS on %s (services/common/tls-policy.ts)',
  { timeout: 120_000 },
  (host, address) => {
    it('offers TLS 1.2 with ECDHE and an AEAD only: no CBC (LUCKY13), CCM or ARIA', () => {
      for (const cipher of [
        'ECDHE-ECDSA-AES128-SHA',
        'ECDHE-ECDSA-AES256-SHA384',
        'ECDHE-ECDSA-AES128-CCM',
        'ECDHE-ECDSA-ARIA128-GCM-SHA256',
        'AES128-GCM-SHA256',
      ])
        expect(negotiated(sClient(address, ['-tls1_2', '-cipher', cipher])), cipher).toBeUndefined();
      for (const cipher of [
        'ECDHE-ECDSA-AES128-GCM-SHA256',
        'ECDHE-ECDSA-AES256-GCM-SHA384',
        'ECDHE-ECDSA-CHACHA20-POLY1305',
      ])
        expect(negotiated(sClient(address, ['-tls1_2', '-cipher', cipher]))).toEqual(['TLSv1.2', cipher]);
      expect(negotiated(sClient(address, ['-tls1_1']))).toBeUndefined();
    });

    it('agrees on X25519, P-256 and P-384 only (no ffdhe, no P-521)', () => {
      for (const group of ['X25519', 'P-256', 'P-384'])
        expect(negotiated(sClient(address, ['-tls1_3', '-groups', group])), group).toBeDefined();
      for (const group of ['ffdhe2048', 'P-521'])
        expect(negotiated(sClient(address, ['-tls1_3', '-groups', group])), group).toBeUndefined();
    });

    it('resumes sessions by ticket (TLS 1.2 and 1.3) and by session ID (TLS 1.2 without tickets)', () => {
      for (const mode of [['-tls1_2'], ['-tls1_2', '-no_ticket'], ['-tls1_3']]) {
        const sess = join(dir, `${host}-${mode.join('')}.sess`);
        expect(sClient(address, [...mode, '-sess_out', sess])).toMatch(/^New, /m);
        expect(sClient(address, [...mode, '-sess_in', sess]), mode.join(' ')).toMatch(
          /^Reused, TLSv1\.[23]/m,
        );
      }
    });

    it('staples a good OCSP answer, and the chain verifies to the lab root', () => {
      const out = sClient(address, ['-status', '-CAfile', rootPem, '-verify_hostname', 'www.example.test']);
      expect(out).toMatch(/OCSP Response Status: successful/);
      expect(out).toMatch(/Cert Status: good/);
      expect(out).toMatch(/Verify return code: 0 \(ok\)/);
    });

    it('closes a connection that never sends a ClientHello at the handshake deadline', async () => {
      const t0 = performance.now();
      const closedAfter = await new Promise<number>((resolve) => {
        const sock = connect({ host: address, port: 443 });
        sock.on('error', () => undefined);
        sock.on('close', () => resolve(performance.now() - t0));
        setTimeout(() => sock.destroy(), 30_000).unref();
      });
      // in line with the other ports (10–17 s), not Node's default of 120 s
      expect(closedAfter).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 500);
      expect(closedAfter).toBeLessThan(17_000);
    }, 40_000);
  },
);

describe('HTTPS headers through the proxy', { timeout: 120_000 }, () => {
  const headersOf = (name: string, path: string) =>
    spawnSync(
      'curl',
      [
        '-s',
        '-D',
        '-',
        '-o',
        '/dev/null',
        '--max-time',
        '10',
        '--cacert',
        rootPem,
        '--resolve',
        `${name}:443:${SERVERS.proxy}`,
        `https://${name}${path}`,
      ],
      { encoding: 'utf8' },
    ).stdout;

  it('sends HSTS for www, cdn and search.test, without includeSubDomains, and not for the apex', () => {
    for (const name of ['www.example.test', 'cdn.example.test', 'search.test'])
      expect(headersOf(name, '/'), name).toMatch(/^strict-transport-security: max-age=31536000\r$/im);
    expect(headersOf('example.test', '/')).toMatch(/^HTTP\/2 [23]\d\d/);
    expect(headersOf('example.test', '/')).not.toMatch(/strict-transport-security/i);
  });

  it("sets the app's visitor cookie Secure; HttpOnly; SameSite=Lax over https", () => {
    expect(headersOf('www.example.test', '/about')).toMatch(
      /^set-cookie: visitor=\w+; Path=\/; Secure; HttpOnly; SameSite=Lax\r$/im,
    );
  });
});
