// testssl.sh (the Debian package) audits the proxy and web2 as an operator would (block 127.49):
// no obsolete CBC suites, not vulnerable to LUCKY13, TLS 1.2 with AEAD suites only, OCSP stapled, HSTS.
// Only the checks that prove these run (-s cipher categories, -L, -S server defaults, -h headers),
// both servers at once. testssl.sh is a shell script that makes hundreds of handshakes: about a minute
// on an idle machine, many on a busy one, so it runs when asked (LAB_TESTSSL=1) and testssl.sh is
// installed: LAB_TESTSSL=1 npx vitest run test/integration/ca/testssl.test.ts
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLab, type TestLab } from '../../support/lab.js';

const BLOCK = '127.49';
const SERVERS = { proxy: `${BLOCK}.2.80`, web2: `${BLOCK}.2.81` };
const testssl = spawnSync('sh', ['-c', 'command -v testssl || command -v testssl.sh'], {
  encoding: 'utf8',
}).stdout.trim();
const dir = mkdtempSync(join(tmpdir(), 'testssl-'));
let lab: TestLab;

interface Finding {
  id: string;
  severity: string;
  finding: string;
}
const findings = new Map<string, Finding[]>();

async function audit(host: string, address: string): Promise<Finding[]> {
  const json = join(dir, `${host}.json`);
  // testssl's exit status counts findings; the JSON file is the verdict
  await promisify(execFile)(
    testssl,
    [
      '--quiet',
      '--color',
      '0',
      '--warnings',
      'off',
      // the lab's names exist only in the lab's DNS: the address is given, nothing is looked up
      '--nodns',
      'none',
      '--ip',
      address,
      '--add-ca',
      join(dir, 'root.pem'),
      '--connect-timeout',
      '5',
      '--openssl-timeout',
      '5',
      '-s',
      '-L',
      '-S',
      '-h',
      '--jsonfile',
      json,
      'https://www.example.test/',
    ],
    { timeout: 900_000, maxBuffer: 16 << 20 },
  ).catch((err: { killed?: boolean; message: string }) => {
    if (err.killed) throw new Error(`testssl.sh did not finish in 15 minutes: ${err.message}`);
  });
  return JSON.parse(readFileSync(json, 'utf8')) as Finding[];
}
const find = (host: string, id: string) => findings.get(host)?.find((f) => f.id === id);

describe.skipIf(!testssl || process.env.LAB_TESTSSL !== '1')('testssl.sh on the proxy and web2', () => {
  beforeAll(async () => {
    lab = await startTestLab({
      block: BLOCK,
      hosts: ['ns-root', 'ns-tld', 'ns-example', 'resolver', 'ca', 'app', 'proxy', 'web2'],
    });
    const root = spawnSync('curl', ['-s', '--max-time', '5', `http://${BLOCK}.2.20/root.pem`], {
      encoding: 'utf8',
    });
    writeFileSync(join(dir, 'root.pem'), root.stdout);
    await Promise.all(
      Object.entries(SERVERS).map(async ([host, address]) => findings.set(host, await audit(host, address))),
    );
  }, 1_000_000);
  afterAll(async () => {
    await lab?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe.each(Object.keys(SERVERS))('%s', (host) => {
    it('offers no obsolete CBC suites and no suite without forward secrecy: TLS 1.2 is AEAD only', () => {
      // testssl's categories: AVERAGE is "Obsolete CBC ciphers (AES, ARIA etc.)", STRONG the AEAD ones
      for (const weak of ['NULL', 'aNULL', 'EXPORT', 'LOW', '3DES_IDEA', 'AVERAGE'])
        expect(find(host, `cipherlist_${weak}`)?.finding, weak).toMatch(/^not offered/);
      expect(find(host, 'cipherlist_STRONG')?.finding).toMatch(/^offered/);
    });

    it('is not vulnerable to LUCKY13', () => {
      expect(find(host, 'LUCKY13')?.finding).toMatch(/not vulnerable/);
    });

    it('staples OCSP, and sends HSTS for a year', () => {
      expect(find(host, 'OCSP_stapling')?.finding).toMatch(/^offered/);
      expect(find(host, 'HSTS_time')?.finding).toMatch(/365 days/);
    });

    it('reports nothing HIGH or CRITICAL', () => {
      const bad = (findings.get(host) ?? []).filter(
        (f) => f.severity === 'HIGH' || f.severity === 'CRITICAL',
      );
      expect(bad).toEqual([]);
    });
  });
});
