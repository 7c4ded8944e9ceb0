// The CA's ACME server with a real client (block 127.56): Debian's lego obtains a certificate for
// www.example.test over http-01 (ES256 and RS256 account keys) and dns-01 (its exec provider runs
// `lab dns set` for the TXT record); a client that cannot answer the challenge is refused; the
// protocol's own checks (nonces, problem documents) answer as RFC 8555 says.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../services/common/settings.js';
import { startTestLab, type TestLab } from '../../support/lab.js';

const CA = 'http://127.56.2.20';
const DIRECTORY = `${CA}/acme/directory`;
const WWW = '127.56.2.80'; // www.example.test in the lab's DNS (the proxy's address; the proxy is not started)
let lab: TestLab;
const dir = mkdtempSync(join(tmpdir(), 'acme-test-'));

/**
 * lego as a user runs it: the lab CA's directory, lab addresses only, its own storage dir. Run
 * asynchronously, so the test keeps reading the hosts' events meanwhile.
 */
function lego(storage: string, args: string[], env: Record<string, string> = {}) {
  const argv = [
    '--server',
    DIRECTORY,
    '--accept-tos',
    '--email',
    'workshop@example.test',
    '--path',
    join(dir, storage),
    ...args,
    'run',
  ];
  return new Promise<{ status: number; out: string }>((resolve) => {
    execFile(
      'lego',
      argv,
      { encoding: 'utf8', timeout: 90_000, env: { ...process.env, ...env } },
      (err, stdout, stderr) =>
        resolve({
          status: err ? Number((err as { code?: number }).code ?? 1) || 1 : 0,
          out: `${stdout}${stderr}`,
        }),
    );
  });
}
const certOf = (storage: string, name: string) =>
  readFileSync(join(dir, storage, 'certificates', `${name}.crt`), 'utf8');
const openssl = (args: string[], input?: string) =>
  execFileSync('openssl', args, { encoding: 'utf8', input, cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });

