// The proxy checked by real clients (block 127.45) in front of the real CA and app: curl sees MISS
// then HIT with Age, h2 by ALPN, a stapled OCSP response in openssl s_client, 301 then HSTS, PURGE
// refused from outside the admin addresses, the smuggling list refused before the app sees it.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../services/common/settings.js';
import { startTestLab, type TestLab } from '../../support/lab.js';

const BLOCK = '127.45';
const PROXY = `${BLOCK}.2.80`;
const OUTSIDER = `${BLOCK}.99.1`; // on lo, but not an admin address
// set PROXY_TEST_PORT_OFFSET to run beside another lab on this block's standard ports
const OFFSET = Number(process.env.PROXY_TEST_PORT_OFFSET ?? 0);
const HTTPS = 443 + OFFSET;
const HTTP = 80 + OFFSET;
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'proxy-test-'));
const rootPem = join(dir, 'root.pem');
let lab: TestLab;

const haveRealHosts = ['ca', 'app'].every((s) =>
  existsSync(join(PROJECT_ROOT, 'dist/services', s, 'main.js')),
);

async function curl(...args: string[]) {
  const { stdout } = await run('curl', ['-s', '--max-time', '10', '-o', '/dev/null', '-D', '-', ...args]);
  return stdout;
}
const https = (path: string, ...args: string[]) =>
  curl(
    '--cacert',
    rootPem,
    '--resolve',
    `www.example.test:${HTTPS}:${PROXY}`,
    ...args,
    `https://www.example.test:${HTTPS}${path}`,
  );
const header = (raw: string, name: string) => new RegExp(`^${name}: *(.*?)\\r?$`, 'im').exec(raw)?.[1];
const status = (raw: string) => Number(/^HTTP\/[\d.]+ (\d{3})/.exec(raw)?.[1]);
/** openssl s_client to the proxy, trusting the lab root; SNI www.example.test unless other options say */
const sClient = (...options: string[]) =>
  spawnSync(
    'openssl',
    [
      's_client',
      '-connect',
      `${PROXY}:${HTTPS}`,
      ...(options.includes('-noservername') ? [] : ['-servername', 'www.example.test']),
      '-CAfile',
      rootPem,
      ...options,
    ],
    { input: '', encoding: 'utf8', timeout: 10_000 },
  ).stdout;

/** Sends raw bytes on a fresh connection and returns the first line of the answer. */
function raw(bytes: string, secure: boolean): Promise<string> {
  return new Promise((resolve) => {
    const s = secure
      ? tls.connect({
          host: PROXY,
          port: HTTPS,
          servername: 'www.example.test',
          ca: rootPemText,
          ALPNProtocols: ['http/1.1'],
        })
      : net.connect(HTTP, PROXY);
    let buf = '';
    s.on('data', (d) => {
      buf += d;
    });
    s.on('close', () => resolve(buf.split('\r\n')[0]));
    s.on('error', () => resolve(buf.split('\r\n')[0] || 'error'));
    s.once(secure ? 'secureConnect' : 'connect', () => s.write(bytes));
    setTimeout(() => s.destroy(), 3000);
  });
}
let rootPemText = '';

/**
 * Requests over one h2 connection, in turn, with Node's client (nghttp2): curl, nghttp and h2load
 * (nghttp2 1.52) never send a header block over 64 kB, Node's client does when told to.
 * Each answer is its status, or the RST_STREAM code when the stream was reset.
 */
async function h2Requests(requests: Record<string, string>[]): Promise<(number | string)[]> {
  const session = http2.connect(`https://www.example.test:${HTTPS}`, {
    maxSendHeaderBlockLength: 2 ** 20,
    createConnection: () =>
      tls.connect({
        host: PROXY,
        port: HTTPS,
        servername: 'www.example.test',
        ca: rootPemText,
        ALPNProtocols: ['h2'],
      }),
  });
  session.on('error', () => {});
  const out: (number | string)[] = [];
  try {
    for (const headers of requests)
      out.push(
        await new Promise<number | string>((resolve) => {
          const stream = session.request({ ':path': '/hej', ...headers }, { endStream: true });
          let status: number | undefined;
          stream.on('response', (h) => {
            status = Number(h[':status']);
          });
          stream.resume();
          stream.on('error', () => {});
          stream.on('close', () => resolve(status ?? `RST_STREAM ${stream.rstCode}`));
        }),
      );
  } finally {
    session.close();
  }
  return out;
}

