// The browser against the real lab (block 127.46): ns-root, ns-tld, ns-example, ca, resolver, app,
// web2, proxy from dist/. A cold page load end to end, the HAR and key log it leaves, the DNS cache
// and hosts file, and bad input — closed port, reset, truncated body, bad chunk, wrong name,
// unknown name — each a Chrome error with its step and a HAR entry, never a stack trace.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import Ajv from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crlStatus, crlUrlOf } from '../../../services/browser/crl.js';
import type { LabEvent } from '../../../services/common/events.js';
import { PROJECT_ROOT } from '../../../services/common/settings.js';
import { startTestLab, type TestLab } from '../../support/lab.js';

const BLOCK = '127.46';
const BAD_SERVER = `${BLOCK}.9.1`; // a misbehaving web server of our own, on lo
const HOSTS = ['ns-root', 'ns-tld', 'ns-example', 'ca', 'resolver', 'app', 'proxy', 'web2', 'browser'];
const built = HOSTS.every((h) =>
  existsSync(
    join(
      PROJECT_ROOT,
      'dist/services',
      h.startsWith('ns-') ? 'nameserver' : h === 'web2' ? 'app' : h,
      'main.js',
    ),
  ),
);
const runDir = mkdtempSync(join(tmpdir(), 'browser-run-'));
let lab: TestLab;
let bad: net.Server;

interface Result {
  status?: number;
  finalUrl?: string;
  error?: { code: string; step: string; message: string };
  painted: string[];
  waterfall: string[];
  har: { log: { entries: { request: { url: string }; response: { status: number }; _error?: string }[] } };
  trace: string;
}
const browse = (text: string, args: Record<string, unknown> = {}) =>
  lab.control('browser', 'browse', { text, runDir, ...args }) as Promise<Result>;
const since = (n: number, kind: string) =>
  lab
    .events('browser')
    .slice(n)
    .filter((e) => e.kind === kind);

/** what each bad host does with the request */
const misbehave: Record<string, (s: net.Socket) => void> = {
  'reset.test': (s) => s.resetAndDestroy(),
  'trunc.test': (s) =>
    s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: text/html\r\n\r\n<p>short'),
  'garbage.test': (s) => s.end('SSH-2.0-OpenSSH_9.2\r\n'),
  'chunk.test': (s) =>
    s.end(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html\r\n\r\nzz\r\nnot hex\r\n',
    ),
};

