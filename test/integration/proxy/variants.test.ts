// The proxy's front end and cache on real sockets in front of a real HTTP backend that varies on
// X-API-Version: concurrent clients of different variants each get their own body (RFC 9111 §4.1),
// and Range requests get the right bytes (RFC 9110 §14). Loopback 127.0.0.1, ephemeral ports.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmitter, type LabEvent } from '../../../services/common/events.js';
import { type Backend, createBackend } from '../../../services/proxy/backend.js';
import { createFrontend } from '../../../services/proxy/frontend.js';
import { createPipe, type Pipe } from '../../../services/proxy/pipe.js';
import { ObjectStore } from '../../../services/proxy/store.js';
import { defaultVcl } from '../../../services/proxy/vcl.js';

const events: LabEvent[] = [];
let app: Server;
let proxy: Server;
let backend: Backend;
let pipe: Pipe;
let appFetches = 0;
let port = 0;

/** GET through the proxy with Host plain.example.test (not an HSTS name: no redirect to https). */
function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{
    status: number;
    headers: Record<string, unknown>;
    body: string;
    interim: { status: number; link: unknown }[];
  }>((ok, fail) => {
    const r = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        headers: { host: 'plain.example.test', ...headers },
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body, interim }));
      },
    );
    const interim: { status: number; link: unknown }[] = [];
    r.on('information', (i) => interim.push({ status: i.statusCode, link: i.headers.link }));
    r.on('error', fail);
    r.end();
  });
}

const listen = (s: Server) =>
  new Promise<number>((ok) => s.listen(0, '127.0.0.1', () => ok((s.address() as AddressInfo).port)));

beforeAll(async () => {
  app = createServer((req, res) => {
    if (req.url === '/hints') {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' });
      return setTimeout(() => res.end('page\n'), 30);
    }
    if (req.url === '/echo-headers') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return res.end(JSON.stringify(req.headers));
    }
    if (req.method === 'LINK') {
      res.writeHead(204, { location: '/linked' });
      return res.end();
    }
    appFetches++;
    // slow enough that every client arrives while the first fetch is in flight
    setTimeout(() => {
      const v = String(req.headers['x-api-version'] ?? '0');
      res.writeHead(200, {
        'content-type': 'text/plain',
        'cache-control': 'public, max-age=60',
        vary: 'Accept, X-API-Version',
      });
      res.end(req.url?.startsWith('/digits') ? '0123456789' : `variant ${v} of ${req.url}\n`);
    }, 50);
  });
  const appPort = await listen(app);
  const target = { host: '127.0.0.1', port: appPort, localAddress: '127.0.0.1', timeoutMs: 5000 };
  backend = createBackend({
    ...target,
    timeouts: () => ({ connectMs: 1000, firstByteMs: 5000, betweenBytesMs: 5000 }),
    probe: { path: '/', host: 'plain.example.test', intervalMs: 60_000 },
    onHealth: () => {},
  });
  pipe = createPipe(target);
  const { onRequest } = createFrontend({
    vcl: () => defaultVcl,
    events: createEmitter('proxy', (line) => events.push(JSON.parse(line))),
    store: new ObjectStore(1 << 20),
    backend,
    pipe,
    names: ['plain.example.test'],
    admins: new Set(['127.0.0.1']),
    who: () => 'test',
    httpsPort: 443,
  });
  proxy = createServer((req, res) => onRequest(req, res, 'http'));
  port = await listen(proxy);
});

afterAll(async () => {
  backend?.close();
  pipe?.close();
  await Promise.all([app, proxy].map((s) => new Promise((ok) => s?.close(ok))));
});

describe('the proxy on real sockets', () => {
  it('gives each of 50 concurrent clients over 5 variants its own variant, fetching each once', async () => {
    const versions = Array.from({ length: 50 }, (_, i) => String(1 + (i % 5)));
    const answers = await Promise.all(
      versions.map(async (v) => (await get('/api/thing', { 'x-api-version': v })).body),
    );
    expect(answers).toEqual(versions.map((v) => `variant ${v} of /api/thing\n`));
    expect(appFetches).toBe(5);
  });

  it('passes 103 Early Hints on to the client and never stores them (RFC 9110 §15.2)', async () => {
    const miss = await get('/hints');
    expect(miss.interim).toEqual([{ status: 103, link: '</style.css>; rel=preload; as=style' }]);
    const hit = await get('/hints');
    expect([hit.status, hit.headers['x-cache'], hit.body, hit.interim]).toEqual([200, 'HIT', 'page\n', []]);
  });

  it('sends the app no hop-by-hop field, nor any field the client named in Connection (RFC 9110 §7.6.1)', async () => {
    const seen = JSON.parse(
      (
        await get('/echo-headers', {
          connection: 'keep-alive, X-Secret',
          'keep-alive': 'timeout=5',
          'x-secret': 'for the proxy only',
          te: 'trailers',
          'x-kept': '1',
        })
      ).body,
    );
    expect(seen['x-kept']).toBe('1');
    expect(Object.keys(seen).filter((k) => ['x-secret', 'keep-alive', 'te'].includes(k))).toEqual([]);
  });

  it('invalidates the target and Location after a piped method of unknown safety (RFC 9111 §4.4)', async () => {
    for (const path of ['/linking', '/linked']) await get(path);
    expect((await get('/linking')).headers['x-cache']).toBe('HIT');
    expect((await get('/linking', {}, 'LINK')).status).toBe(204);
    expect(events.some((e) => e.kind === 'cache.lookup' && e.data?.result === 'pipe')).toBe(true);
    expect((await get('/linking')).headers['x-cache']).toBe('MISS');
    expect((await get('/linked')).headers['x-cache']).toBe('MISS');
  });

  it('answers a Range miss with 206 and the next plain request with the whole 200', async () => {
    const part = await get('/digits', { range: 'bytes=0-4' });
    expect([part.status, part.headers['content-range'], part.body]).toEqual([206, 'bytes 0-4/10', '01234']);
    const whole = await get('/digits');
    expect([whole.status, whole.headers['x-cache'], whole.body]).toEqual([200, 'HIT', '0123456789']);
    const none = await get('/digits', { range: 'bytes=10-' });
    expect([none.status, none.headers['content-range']]).toEqual([416, 'bytes */10']);
  });
});