beforeAll(async () => {
  expect(haveRealHosts, 'build first: dist/services/ca and dist/services/app').toBe(true);
  lab = await startTestLab({
    block: BLOCK,
    // the DNS hosts too: a renewal goes through ACME, whose http-01 check the CA makes by name
    hosts: ['ns-root', 'ns-tld', 'ns-example', 'resolver', 'ca', 'app', 'proxy'],
    env: OFFSET ? { LAB_PORT_OFFSET: String(OFFSET) } : {},
  });
  const { stdout } = await run('curl', ['-s', '--max-time', '5', `http://${BLOCK}.2.20:${HTTP}/root.pem`]);
  rootPemText = stdout;
  writeFileSync(rootPem, stdout);
}, 60_000);

afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

const backendFetches = (url: string) =>
  lab.events('proxy').filter((e) => e.kind === 'backend.fetch' && e.data?.url === url).length;

describe('proxy, checked by curl and openssl', () => {
  it('answers MISS then HIT with Age, without asking the app the second time', async () => {
    const first = await https('/hej');
    await new Promise((ok) => setTimeout(ok, 1100));
    const second = await https('/hej');
    expect(status(first)).toBe(200);
    expect(header(first, 'x-cache')).toBe('MISS');
    expect(header(second, 'x-cache')).toBe('HIT');
    expect(Number(header(second, 'age'))).toBeGreaterThanOrEqual(1);
    expect(header(second, 'via')).toMatch(/proxy/);
    expect(header(second, 'x-request-id')).toMatch(/^[0-9a-f]{16}$/);
    expect(backendFetches('www.example.test/hej')).toBe(1);
    const store = lab.events('proxy').find((e) => e.kind === 'cache.store');
    expect(store?.data).toMatchObject({ from: expect.any(String), ttl: expect.any(Number) });
  });

  it('carries the trace: the app sees the traceparent curl sent', async () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    await https('/hej?trace', '-H', `traceparent: 00-${trace}-00f067aa0ba902b7-01`);
    const ev = await lab.waitFor((e) => e.host === 'proxy' && e.kind === 'http.request' && e.trace === trace);
    expect(ev.data).toMatchObject({ url: '/hej?trace' });
    await lab.waitFor((e) => e.host === 'app' && e.trace === trace);
  });

  it('negotiates h2 by ALPN, and HTTP/1.1 when asked', async () => {
    const { stdout: h2 } = await run('curl', [
      '-s',
      '--http2',
      '-o',
      '/dev/null',
      '-w',
      '%{http_version}',
      '--cacert',
      rootPem,
      '--resolve',
      `www.example.test:${HTTPS}:${PROXY}`,
      `https://www.example.test:${HTTPS}/hej`,
    ]);
    const { stdout: h1 } = await run('curl', [
      '-s',
      '--http1.1',
      '-o',
      '/dev/null',
      '-w',
      '%{http_version}',
      '--cacert',
      rootPem,
      '--resolve',
      `www.example.test:${HTTPS}:${PROXY}`,
      `https://www.example.test:${HTTPS}/hej`,
    ]);
    expect([h2, h1]).toEqual(['2', '1.1']);
    expect(lab.events('proxy').some((e) => e.kind === 'tls.handshake' && e.data?.alpn === 'h2')).toBe(true);
  });

  it('staples a good OCSP response (openssl s_client -status)', async () => {
    const r = { stdout: sClient('-status') };
    expect(r.stdout).toMatch(/OCSP Response Status: successful/);
    expect(r.stdout).toMatch(/Cert Status: good/);
    expect(r.stdout).toMatch(/Verify return code: 0 \(ok\)/);
    // the event says so too (read after openssl exits: spawnSync held the event loop)
    await lab.waitFor((e) => e.host === 'proxy' && e.kind === 'tls.handshake' && e.data?.stapled === true);
  });

  it('resumes a TLS session from its ticket', async () => {
    const sess = join(dir, 'session.pem');
    const first = { stdout: sClient('-tls1_2', '-sess_out', sess) };
    const again = { stdout: sClient('-tls1_2', '-sess_in', sess) };
    expect(first.stdout).toMatch(/^New, TLSv1\.2/m);
    expect(again.stdout).toMatch(/^Reused, TLSv1\.2/m);
    await lab.waitFor((e) => e.host === 'proxy' && e.kind === 'tls.handshake' && e.data?.resumed === true);
  });

  it('renews its certificate at run time: openssl sees the new serial stapled good, old tickets are not resumed', async () => {
    const before = (await lab.control('proxy', 'tls.info')) as { serial: string; staple: string };
    expect(before.staple).toBe('good');
    const renewed = (await lab.control('proxy', 'tls.renew')) as { serial: string; staple: string };
    expect(renewed.serial).not.toBe(before.serial);
    expect(renewed.staple).toBe('good');
    const served = (sni: string[]) => {
      // read without -status: with it, s_client prints the OCSP responder's certificate first
      const serial = spawnSync('openssl', ['x509', '-noout', '-serial'], {
        input: sClient(...sni),
        encoding: 'utf8',
      });
      return {
        out: sClient(...sni, '-status'),
        serial: serial.stdout
          .trim()
          .replace(/^serial=/, '')
          .toLowerCase(),
      };
    };
    for (const sni of [[], ['-noservername']]) {
      const r = served(sni);
      expect(r.serial, sni.join(' ') || 'SNI www.example.test').toBe(renewed.serial.toLowerCase());
      expect(r.out).toMatch(/Cert Status: good/);
    }
    // the ticket saved before the renewal names the old certificate: a full handshake follows
    const again = { stdout: sClient('-tls1_2', '-sess_in', join(dir, 'session.pem')) };
    expect(again.stdout).toMatch(/^New, TLSv1\.2/m);
    await lab.waitFor(
      (e) => e.host === 'proxy' && e.kind === 'tls.renew' && e.data?.serial === renewed.serial,
    );
  });

  it('answers unknown control commands with the list it knows, and ocsp.refresh with the status', async () => {
    await expect(lab.control('proxy', 'tls.nope')).rejects.toThrow(/tls\.renew/);
    expect(await lab.control('proxy', 'ocsp.refresh')).toMatchObject({ status: 'good' });
  });

  it('sends plain HTTP to https with 301, and HSTS over https', async () => {
    const plain = await curl(
      '--resolve',
      `www.example.test:${HTTP}:${PROXY}`,
      `http://www.example.test:${HTTP}/hej`,
    );
    expect(status(plain)).toBe(301);
    expect(header(plain, 'location')).toBe(`https://www.example.test${HTTPS === 443 ? '' : `:${HTTPS}`}/hej`);
    expect(header(plain, 'strict-transport-security')).toBeUndefined();
    expect(header(await https('/hej'), 'strict-transport-security')).toMatch(/max-age=\d+/);
  });

  it('refuses PURGE from outside the admin addresses and obeys it from 127.0.0.1', async () => {
    const url = `http://www.example.test:${HTTP}/hej`;
    const outsider = await curl(
      '-X',
      'PURGE',
      '--interface',
      OUTSIDER,
      '--resolve',
      `www.example.test:${HTTP}:${PROXY}`,
      url,
    );
    expect(status(outsider)).toBe(403);
    expect(header(await https('/hej'), 'x-cache')).toBe('HIT');
    const admin = await curl(
      '-X',
      'PURGE',
      '--interface',
      '127.0.0.1',
      '--resolve',
      `www.example.test:${HTTP}:${PROXY}`,
      url,
    );
    expect(status(admin)).toBe(200);
    expect(header(await https('/hej'), 'x-cache')).toBe('MISS');
    expect(lab.events('proxy').some((e) => e.kind === 'cache.purge' && e.data?.removed === 1)).toBe(true);
  });

  it('purges, bans and counts through the control channel (lab cache)', async () => {
    await https('/hej?ban=1');
    expect(await lab.control('proxy', 'cache.ban', { regex: '^www\\.example\\.test/hej\\?ban' })).toEqual({
      removed: 1,
    });
    const stats = (await lab.control('proxy', 'cache.stats')) as Record<string, number>;
    expect(stats.hits).toBeGreaterThan(0);
    expect(stats.objects).toBeGreaterThan(0);
    expect(stats.bytes).toBeLessThanOrEqual(stats.maxBytes);
  });
});

