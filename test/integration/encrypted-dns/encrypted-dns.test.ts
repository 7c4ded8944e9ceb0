// The resolver's DNS over TLS (RFC 7858) and over HTTPS (RFC 8484) checked with real clients: kdig
// (knot-dnsutils) for DoT, DoH POST and GET, curl for DoH as a browser uses it. Lab on block 127.59.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { port } from '../../../services/common/settings.js';
import { startTestLab, type TestLab } from '../../support/lab.js';

const KDIG = '/usr/bin/kdig';
const tmp = mkdtempSync(join(tmpdir(), 'enterlab-encrypted-dns-'));
const rootPem = join(tmp, 'root.pem');
let lab: TestLab;
let resolver: string;

const kdig = (...args: string[]) =>
  execFileSync(
    KDIG,
    [`@${resolver}`, `+tls-ca=${rootPem}`, '+tls-hostname=resolver.test', '+timeout=5', ...args],
    { encoding: 'utf8' },
  );
/** the resolver's dns.query events for one transport, once one for `name` has come */
const queriesOver = async (transport: string, name = 'www.example.test') => {
  await lab.waitFor(
    (e) =>
      e.host === 'resolver' &&
      e.kind === 'dns.query' &&
      (e.data as { transport: string; name: string }).transport === transport &&
      (e.data as { name: string }).name === name,
  );
  return query(transport);
};
const query = (transport: string) =>
  lab
    .events('resolver')
    .filter((e) => e.kind === 'dns.query' && (e.data as { transport: string }).transport === transport);

if (!existsSync(KDIG))
  console.log('DoT/DoH kdig checks skipped: kdig missing (apt-get install knot-dnsutils)');

describe('DNS over TLS and HTTPS on the resolver', () => {
  beforeAll(async () => {
    lab = await startTestLab({
      block: '127.59',
      hosts: ['ca', 'ns-root', 'ns-tld', 'ns-example', 'resolver'],
    });
    resolver = lab.address('resolver');
    writeFileSync(rootPem, ((await lab.control('ca', 'ca.trust')) as { pem: string }).pem);
    await lab.waitFor((e) => e.host === 'resolver' && e.kind === 'dns.encrypted.ready', 15_000);
  }, 60_000);
  afterAll(async () => {
    await lab?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it.skipIf(!existsSync(KDIG))(
    'answers kdig +tls on port 853 with a certificate for resolver.test from the lab CA',
    async () => {
      const out = kdig(`-p`, String(port(853, lab.settings)), '+tls', 'www.example.test', 'A');
      expect(out).toMatch(/TLS session \(TLS1\.3\)/);
      expect(out).toMatch(/status: NOERROR/);
      expect(out).toMatch(/www\.example\.test\.\s+\d+\s+IN\s+CNAME\s+cdn\.example\.test\./);
      expect(out).toMatch(
        new RegExp(
          `cdn\\.example\\.test\\.\\s+\\d+\\s+IN\\s+A\\s+${lab.address('proxy').replace(/\./g, '\\.')}`,
        ),
      );
      expect((await queriesOver('dot')).map((e) => (e.data as { name: string }).name)).toContain(
        'www.example.test',
      );
    },
  );

  it.skipIf(!existsSync(KDIG))(
    'answers kdig +https by POST and by GET over HTTP/2 from the same cache',
    async () => {
      const p = String(port(443, lab.settings));
      const post = kdig('-p', p, '+https', 'www.example.test', 'A');
      expect(post).toMatch(/HTTP\/2-POST\)-\(resolver\.test\/dns-query\)-\(status: 200\)/);
      expect(post).toMatch(/status: NOERROR/);
      const get = kdig('-p', p, '+https', '+https-get', 'www.example.test', 'A');
      expect(get).toMatch(/HTTP\/2-GET\)-\(resolver\.test\/dns-query\)-\(status: 200\)/);
      expect(get).toMatch(/cdn\.example\.test\.\s+\d+\s+IN\s+A\s+/);
      // the DoT question above filled the cache the DoH ones are answered from
      const doh = await queriesOver('doh');
      await new Promise((r) => setTimeout(r, 200)); // the answers' events
      expect(doh.length).toBeGreaterThanOrEqual(2);
      const answers = lab
        .events('resolver')
        .filter((e) => e.kind === 'dns.answer' && doh.some((q) => q.span === e.parent));
      expect(answers.map((a) => (a.data as { source: string }).source)).toEqual(answers.map(() => 'cache'));
    },
  );

  it('lets curl --doh-url resolve a lab name through the resolver', async () => {
    const p = port(443, lab.settings);
    const r = spawnSync(
      'curl',
      [
        '-s',
        '--cacert',
        rootPem,
        '--resolve',
        `resolver.test:${p}:${resolver}`,
        '--doh-url',
        `https://resolver.test:${p}/dns-query`,
        '--connect-timeout',
        '3',
        '-v',
        '-o',
        '/dev/null',
        `http://www.example.test:${port(80, lab.settings)}/`,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    // no proxy runs in this lab: what matters is the address curl got from DoH and tried
    expect(r.stderr).toContain(`Trying ${lab.address('proxy')}:${port(80, lab.settings)}`);
    expect((await queriesOver('doh')).length).toBeGreaterThan(0);
  });

  it('refuses what is not a DoH request with a 4xx and keeps serving', () => {
    const p = port(443, lab.settings);
    const curl = (...args: string[]) =>
      spawnSync(
        'curl',
        [
          '-s',
          '--http2',
          '--cacert',
          rootPem,
          '--resolve',
          `resolver.test:${p}:${resolver}`,
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          ...args,
        ],
        { encoding: 'utf8', timeout: 10_000 },
      ).stdout;
    const base = `https://resolver.test:${p}`;
    expect(curl(`${base}/`)).toBe('404');
    expect(curl(`${base}/dns-query?dns=not*base64`)).toBe('400');
    expect(curl('-X', 'POST', '-H', 'content-type: text/plain', '--data', 'x', `${base}/dns-query`)).toBe(
      '415',
    );
    expect(curl('-X', 'PUT', `${base}/dns-query`)).toBe('405');
    // a malformed DNS message by POST: FORMERR inside a 200, as over UDP
    const formerr = spawnSync(
      'curl',
      [
        '-s',
        '--cacert',
        rootPem,
        '--resolve',
        `resolver.test:${p}:${resolver}`,
        '-H',
        'content-type: application/dns-message',
        '--data-binary',
        '@-',
        `${base}/dns-query`,
      ],
      {
        input: Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07]),
        timeout: 10_000,
      },
    ).stdout as unknown as Buffer;
    expect(formerr.length).toBeGreaterThanOrEqual(12);
    expect(formerr[3] & 0x0f).toBe(1); // RCODE FORMERR
    expect(kdig('-p', String(port(853, lab.settings)), '+tls', 'example.test', 'SOA')).toMatch(
      /status: NOERROR/,
    );
  });
});
