// The CA checked by OpenSSL (block 127.43): chains verify, CRL and OCSP say good and then revoked,
// name constraints, AIA and CRL DP are there, bad requests are refused.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslCsr } from '../../support/csr.js';
import { startTestLab, type TestLab } from '../../support/lab.js';

const CA = 'http://127.43.2.20';
/** the machine's own address, where the lab's CLI runs: the only one POST /issue serves */
const MACHINE = '127.0.0.1';
/** the proxy's address: a lab host, which gets its certificates through ACME only */
const PROXY = '127.43.2.80';
let lab: TestLab;
const dir = mkdtempSync(join(tmpdir(), 'ca-test-'));
const f = (n: string) => join(dir, n);
const sh = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, { encoding: 'utf8', cwd: dir, input, stdio: ['pipe', 'pipe', 'pipe'] });
/** stdout and stderr together, whatever the exit code (openssl prints verdicts on both) */
const both = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: dir });
  return `${r.stdout}${r.stderr}`;
};
const curl = (...args: string[]) => sh('curl', ['-s', '--max-time', '10', ...args]);

const csr = (name: string, san: string) => opensslCsr(dir, name, san);

beforeAll(async () => {
  lab = await startTestLab({ block: '127.43', hosts: ['ca'] });
  writeFileSync(f('root.pem'), curl(`${CA}/root.pem`));
  writeFileSync(f('inter.pem'), curl(`${CA}/intermediate.pem`));
  const chain = curl(
    '--interface',
    MACHINE,
    '--data-binary',
    `@${csr('www.example.test', 'DNS:www.example.test,DNS:cdn.example.test')}`,
    `${CA}/issue`,
  );
  writeFileSync(f('leaf.pem'), `${chain.split('-----END CERTIFICATE-----')[0]}-----END CERTIFICATE-----\n`);
});
afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ocsp = (...extra: string[]) =>
  both('openssl', [
    'ocsp',
    '-issuer',
    f('inter.pem'),
    ...(extra.length ? extra : ['-cert', f('leaf.pem')]),
    '-url',
    `${CA}/ocsp`,
    '-CAfile',
    f('root.pem'),
  ]);