describe('a VCL loaded at run time (lab cache vcl use)', () => {
  const use = (file: string, text: string) => lab.control('proxy', 'cache.vcl.use', { file, text });
  const workshop = [
    'export default {',
    '  recvRules: {',
    '    vcl_req_workshop(req) {',
    "      if (req.url.startsWith('/hej?workshop')) return { action: 'pass', why: 'the workshop never caches it' };",
    '    },',
    '  },',
    '};',
  ].join('\n');

  it('refuses a file that does not parse, naming the file and line, and keeps the VCL in use', async () => {
    await expect(
      use('/workshop/broken.mjs', workshop.replace("{ action: 'pass',", "{ action: 'pass';")),
    ).rejects.toThrow(/^\/workshop\/broken\.mjs:4: does not parse: /);
    expect(await lab.control('proxy', 'cache.vcl')).toMatchObject({ name: 'default', file: null });
    expect(header(await https('/hej?workshop=1'), 'x-cache')).toBe('MISS');
  });

  it("runs a loaded file's rules from the next request on, names them in the events, and goes back to the default", async () => {
    expect(await use('/workshop/workshop.mjs', workshop)).toMatchObject({
      name: 'workshop.mjs',
      overridden: ['vcl_req_workshop'],
      recvRules: expect.arrayContaining(['vcl_req_cookie', 'vcl_req_workshop']),
    });
    await lab.waitFor((e) => e.host === 'proxy' && e.kind === 'cache.vcl' && e.data?.name === 'workshop.mjs');
    // stored under the default VCL, passed under the workshop's
    expect(header(await https('/hej?workshop=1'), 'x-cache')).toBe('PASS');
    const decided = await lab.waitFor(
      (e) =>
        e.kind === 'cache.lookup' &&
        e.data?.url === 'www.example.test/hej?workshop=1' &&
        e.data?.result === 'pass',
    );
    expect(decided.data).toMatchObject({ rule: 'vcl_req_workshop', vcl: 'workshop.mjs' });
    expect(await lab.control('proxy', 'cache.vcl.use', { default: true })).toMatchObject({ name: 'default' });
    expect(header(await https('/hej?workshop=1'), 'x-cache')).toBe('HIT');
  });
});

