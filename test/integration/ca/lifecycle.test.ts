// `lab ca revoke` and `lab ca reset` on a whole lab (block 127.47), as a workshop uses them by hand:
// a revocation reaches every host that staples (openssl sees "revoked", the browser ERR_CERT_REVOKED),
// and after a reset every host and trust store is on the new hierarchy and press-enter passes.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../services/common/settings.js';

const BLOCK = '127.47';
const PROXY = `${BLOCK}.2.80`;
const WEB2 = `${BLOCK}.2.81`;
const CA = `http://${BLOCK}.2.20`;
const tmp = mkdtempSync(join(tmpdir(), 'enterlab-ca-lifecycle-'));
const env = {
  ...process.env,
  LAB_BLOCK: BLOCK,
  LAB_STATE_DIR: join(tmp, 'state'),
  LAB_RUNS_DIR: join(tmp, 'runs'),
  LAB_IPV6: '0',
  NO_COLOR: '1',
};
const built = existsSync(join(PROJECT_ROOT, 'dist/lab-cli/main.js'));

function lab(...args: string[]) {
  return spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist/lab-cli/main.js'), ...args], {
    env,
    encoding: 'utf8',
    timeout: 240_000,
  });
}

/** openssl s_client -status against a lab server: its OCSP staple, chain and verdict on `root` */
function handshake(address: string, root?: string): string {
  const r = spawnSync(
    'openssl',
    [
      's_client',
      '-connect',
      `${address}:443`,
      '-servername',
      'www.example.test',
      '-status',
      '-showcerts',
      ...(root ? ['-CAfile', root, '-verify_return_error'] : []),
    ],
    { input: '', encoding: 'utf8', timeout: 10_000 },
  );
  return `${r.stdout}${r.stderr}`;
}

function fetchRoot(name: string): string {
  const path = join(tmp, name);
  writeFileSync(path, execFileSync('curl', ['-s', '--max-time', '5', `${CA}/root.pem`]));
  return path;
}

// a whole lab and press-enter on a shared 2-core machine: minutes, not the default 30 s
describe.skipIf(!built)('lab ca revoke and lab ca reset, on a whole lab', { timeout: 240_000 }, () => {
  beforeAll(() => {
    const up = lab('up');
    expect(up.status, up.stderr).toBe(0);
  }, 240_000);
  afterAll(() => {
    lab('down');
    rmSync(tmp, { recursive: true, force: true });
  });

  it('lab browse example.test loads: the apex is in the certificate of the proxy it resolves to', () => {
    const r = lab('browse', '--json', 'example.test');
    expect(JSON.parse(r.stdout).error).toBeUndefined();
    // the first certificate s_client prints without -status (with it, the OCSP responder's comes first)
    const served = spawnSync(
      'openssl',
      ['s_client', '-connect', `${PROXY}:443`, '-servername', 'example.test'],
      {
        input: '',
        encoding: 'utf8',
        timeout: 10_000,
      },
    ).stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)?.[0];
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: served, encoding: 'utf8' });
    expect(text).toMatch(/Subject Alternative Name:( critical)?\s+.*DNS:example\.test(,|$)/m);
  });

  it('lab ca revoke www.example.test revokes the proxy and web2 certificates, and both staple "revoked" at once', () => {
    const before = lab('browse', '--json', 'https://www.example.test/');
    expect(JSON.parse(before.stdout).error).toBeUndefined();
    const r = lab('ca', 'revoke', 'www.example.test', '--reason', 'keyCompromise');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/revoked \w+ \(.*www\.example\.test.*\): keyCompromise; served by proxy/);
    expect(r.stdout).toMatch(/revoked \w+ \(.*web2\.example\.test.*\): keyCompromise; served by web2/);
    expect(r.stdout).toMatch(/proxy now staples "revoked"/);
    expect(r.stdout).toMatch(/web2 now staples "revoked"/);
    // no waiting: the next handshake on each already carries the new answer
    expect(handshake(PROXY)).toMatch(/Cert Status: revoked/);
    expect(handshake(WEB2)).toMatch(/Cert Status: revoked/);
    const after = lab('browse', '--json', 'https://www.example.test/');
    expect(after.status).toBe(1);
    expect(JSON.parse(after.stdout).error.code).toBe('ERR_CERT_REVOKED');
  });

  it('lab ca renew gives the proxy and web2 new certificates that staple "good": the site is back', () => {
    const r = lab('ca', 'renew');
    expect(r.stdout).toMatch(/proxy serves a new certificate .*OCSP good/);
    expect(r.stdout).toMatch(/web2 serves a new certificate .*OCSP good/);
    expect(handshake(PROXY)).toMatch(/Cert Status: good/);
    expect(handshake(WEB2)).toMatch(/Cert Status: good/);
    expect(JSON.parse(lab('browse', '--json', 'https://www.example.test/').stdout).error).toBeUndefined();
  });

  it('lab ca reset puts every host and the browser on the new hierarchy; press-enter passes after it', () => {
    const oldRoot = fetchRoot('old-root.pem');
    const r = lab('ca', 'reset');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/proxy serves a certificate from the new hierarchy .*OCSP good/);
    expect(r.stdout).toMatch(/web2 serves a certificate from the new hierarchy .*OCSP good/);
    expect(r.stdout).toMatch(/the browser trusts the new root/);
    const newRoot = fetchRoot('new-root.pem');
    for (const host of [PROXY, WEB2]) {
      expect(handshake(host, newRoot)).toMatch(/Verify return code: 0 \(ok\)/);
      expect(handshake(host, newRoot)).toMatch(/Cert Status: good/);
      expect(handshake(host, oldRoot)).not.toMatch(/Verify return code: 0 \(ok\)/);
    }
    const run = lab('run', 'press-enter');
    expect(run.stdout).toMatch(/PASSED/);
    expect(run.status).toBe(0);
  });

  it('a host that was down during the reset does not reuse its cached certificate of the old hierarchy', () => {
    expect(lab('stop', 'proxy').status).toBe(0);
    expect(lab('ca', 'reset').stdout).toMatch(/proxy: not renewed/);
    expect(lab('start', 'proxy').status).toBe(0);
    const root = fetchRoot('third-root.pem');
    expect(handshake(PROXY, root)).toMatch(/Verify return code: 0 \(ok\)/);
    const r = lab('browse', '--json', 'https://www.example.test/');
    expect(JSON.parse(r.stdout).error).toBeUndefined();
  });
});