describe('the lab CA, as OpenSSL sees it', () => {
  it('serves POST /issue to the CLI on this machine only: a lab host gets 403 and is sent to ACME', async () => {
    const hosts = { proxy: PROXY, web2: '127.43.2.81', browser: '127.43.1.10' };
    for (const address of Object.values(hosts)) {
      const refused = curl(
        '-w',
        ' %{http_code}',
        '--interface',
        address,
        '--data-binary',
        `@${f('www.example.test.csr')}`,
        `${CA}/issue`,
      );
      expect(refused).toMatch(
        /^POST \/issue is for the lab's CLI on this machine only, not \S+: .*\/acme\/directory.* 403$/s,
      );
    }
    // the machine still issues, for the same CSR
    const issued = curl(
      '--interface',
      MACHINE,
      '--data-binary',
      `@${f('www.example.test.csr')}`,
      `${CA}/issue`,
    );
    writeFileSync(f('machine.pem'), issued);
    const serial = sh('openssl', ['x509', '-noout', '-serial', '-in', f('machine.pem')])
      .trim()
      .replace(/^serial=/, '')
      .toLowerCase();
    await lab.waitFor((e) => e.kind === 'ca.issue' && String(e.data?.serial).toLowerCase() === serial);
    for (const name of Object.keys(hosts))
      await lab.waitFor((e) => e.kind === 'http.refused' && e.data?.from === name && e.data?.status === 403);
    // every certificate signed over /issue went to the machine, none to a lab host
    const requesters = lab
      .events('ca')
      .filter((e) => e.kind === 'ca.issue' && e.data?.kind === undefined)
      .map((e) => e.data?.requester);
    expect(requesters.length).toBeGreaterThanOrEqual(2);
    expect(new Set(requesters)).toEqual(new Set([MACHINE]));
  });

  it('issues a leaf that verifies up to the root', () => {
    expect(
      sh('openssl', ['verify', '-CAfile', f('root.pem'), '-untrusted', f('inter.pem'), f('leaf.pem')]),
    ).toMatch(/leaf.pem: OK/);
  });

  it('puts name constraints on the root, and AIA, CRL DP, SAN and serverAuth on the leaf', () => {
    const root = sh('openssl', ['x509', '-in', f('root.pem'), '-noout', '-text']);
    expect(root).toMatch(/Name Constraints: critical\s+Permitted:\s+DNS:test/);
    expect(root).toMatch(/IP:127\.43\.0\.0\/255\.255\.0\.0/);
    const leaf = sh('openssl', ['x509', '-in', f('leaf.pem'), '-noout', '-text']);
    expect(leaf).toMatch(/OCSP - URI:http:\/\/ca\.test\/ocsp/);
    expect(leaf).toMatch(/CA Issuers - URI:http:\/\/ca\.test\/intermediate\.cer/);
    expect(leaf).toMatch(/URI:http:\/\/ca\.test\/crl\/intermediate\.crl/);
    expect(leaf).toMatch(/DNS:www\.example\.test, DNS:cdn\.example\.test/);
    expect(leaf).toMatch(/TLS Web Server Authentication/);
  });

  it('says good over OCSP, with a nonce, then revoked after lab ca revoke; the CRL follows', async () => {
    const good = ocsp();
    expect(good).toMatch(/Response verify OK/);
    expect(good).toMatch(/leaf.pem: good/);
    // without a nonce the answer is pre-produced (RFC 5019): the revocation below must replace it
    expect(ocsp('-cert', f('leaf.pem'), '-no_nonce')).toMatch(/leaf.pem: good/);
    const crlCheck = () => {
      writeFileSync(f('crl.der'), execFileSync('curl', ['-s', `${CA}/crl/intermediate.crl`]));
      const crlPem = sh('openssl', ['crl', '-inform', 'DER', '-in', f('crl.der')]);
      writeFileSync(
        f('bundle.pem'),
        readFileSync(f('root.pem'), 'utf8') + readFileSync(f('inter.pem'), 'utf8') + crlPem,
      );
      try {
        return sh('openssl', ['verify', '-crl_check', '-CAfile', f('bundle.pem'), f('leaf.pem')]);
      } catch (e) {
        return String((e as { stdout?: string }).stdout) + String((e as { stderr?: string }).stderr);
      }
    };
    expect(crlCheck()).toMatch(/leaf.pem: OK/);
    await lab.control('ca', 'ca.revoke', { target: 'www.example.test', reason: 'keyCompromise' });
    const after = ocsp();
    expect(after).toMatch(/leaf.pem: revoked/);
    expect(after).toMatch(/Reason: keyCompromise/);
    expect(after).toMatch(/Revocation Time: \w{3} +\d+ \d\d:\d\d:\d\d \d{4} GMT/);
    const preproduced = ocsp('-cert', f('leaf.pem'), '-no_nonce');
    expect(preproduced).toMatch(/Response verify OK/);
    expect(preproduced).toMatch(/leaf.pem: revoked/);
    expect(preproduced).toMatch(/Reason: keyCompromise/);
    expect(crlCheck()).toMatch(/certificate revoked/);
    await lab.waitFor(
      (e) => e.host === 'ca' && e.kind === 'ocsp.response' && JSON.stringify(e.data).includes('"revoked"'),
    );
  });

  it('answers unknown, signed, about a serial it never issued', () => {
    const unknown = ocsp('-serial', '0x5eed');
    expect(unknown).toMatch(/Response verify OK/);
    expect(unknown).toMatch(/0x5EED: unknown/i);
  });

  it('answers OCSP over GET with a cacheable response (RFC 5019)', () => {
    const req = execFileSync('openssl', [
      'ocsp',
      '-issuer',
      f('inter.pem'),
      '-cert',
      f('leaf.pem'),
      '-no_nonce',
      '-reqout',
      '-',
    ]);
    const headers = curl(
      '-D',
      '-',
      '-o',
      '/dev/null',
      `${CA}/ocsp/${encodeURIComponent(req.toString('base64'))}`,
    );
    expect(headers).toMatch(/Cache-Control: max-age=\d+, public, no-transform, must-revalidate/);
    expect(headers).toMatch(/Expires: /);
    // the same question with a nonce: an answer for this request only (RFC 5019 §6, RFC 8954)
    const withNonce = execFileSync('openssl', [
      'ocsp',
      '-issuer',
      f('inter.pem'),
      '-cert',
      f('leaf.pem'),
      '-nonce',
      '-reqout',
      '-',
    ]);
    const nonceHeaders = curl(
      '-D',
      '-',
      '-o',
      '/dev/null',
      `${CA}/ocsp/${encodeURIComponent(withNonce.toString('base64'))}`,
    );
    expect(nonceHeaders).toMatch(/Cache-Control: no-store/);
    expect(nonceHeaders).not.toMatch(/public/);
    expect(nonceHeaders).not.toMatch(/ETag/i);
    expect(headers).toMatch(/ETag: "[0-9a-f]{32}"/);
  });

  it('answers malformedRequest to garbage and stays up', () => {
    writeFileSync(
      f('garbage.resp'),
      execFileSync('curl', ['-s', '-X', 'POST', '--data-binary', 'not an OCSP request', `${CA}/ocsp`]),
    );
    expect(both('openssl', ['ocsp', '-respin', f('garbage.resp'), '-resp_text'])).toMatch(
      /malformedrequest/i,
    );
    expect(curl('-o', '/dev/null', '-w', '%{http_code}', `${CA}/root.pem`)).toBe('200');
  });

  it('refuses names outside .test, garbage CSRs and requests from outside the lab', () => {
    const foreign = curl(
      '-w',
      ' %{http_code}',
      '--interface',
      MACHINE,
      '--data-binary',
      `@${csr('www.google.com', 'DNS:www.google.com')}`,
      `${CA}/issue`,
    );
    expect(foreign).toMatch(/not a name under \.test.* 400$/s);
    expect(
      curl('-w', ' %{http_code}', '--interface', MACHINE, '--data-binary', 'junk', `${CA}/issue`),
    ).toMatch(/PKCS #10.* 400$/s);
    expect(
      curl(
        '-w',
        ' %{http_code}',
        '--interface',
        '127.99.0.1',
        '--data-binary',
        `@${f('www.example.test.csr')}`,
        `${CA}/issue`,
      ),
    ).toMatch(/403$/);
  });

  it('makes the bad-cert story certificates: expired, wrong name, unknown root', async () => {
    for (const [kind, error] of [
      ['expired', /certificate has expired/],
      ['untrusted', /unable to get local issuer certificate|self.signed/],
    ] as const) {
      const r = (await lab.control('ca', 'ca.badcert', { kind, name: 'www.example.test' })) as {
        chain: string;
      };
      writeFileSync(
        f(`${kind}.pem`),
        `${r.chain.split('-----END CERTIFICATE-----')[0]}-----END CERTIFICATE-----\n`,
      );
      let out = '';
      try {
        out = sh('openssl', [
          'verify',
          '-CAfile',
          f('root.pem'),
          '-untrusted',
          f('inter.pem'),
          f(`${kind}.pem`),
        ]);
      } catch (e) {
        out = String((e as { stdout?: string }).stdout) + String((e as { stderr?: string }).stderr);
      }
      expect(out).toMatch(error);
    }
    await expect(lab.control('ca', 'ca.badcert', { kind: 'nonsense', name: 'x.test' })).rejects.toThrow(
      /kind must be/,
    );
  });
});

/** One raw HTTP/1.1 POST: what came back before the CA closed, and whether it closed with a reset. */
function rawPost(
  path: string,
  body: Buffer,
  headers: string,
  localAddress: string,
): Promise<{ text: string; reset: boolean }> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.43.2.20', port: 80, localAddress });
    let text = '';
    let reset = false;
    sock.on('data', (c) => {
      text += c.toString('latin1');
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      reset = e.code === 'ECONNRESET' || e.code === 'EPIPE';
    });
    sock.on('close', () => resolve({ text, reset }));
    sock.write(`POST ${path} HTTP/1.1\r\nHost: ca.test\r\n${headers}\r\n`);
    sock.write(body);
  });
}

describe('the CA and oversized bodies (RFC 9110 §15.5.14)', () => {
  const big = Buffer.alloc(70 * 1024, 0x41);
  // /issue from the machine (no one else may ask), /ocsp from a lab host
  for (const [path, from] of [
    ['/issue', MACHINE],
    ['/ocsp', PROXY],
  ]) {
    it(`answers 413 to a POST ${path} over its limit, then closes without a reset`, async () => {
      for (const headers of [`Content-Length: ${big.length}\r\n`, 'Transfer-Encoding: chunked\r\n']) {
        const body = headers.startsWith('Transfer')
          ? Buffer.concat([Buffer.from(`${big.length.toString(16)}\r\n`), big, Buffer.from('\r\n0\r\n\r\n')])
          : big;
        const r = await rawPost(path, body, headers, from);
        expect(r.text).toMatch(/^HTTP\/1\.1 413 /);
        expect(r.text).toMatch(/connection: close/i);
        expect(r.text).toMatch(/the body is larger than \d+ bytes/);
        expect(r.reset).toBe(false);
      }
    });
  }
});