describe('proxy, bad input', () => {
  const H = 'Host: www.example.test\r\n';
  const vectors: Record<string, string> = {
    'Content-Length with Transfer-Encoding': `POST /smuggle1 HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    'duplicate Content-Length': `POST /smuggle2 HTTP/1.1\r\n${H}Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde`,
    'obs-fold': `GET /smuggle3 HTTP/1.1\r\n${H}X-Folded: a\r\n  b\r\n\r\n`,
    'bad chunk size': `POST /smuggle4 HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`,
    'bare LF': `GET /smuggle5 HTTP/1.1\n${H.trim()}\n\n`,
    'Transfer-Encoding not ending in chunked': `POST /smuggle6 HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
    'Content-Length list': `POST /smuggle7 HTTP/1.1\r\n${H}Content-Length: 4, 5\r\n\r\nabcd`,
    'space before colon': `POST /smuggle8 HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
  };
  for (const [name, bytes] of Object.entries(vectors)) {
    it(`refuses ${name} with 400 on both ports, and the app never sees it`, async () => {
      expect(await raw(bytes, false)).toBe('HTTP/1.1 400 Bad Request');
      expect(await raw(bytes, true)).toBe('HTTP/1.1 400 Bad Request');
      const path = /^\S+ (\S+)/.exec(bytes)?.[1] ?? '';
      expect(
        lab.events('proxy').filter((e) => e.kind === 'backend.fetch' && String(e.data?.url).endsWith(path)),
      ).toEqual([]);
    });
  }

  it('refuses two Host fields, and HTTP/1.1 without Host, with 400 on both ports (RFC 9112 §3.2)', async () => {
    for (const secure of [false, true]) {
      expect(await raw(`GET /two-hosts HTTP/1.1\r\n${H}Host: evil.test\r\n\r\n`, secure)).toBe(
        'HTTP/1.1 400 Bad Request',
      );
      expect(await raw('GET /no-host HTTP/1.1\r\nConnection: close\r\n\r\n', secure)).toBe(
        'HTTP/1.1 400 Bad Request',
      );
    }
  });

  it('answers an overlong URI with 414, not 431 (RFC 9110 §15.5.15)', async () => {
    for (const secure of [false, true]) {
      expect(await raw(`GET /${'u'.repeat(9_000)} HTTP/1.1\r\n${H}\r\n`, secure)).toMatch(/^HTTP\/1.1 414 /);
      expect(await raw(`GET /${'u'.repeat(20_000)} HTTP/1.1\r\n${H}\r\n`, secure)).toMatch(/^HTTP\/1.1 414 /);
    }
  });

  it('accepts 12 kB of headers and refuses 300 fields with 431, the same over h1 and h2 (RFC 9110 §15.5.20)', async () => {
    const many = Array.from({ length: 300 }, (_, i) => ['-H', `x-${i}: 1`]).flat();
    for (const version of ['--http1.1', '--http2']) {
      expect(status(await https('/hej', version, '-H', `x-big: ${'a'.repeat(12_000)}`)), version).toBe(200);
      expect(status(await https('/hej', version, ...many)), version).toBe(431);
    }
  });

  it('answers a 70 kB header with 431 over h1 and h2, and resets only the stream above the h2 transport bound', async () => {
    const big = (n: number) => 'a'.repeat(n);
    expect(status(await https('/hej', '--http1.1', '-H', `x-big: ${big(70_000)}`))).toBe(431);
    // the biggest header block curl sends over h2 (its nghttp2 refuses one over 64 kB itself)
    expect(status(await https('/hej', '--http2', '-H', `x-big: ${big(60_000)}`))).toBe(431);
    // one connection: before and after the client acknowledged the proxy's SETTINGS
    expect(
      await h2Requests([
        { 'x-big': big(70_000) },
        { 'x-big': big(70_000) },
        // beyond SETTINGS_MAX_HEADER_LIST_SIZE (128 kB): that stream is reset, the connection goes on
        { 'x-a': big(50_000), 'x-b': big(50_000), 'x-c': big(50_000) },
        {},
      ]),
    ).toEqual([431, 431, `RST_STREAM ${http2.constants.NGHTTP2_ENHANCE_YOUR_CALM}`, 200]);
  });

  it('answers oversized headers with 431', async () => {
    expect(await raw(`GET /big HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`, false)).toBe(
      'HTTP/1.1 431 Request Header Fields Too Large',
    );
    expect(await raw(`GET /big HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`, true)).toBe(
      'HTTP/1.1 431 Request Header Fields Too Large',
    );
  });

  it('cuts a slowloris client off by the headers timeout, while others are served', async () => {
    const slow = net.connect(HTTP, PROXY);
    await new Promise((ok) => slow.once('connect', ok));
    slow.write(`GET /slow HTTP/1.1\r\n${H}`);
    let answer = '';
    slow.on('data', (d) => {
      answer += d;
    });
    const drip = setInterval(() => slow.writable && slow.write('X-Drip: 1\r\n'), 1000);
    const closed = new Promise<number>((ok) => {
      const t0 = Date.now();
      slow.on('close', () => ok(Date.now() - t0));
      slow.on('error', () => {});
    });
    expect(header(await https('/hej'), 'x-cache')).toMatch(/HIT|MISS/);
    const ms = await closed;
    clearInterval(drip);
    expect(ms).toBeLessThan(25_000);
    expect(answer).toMatch(/^HTTP\/1.1 408/);
  }, 30_000);

  it('ends a bad ClientHello connection only', async () => {
    const garbage = await new Promise<string>((ok) => {
      const s = net.connect(HTTPS, PROXY, () => s.write(Buffer.from('16030100050100000100deadbeef', 'hex')));
      let got = '';
      s.on('data', (d) => {
        got += d.toString('hex');
      });
      s.on('close', () => ok(got));
      s.on('error', () => ok(got));
    });
    expect(garbage.startsWith('15')).toBe(true); // a TLS alert record, then close
    expect(status(await https('/hej'))).toBe(200);
  });
});