describe.skipIf(!built)('browser on the real lab', () => {
  beforeAll(async () => {
    lab = await startTestLab({ block: BLOCK, hosts: HOSTS });
    bad = net.createServer((s) => {
      s.once('data', (d) => {
        const host = /\r\nhost: ([^\r:]+)/i.exec(d.toString())?.[1] ?? '';
        (misbehave[host] ?? ((x: net.Socket) => x.destroy()))(s);
      });
      s.on('error', () => {});
    });
    await new Promise<void>((ok) => bad.listen(80 + lab.settings.portOffset, BAD_SERVER, ok));
    for (const name of Object.keys(misbehave))
      await lab.control('browser', 'hosts.add', { name, address: BAD_SERVER });
  }, 60_000);
  afterAll(async () => {
    bad?.close();
    await lab?.close();
    rmSync(runDir, { recursive: true, force: true });
  });

  it('loads the page end to end on a cold lab: DNS, 4-tuple from its own address, TLS, h2, subresources', async () => {
    const n = lab.events('browser').length;
    const r = await browse('www.example.test/hej#photos');
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(200);
    expect(r.finalUrl).toBe('https://www.example.test/hej#photos'); // the address bar keeps it
    expect(r.painted.join('\n')).toMatch(/Hej!/);
    expect(r.waterfall.length).toBeGreaterThan(5);
    const stub = since(n, 'dns.stub').find((e) => e.data?.name === 'www.example.test');
    expect(stub?.peer).toContain(lab.address('resolver'));
    const connect = since(n, 'tcp.connect')[0] as LabEvent;
    expect(connect.data).toMatchObject({ src: lab.address('browser'), dport: 443 });
    expect(Number(connect.data?.sport)).toBeGreaterThan(1023);
    expect(since(n, 'tls.handshake')[0].data).toMatchObject({ sni: 'www.example.test', alpn: 'h2' });
    expect(since(n, 'ocsp.check')[0].data).toMatchObject({ status: 'good' });
    const requests = since(n, 'http.request');
    expect(requests.every((e) => !String(e.data?.url).includes('#'))).toBe(true);
    expect(requests.every((e) => e.trace === r.trace || e.trace === undefined)).toBe(true);
    // the proxy and the app joined the same W3C trace
    const traced = lab.events().filter((e) => e.trace === r.trace);
    expect(new Set(traced.map((e) => e.host))).toEqual(
      expect.objectContaining(new Set(['browser', 'proxy'])),
    );
    expect(requests.length).toBeGreaterThanOrEqual(12);
  }, 30_000);

  it('leaves browser.har valid against HAR 1.2, and an NSS key log with TLS 1.3 secrets', () => {
    const har = JSON.parse(readFileSync(join(runDir, 'browser.har'), 'utf8'));
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(
      JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/support/har-1.2.schema.json'), 'utf8')),
    );
    expect(validate(har), JSON.stringify(validate.errors)).toBe(true);
    expect(har.log.entries[0].connection).toBeDefined();
    const keys = readFileSync(join(runDir, 'tls-keys.log'), 'utf8');
    expect(keys).toMatch(/^CLIENT_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]{64} [0-9a-f]{64,}$/m);
    expect(keys).toMatch(/^CLIENT_TRAFFIC_SECRET_0 /m);
  });

  it('a second visit asks no DNS: the browser DNS cache answers', async () => {
    const n = lab.events('browser').length;
    const r = await browse('https://www.example.test/hej', { noCache: true });
    expect(r.status).toBe(200);
    expect(since(n, 'dns.stub')).toHaveLength(0);
    expect(since(n, 'dns.cache').length).toBeGreaterThan(0);
  }, 20_000);

  it('lab hosts add: the next visit sends no DNS query and the other server answers', async () => {
    await lab.control('browser', 'hosts.add', { name: 'www.example.test', address: lab.address('web2') });
    try {
      const n = lab.events('browser').length;
      const nr = lab.events('resolver').length;
      const r = await browse('http://www.example.test/', { noCache: true });
      expect(since(n, 'dns.stub').filter((e) => e.data?.name === 'www.example.test')).toHaveLength(0);
      expect(since(n, 'dns.hosts')[0].data).toMatchObject({ name: 'www.example.test' });
      const asked = lab
        .events('resolver')
        .slice(nr)
        .filter((e) => e.kind === 'dns.query');
      expect(
        asked.filter((e) => JSON.stringify(e.data).includes('www.example.test')),
        JSON.stringify(asked),
      ).toHaveLength(0);
      expect(since(n, 'tcp.connect')[0].data).toMatchObject({ dst: lab.address('web2') });
      expect(r.error?.code ?? r.status).toBeDefined();
    } finally {
      await lab.control('browser', 'hosts.rm', { name: 'www.example.test' });
    }
  }, 20_000);

  it("reads the CA's real CRL (the fallback after OCSP): the proxy's certificate is not on it", async () => {
    const peer = await new Promise<tls.DetailedPeerCertificate>((ok, bad) => {
      const s = tls.connect(
        {
          host: lab.address('proxy'),
          port: 443 + lab.settings.portOffset,
          servername: 'www.example.test',
          rejectUnauthorized: false,
        },
        () => {
          ok(s.getPeerCertificate(true));
          s.end();
        },
      );
      s.on('error', bad);
    });
    const url = crlUrlOf(peer.raw);
    expect(url).toBe('http://ca.test/crl/intermediate.crl');
    const res = await fetch(
      `http://${lab.address('ca')}:${80 + lab.settings.portOffset}/crl/intermediate.crl`,
    );
    expect(res.status).toBe(200);
    const crl = Buffer.from(await res.arrayBuffer());
    const verdict = await crlStatus(crl, peer.raw, peer.issuerCertificate.raw);
    expect(verdict.status).toBe('good');
    // signed by someone else: refused
    await expect(crlStatus(crl, peer.raw, peer.raw)).rejects.toThrow(/signature/);
  });

  const cases: [string, string, RegExp][] = [
    ['https://nope.example.test/', 'ERR_NAME_NOT_RESOLVED', /dns/],
    [`https://www.example.test:8443/`, 'ERR_CONNECTION_REFUSED', /tcp/],
    [`https://${BLOCK}.2.80/`, 'ERR_CERT_COMMON_NAME_INVALID', /tls/],
    ['http://reset.test/', 'ERR_CONNECTION_RESET', /http|tcp/],
    ['http://trunc.test/', 'ERR_CONTENT_LENGTH_MISMATCH', /http/],
    ['http://chunk.test/', 'ERR_INVALID_CHUNKED_ENCODING', /http/],
    ['http://garbage.test/', 'ERR_INVALID_HTTP_RESPONSE', /http/],
  ];
  for (const [url, code, step] of cases)
    it(`${url} ends in ${code} with its step and a HAR entry`, async () => {
      const n = lab.events('browser').length;
      const r = await browse(url, { noCache: true });
      expect(r.error?.code, JSON.stringify(r.error)).toBe(code);
      expect(r.error?.step).toMatch(step);
      expect(r.error?.message).not.toMatch(/\n\s+at /); // no stack trace
      expect(since(n, 'page.error')[0].data).toMatchObject({ code });
      expect(r.har.log.entries.length).toBeGreaterThan(0);
    }, 20_000);
});