beforeAll(async () => {
  lab = await startTestLab({ block: '127.56', hosts: ['ns-root', 'ns-tld', 'ns-example', 'resolver', 'ca'] });
  writeFileSync(join(dir, 'root.pem'), execFileSync('curl', ['-s', `${CA}/root.pem`], { encoding: 'utf8' }));
}, 60_000);
afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('lego, a real ACME client, against the lab CA', () => {
  it('obtains a certificate for www.example.test over http-01 with an ES256 account key, validated from the CA to port 80', async () => {
    // the lab's own hosts (resolver, proxy, web2) got their certificates through ACME at start:
    // look only at what the CA wrote for lego's order
    const seen = lab.events('ca').length;
    const r = await lego('ec', ['--domains', 'www.example.test', '--http', '--http.port', `${WWW}:80`]);
    expect(r.out).toMatch(/Server responded with a certificate/);
    expect(r.status).toBe(0);
    const chain = certOf('ec', 'www.example.test');
    writeFileSync(join(dir, 'ec.pem'), chain);
    expect(
      openssl([
        'verify',
        '-CAfile',
        join(dir, 'root.pem'),
        '-untrusted',
        join(dir, 'ec.pem'),
        join(dir, 'ec.pem'),
      ]),
    ).toMatch(/OK/);
    expect(openssl(['x509', '-noout', '-ext', 'subjectAltName', '-in', join(dir, 'ec.pem')])).toMatch(
      /DNS:www\.example\.test/,
    );
    const ours = lab.events('ca').slice(seen);
    const account = ours.find((e) => e.kind === 'acme.account');
    expect(account?.data?.alg).toBe('ES256');
    const validated = ours.find((e) => e.kind === 'acme.validate' && e.data?.ok === true);
    expect(validated?.data).toMatchObject({
      type: 'http-01',
      name: 'www.example.test',
      at: `${WWW}:80`,
      from: '127.56.2.20',
    });
    expect(ours.some((e) => e.kind === 'ca.issue' && e.data?.kind === 'acme')).toBe(true);
  });

  it('accepts an RS256 account key (RSA 2048)', async () => {
    const r = await lego('rsa', [
      '--key-type',
      'rsa2048',
      '--domains',
      'www.example.test',
      '--http',
      '--http.port',
      `${WWW}:80`,
    ]);
    expect(r.status, r.out).toBe(0);
    expect(lab.events('ca').some((e) => e.kind === 'acme.account' && e.data?.alg === 'RS256')).toBe(true);
    expect(openssl(['x509', '-noout', '-text'], certOf('rsa', 'www.example.test'))).toMatch(/rsaEncryption/);
  });

  it('obtains a certificate over dns-01 when the TXT record is set with `lab dns set`', async () => {
    // lego's exec provider calls this script with "present|cleanup FQDN VALUE"
    const script = join(dir, 'lab-dns.sh');
    const cli = `node ${join(PROJECT_ROOT, 'dist/lab-cli/main.js')}`;
    writeFileSync(
      script,
      `#!/bin/sh\nset -e\nname="\${2%.}"\nif [ "$1" = present ]; then ${cli} dns set "$name" TXT "\\"$3\\"" --ttl 5; else ${cli} dns rm "$name" TXT; fi\n`,
    );
    chmodSync(script, 0o755);
    const r = await lego(
      'dns',
      [
        '--domains',
        'www.example.test',
        '--dns',
        'exec',
        '--dns.resolvers',
        '127.56.2.53:53',
        '--dns.disable-cp',
      ],
      {
        EXEC_PATH: script,
        EXEC_PROPAGATION_TIMEOUT: '30',
        EXEC_POLLING_INTERVAL: '1',
        LAB_BLOCK: '127.56',
        LAB_STATE_DIR: lab.settings.stateDir,
        LAB_RUNTIME: 'local',
      },
    );
    expect(r.status, r.out).toBe(0);
    const validated = lab.events('ca').find((e) => e.kind === 'acme.validate' && e.data?.type === 'dns-01');
    expect(validated?.data).toMatchObject({ ok: true, at: '_acme-challenge.www.example.test' });
  });

  it('refuses a client that cannot answer the challenge: the order becomes invalid with a connection problem', async () => {
    // lego listens on another address, so nothing answers on www.example.test's port 80
    const r = await lego('refused', [
      '--domains',
      'www.example.test',
      '--http',
      '--http.port',
      '127.56.2.10:80',
    ]);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/urn:ietf:params:acme:error:connection/);
    expect(
      readdirSync(join(dir, 'refused')).includes('certificates')
        ? readdirSync(join(dir, 'refused', 'certificates'))
        : [],
    ).not.toContain('www.example.test.crt');
    const order = lab.events('ca').find((e) => e.kind === 'acme.order' && e.data?.status === 'invalid');
    expect(order?.data?.problem).toMatchObject({ type: 'urn:ietf:params:acme:error:connection' });
  });
});

describe('the proxy renews through ACME', () => {
  it('answers the http-01 challenge on its own port 80 and serves the new certificate', async () => {
    await lab.start('proxy');
    const before = lab.events('ca').filter((e) => e.kind === 'acme.validate').length;
    const renewed = (await lab.control('proxy', 'tls.renew')) as { serial: string };
    const validations = lab
      .events('ca')
      .filter((e) => e.kind === 'acme.validate')
      .slice(before);
    expect(validations.length).toBeGreaterThan(0);
    for (const v of validations) expect(v.data).toMatchObject({ type: 'http-01', ok: true, at: `${WWW}:80` });
    const issued = lab.events('ca').find((e) => e.kind === 'ca.issue' && e.data?.serial === renewed.serial);
    expect(issued?.data).toMatchObject({ kind: 'acme', names: expect.arrayContaining(['www.example.test']) });
    const served = execFileSync(
      'openssl',
      ['s_client', '-connect', `${WWW}:443`, '-servername', 'www.example.test'],
      { encoding: 'utf8', input: '', stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const leaf = openssl(['x509', '-noout', '-serial'], served);
    expect(leaf.toLowerCase()).toContain(renewed.serial.toLowerCase().replace(/^0+/, ''));
  }, 60_000);
});

describe("the CA's state", () => {
  it('keeps its keys readable by the CA alone (0600)', () => {
    const pki = join(lab.settings.stateDir, 'hosts', 'ca', 'pki');
    const keys = readdirSync(pki).filter((f) => f.endsWith('.key'));
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const k of keys) expect((statSync(join(pki, k)).mode & 0o777).toString(8), k).toBe('600');
  });
});
