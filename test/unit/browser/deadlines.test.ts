// Every network step of the browser ends: a server that never answers the ClientHello, a request,
// or the rest of a body yields ERR_TIMED_OUT at that step, the next page still loads, and a
// resolver's SERVFAIL is reported as such, with its EDE text (as Chrome's net-internals shows it).
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createSecureServer } from 'node:http2';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetError } from '../../../services/browser/connect.js';
import { BrowserContext } from '../../../services/browser/context.js';
import { parseResolvConf } from '../../../services/browser/resolve.js';
import {
  decodeMessage,
  edeOption,
  encodeMessage,
  makeFlags,
  makeOpt,
  RCODE,
} from '../../../services/common/dns/codec.js';
import { createEmitter } from '../../../services/common/events.js';

const dir = mkdtempSync(join(tmpdir(), 'enterlab-deadlines-'));
const hostsPath = join(dir, 'hosts');
writeFileSync(hostsPath, '');
const SHORT = { tlsMs: 300, responseIdleMs: 300 };
let dnsPort = 0;

function browser(): BrowserContext {
  return new BrowserContext({
    events: createEmitter('browser', () => {}),
    profile: mkdtempSync(join(dir, 'profile-')),
    hostsPath,
    resolvConf: () => parseResolvConf('nameserver 127.0.0.1\noptions timeout:1 attempts:1'),
    dnsPort,
    source: (family) => (family === 4 ? '127.0.0.1' : undefined),
    caPem: async () => readFileSync(join(dir, 'cert.pem'), 'utf8'),
  });
}

/** One page load's connection pools, with short deadlines. */
function engine(context = browser()) {
  return context.network({ keylog: () => {}, hardFailRevocation: false, http1Only: false, timeouts: SHORT });
}

async function failure(p: Promise<unknown>): Promise<NetError> {
  try {
    await p;
  } catch (err) {
    return err as NetError;
  }
  throw new Error('it did not fail');
}

const listen = (s: Server | TcpServer | ReturnType<typeof createSecureServer>) =>
  new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));

const servers: { close(): void }[] = [];
let silentTcp = 0; // takes the connection, says nothing (no ServerHello)
let silentHttp = 0; // reads the request, never answers
let stallingBody = 0; // sends headers and half the body, then nothing
let silentH2 = 0; // TLS and h2 settings, then no response to the stream
let answering = 0; // a working page
let badGzip = 0; // says gzip, sends plain text

beforeAll(async () => {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const tcp = createTcpServer(() => {});
  silentTcp = await listen(tcp);
  const h1 = createHttpServer(() => {});
  silentHttp = await listen(h1);
  const stall = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('x'.repeat(50));
  });
  stallingBody = await listen(stall);
  const h2 = createSecureServer(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    () => {},
  );
  silentH2 = await listen(h2);
  const ok = createHttpServer((_req, res) => res.end('hej'));
  answering = await listen(ok);
  const notGzip = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-encoding': 'gzip' });
    res.end('not gzip at all');
  });
  badGzip = await listen(notGzip);
  const dns = createSocket('udp4');
  dns.on('message', (msg, from) => {
    const q = decodeMessage(msg);
    const answer = encodeMessage({
      id: q.id,
      type: 'response',
      flags: makeFlags({ rd: true, ra: true, rcode: RCODE.SERVFAIL }),
      questions: q.questions,
      answers: [],
      authorities: [],
      additionals: [makeOpt({ options: [edeOption(22, 'every server of example.test is unreachable')] })],
    });
    dns.send(answer, from.port, from.address);
  });
  await new Promise<void>((r) => dns.bind(0, '127.0.0.1', () => r()));
  dnsPort = dns.address().port;
  for (const s of [tcp, h1, stall, h2, ok, notGzip]) servers.push(s);
  servers.push({ close: () => dns.close() });
});
afterAll(() => {
  for (const s of servers) s.close();
});

describe('browser deadlines (every network step ends)', () => {
  it('gives up on a TLS handshake that is never answered: ERR_TIMED_OUT at tls.handshake', async () => {
    const e = await failure(engine().request(new URL(`https://127.0.0.1:${silentTcp}/`), 'GET', {}));
    expect(e.code).toBe('ERR_TIMED_OUT');
    expect(e.step).toBe('tls.handshake');
  });

  it('gives up on a request that gets no response: ERR_TIMED_OUT at http.response', async () => {
    const e = await failure(engine().request(new URL(`http://127.0.0.1:${silentHttp}/`), 'GET', {}));
    expect(e.code).toBe('ERR_TIMED_OUT');
    expect(e.step).toBe('http.response');
    expect(e.message).toMatch(/no response/);
  });

  it('gives up on a body that stops arriving: ERR_TIMED_OUT', async () => {
    const e = await failure(engine().request(new URL(`http://127.0.0.1:${stallingBody}/`), 'GET', {}));
    expect(e.code).toBe('ERR_TIMED_OUT');
    expect(e.message).toMatch(/more of the body/);
  });

  it('gives up on an HTTP/2 stream that gets no response: ERR_TIMED_OUT', async () => {
    const eng = engine();
    const e = await failure(eng.request(new URL(`https://127.0.0.1:${silentH2}/`), 'GET', {}));
    expect(e.code).toBe('ERR_TIMED_OUT');
    await eng.closeAll();
  });

  it('loads the next page after a failed one, on the same connection pools', async () => {
    const eng = engine();
    await failure(eng.request(new URL(`http://127.0.0.1:${silentHttp}/`), 'GET', {}));
    await eng.closeAll();
    const r = await eng.request(new URL(`http://127.0.0.1:${answering}/`), 'GET', {});
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('hej');
  });
});

describe('a body that does not decode', () => {
  it('fails the request with ERR_CONTENT_DECODING_FAILED (and the browser lives on)', async () => {
    const e = await failure(engine().request(new URL(`http://127.0.0.1:${badGzip}/`), 'GET', {}));
    expect([e.code, e.step]).toEqual(['ERR_CONTENT_DECODING_FAILED', 'http.response']);
  });
});

describe('a resolver that answers SERVFAIL (issue 23)', () => {
  it('reports the SERVFAIL and its EDE text, not "did not answer"', async () => {
    const e = await failure(browser().hosts.resolve('www.example.test'));
    expect(e.code).toBe('ERR_NAME_NOT_RESOLVED');
    expect(e.message).toContain('SERVFAIL (EDE 22: every server of example.test is unreachable)');
    expect(e.message).not.toMatch(/did not answer/);
  });
});
