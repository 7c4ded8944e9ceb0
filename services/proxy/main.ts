// The proxy: TLS termination (h2 and HTTP/1.1, OCSP stapling), an RFC 9111 cache run as Varnish's
// state machine (vcl.ts), and the app server behind it.
//
// Events (contract v1):
//   tls.handshake   a TLS session set up       data {sni, alpn, version, cipher, resumed, stapled, client}
//   http.request    a request arrived         data {method, host, url, scheme, httpVersion, client, requestId}; trace
//   cache.lookup    hit | miss | stale | pass data {result, why, url, age?}
//   backend.fetch   a fetch from the app      data {url, status, ms, conditional}
//   cache.store     stored, with the TTL      data {ttl, from, grace, vary}      (or cache.uncacheable {why})
//   http.response   what went back            data {status, xCache, bytes, ms}
//   http.redirect   port 80 sent to https     data {location}
//   cache.purge     PURGE or ban              data {target, removed, by}
//   backend.health  the probe changed its mind   data {healthy, why}
//   ocsp.staple     a stapled OCSP response fetched   data {status, nextUpdate}
import { randomBytes } from 'node:crypto';
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Server } from 'node:net';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { obtainCertificate } from '../common/certificate.js';
import { guard, runService } from '../common/service.js';
import { addressOf, hostAt } from '../common/settings.js';
import { hostSpec, networks } from '../common/topology.js';
import { nextTraceparent } from '../common/trace.js';
import { createBackend } from './backend.js';
import { type Delivery, handleRequest, synth } from './flow.js';
import { fetchStaple } from './staple.js';
import { ObjectStore } from './store.js';
import { defaultVcl, HSTS_HEADER, HSTS_NAMES, type ProxyRequest } from './vcl.js';

const CACHE_BYTES = Number(process.env.LAB_PROXY_CACHE_BYTES ?? 256 * 2 ** 20);

await runService('proxy', async (ctx) => {
  const s = ctx.settings;
  const names = hostSpec('proxy').names ?? [];
  const backendSide = ctx.address('backend');
  const store = new ObjectStore(CACHE_BYTES);
  const who = (a: string) => hostAt(a.replace(/^::ffff:/, ''), s) ?? a.replace(/^::ffff:/, '');
  const admins = new Set(['127.0.0.1', '::1', ...networks.map((n) => `172.28.${n.index}.1`)]);

  const backend = createBackend({
    host: addressOf('app', s, 'backend'),
    port: ctx.port(80),
    localAddress: backendSide,
    timeoutMs: 5000,
    probe: { path: '/hej', host: 'www.example.test', intervalMs: 2000 },
    onHealth: (healthy, why) =>
      ctx.events.emit({
        kind: 'backend.health',
        summary: `the app is ${healthy ? 'healthy again' : 'sick'}: ${why}`,
        data: { healthy, why },
      }),
  });

  // TLS: a chain from the lab CA for every name the proxy serves; others added at run time
  const cert = await obtainCertificate(s, ctx.stateDir, ctx.address(), names);
  const contexts = new Map<string, SecureContext>();
  let staple: Buffer | undefined;
  const defaultContext = createSecureContext({ key: cert.key, cert: cert.chain });
  for (const n of names) contexts.set(n, defaultContext);

  const refreshStaple = async () => {
    try {
      const r = await fetchStaple(s, ctx.address(), cert.chain);
      staple = r.der;
      ctx.events.emit({
        kind: 'ocsp.staple',
        summary: `fetched an OCSP response to staple: ${r.status}, valid until ${r.nextUpdate.toISOString()}`,
        data: { status: r.status, nextUpdate: r.nextUpdate.toISOString() },
      });
      return Math.max(60_000, r.nextUpdate.getTime() - Date.now() - 600_000); // refresh 10 min before nextUpdate
    } catch (err) {
      ctx.events.emit({
        kind: 'ocsp.staple',
        summary: `could not fetch an OCSP response to staple: ${(err as Error).message}`,
        data: { status: 'error' },
      });
      return 30_000;
    }
  };
  let stapleTimer: NodeJS.Timeout | undefined;
  const scheduleStaple = async () => {
    stapleTimer = setTimeout(() => void scheduleStaple(), await refreshStaple());
    stapleTimer.unref();
  };
  await scheduleStaple();

  const backendHeaders = (p: ProxyRequest, trace: string, requestId: string): Record<string, string> => ({
    host: p.host,
    'x-forwarded-for': p.headers['x-forwarded-for']
      ? `${p.headers['x-forwarded-for']}, ${p.clientIp}`
      : p.clientIp,
    'x-forwarded-proto': p.tls ? 'https' : 'http',
    forwarded: `for=${p.clientIp.includes(':') ? `"[${p.clientIp}]"` : p.clientIp};proto=${p.tls ? 'https' : 'http'};host=${p.host}`,
    via: '1.1 proxy (enterlab)',
    traceparent: trace,
    'x-request-id': requestId,
  });

  const serve = async (
    req: IncomingMessage | Http2ServerRequest,
    res: ServerResponse | Http2ServerResponse,
    scheme: 'http' | 'https',
  ) => {
    const t0 = performance.now();
    const client = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const host = String(req.headers[':authority'] ?? req.headers.host ?? '')
      .toLowerCase()
      .replace(/:\d+$/, '');
    const url = req.url ?? '/';
    const tp = nextTraceparent(req.headers.traceparent);
    const requestId = randomBytes(8).toString('hex');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string' && !k.startsWith(':')) headers[k] = v;
    for (const k of [
      'connection',
      'keep-alive',
      'proxy-connection',
      'te',
      'transfer-encoding',
      'upgrade',
      'http2-settings',
    ])
      delete headers[k];
    const p: ProxyRequest = {
      method: req.method ?? 'GET',
      host,
      url,
      headers,
      clientIp: client,
      tls: scheme === 'https',
    };
    ctx.events.emit({
      kind: 'http.request',
      trace: tp.trace,
      peer: `${client}:${req.socket.remotePort}`,
      summary: `${who(client)} asks ${p.method} ${scheme}://${host}${url} over HTTP/${req.httpVersion}`,
      data: {
        method: p.method,
        host,
        url,
        scheme,
        httpVersion: req.httpVersion,
        client: who(client),
        requestId,
      },
    });
    const deps = {
      vcl: defaultVcl,
      store,
      backend,
      events: ctx.events,
      trace: tp.trace,
      backendHeaders: (x: ProxyRequest) => backendHeaders(x, tp.header, requestId),
    };
    let out: Delivery;
    if (p.method === 'PURGE' || p.method === 'BAN') {
      out = invalidate(p, client, deps);
    } else if (scheme === 'http' && HSTS_NAMES.includes(host)) {
      // JOURNEY 18: plain HTTP to an HSTS name goes to https first
      const location = `https://${host}${ctx.port(443) === 443 ? '' : `:${ctx.port(443)}`}${url}`;
      ctx.events.emit({
        kind: 'http.redirect',
        trace: tp.trace,
        summary: `redirects to ${location} (301)`,
        data: { location },
      });
      out = {
        status: 301,
        headers: { location, 'content-type': 'text/plain', 'cache-control': 'max-age=3600' },
        body: Buffer.from(`Moved to ${location}\n`),
        xCache: 'SYNTH',
      };
    } else if (!names.includes(host)) {
      out = synth(deps, 421, 'Misdirected Request');
    } else {
      out = await handleRequest(deps, p);
    }
    out.headers.via = out.headers.via ? `${out.headers.via}, 1.1 proxy (enterlab)` : '1.1 proxy (enterlab)';
    out.headers['x-request-id'] = requestId;
    if (scheme === 'https' && HSTS_NAMES.includes(host))
      out.headers['strict-transport-security'] = HSTS_HEADER;
    out.headers['content-length'] = String(out.body.length);
    res.writeHead(out.status, splitSetCookie(out.headers));
    if (p.method === 'HEAD') res.end();
    else res.end(out.body);
    ctx.events.emit({
      kind: 'http.response',
      trace: tp.trace,
      summary: `answers ${out.status} (${out.xCache}) for ${host}${url}, ${out.body.length} bytes`,
      data: {
        status: out.status,
        xCache: out.xCache,
        bytes: out.body.length,
        ms: Math.round((performance.now() - t0) * 100) / 100,
      },
    });
  };

  const invalidate = (p: ProxyRequest, client: string, deps: Parameters<typeof synth>[0]): Delivery => {
    if (!admins.has(client))
      return synth(deps, 403, `${p.method} is allowed only from the lab's admin addresses`);
    const removed =
      p.method === 'PURGE'
        ? store.purge(defaultVcl.hash(p))
        : store.ban(new RegExp(p.headers['x-ban'] ?? '^$'));
    ctx.events.emit({
      kind: 'cache.purge',
      summary: `${p.method} ${p.host}${p.url}: ${removed} object(s) removed`,
      data: { target: `${p.host}${p.url}`, removed, by: client },
    });
    return {
      status: 200,
      headers: { 'content-type': 'text/plain' },
      body: Buffer.from(`${p.method}: ${removed} object(s) removed\n`),
      xCache: 'SYNTH',
    };
  };

  const onError =
    (where: string) =>
    (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) =>
      serve(req, res, where === 'https' ? 'https' : 'http').catch((err) => {
        guard(ctx.events, `proxy ${where}`, err);
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('internal error\n');
        }
      });

  const makeServers = () => {
    const tlsServer = createSecureServer(
      {
        key: cert.key,
        cert: cert.chain,
        allowHTTP1: true,
        SNICallback: (servername, cb) => cb(null, contexts.get(servername.toLowerCase()) ?? defaultContext),
        minVersion: 'TLSv1.2',
        maxHeaderListPairs: 200,
      },
      onError('https'),
    );
    tlsServer.on(
      'OCSPRequest',
      (_cert: Buffer, _issuer: Buffer, cb: (err: Error | null, resp?: Buffer) => void) =>
        staple ? cb(null, staple) : cb(null),
    );
    tlsServer.on('secureConnection', (sock: TLSSocket) => {
      const c = sock.getCipher();
      ctx.events.emit({
        kind: 'tls.handshake',
        peer: `${sock.remoteAddress}:${sock.remotePort}`,
        summary: `TLS with ${who(sock.remoteAddress ?? '')}: ${sock.getProtocol()} ${c?.standardName ?? c?.name}, SNI ${(sock as TLSSocket & { servername?: string }).servername || '(none)'}, ALPN ${sock.alpnProtocol || 'none'}${sock.isSessionReused() ? ', resumed' : ''}`,
        data: {
          sni: (sock as TLSSocket & { servername?: string }).servername || null,
          alpn: sock.alpnProtocol || null,
          version: sock.getProtocol(),
          cipher: c?.standardName ?? c?.name,
          resumed: sock.isSessionReused(),
          stapleAvailable: !!staple,
          client: who(sock.remoteAddress ?? ''),
        },
      });
    });
    tlsServer.on('tlsClientError', () => {}); // a bad ClientHello ends that connection only
    tlsServer.setTimeout(120_000);
    const plain = createHttp(
      { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, maxHeaderSize: 16_384 },
      onError('http'),
    );
    plain.on('clientError', (err: NodeJS.ErrnoException, sock) => {
      // malformed requests (smuggling attempts among them) get 400 and never reach the backend
      if (!sock.writable) return sock.destroy();
      const status =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : '400 Bad Request';
      ctx.events.emit({
        kind: 'http.rejected',
        summary: `rejected a malformed request: ${err.code} (${status})`,
        data: { code: err.code, status: Number(status.slice(0, 3)) },
      });
      sock.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    return { tlsServer, plain };
  };

  const listen = (server: Server, p: number, address: string) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(Object.assign(err, { address, port: p })));
      server.listen(p, address, () => resolve());
    });
  // the same servers on the IPv6 address too (happy eyeballs tries it first)
  const v6 = ctx.address6();
  const servers: Server[] = [];
  for (const address of [ctx.address(), ...(v6 ? [v6] : [])]) {
    const { tlsServer, plain } = makeServers();
    servers.push(tlsServer, plain);
    await listen(tlsServer, ctx.port(443), address);
    await listen(plain, ctx.port(80), address);
  }

  ctx.control.register('cache.purge', (args) => {
    const u = new URL(String(args.url ?? ''));
    const removed = store.purge(`${u.hostname}${u.pathname}${u.search}`);
    ctx.events.emit({
      kind: 'cache.purge',
      summary: `purge ${u.href}: ${removed} object(s) removed`,
      data: { target: u.href, removed, by: 'control' },
    });
    return { removed };
  });
  ctx.control.register('cache.ban', (args) => {
    let re: RegExp;
    try {
      re = new RegExp(String(args.regex ?? ''));
    } catch (err) {
      throw new Error(`not a regular expression: ${(err as Error).message}`);
    }
    const removed = store.ban(re);
    ctx.events.emit({
      kind: 'cache.purge',
      summary: `ban ${re}: ${removed} object(s) removed`,
      data: { target: String(re), removed, by: 'control' },
    });
    return { removed };
  });
  ctx.control.register('cache.stats', () => ({
    ...store.stats,
    objects: store.objects,
    bytes: store.bytes,
    maxBytes: store.maxBytes,
    backendHealthy: backend.healthy(),
  }));
  ctx.control.register('tls.add', (args) => {
    const name = String(args.name ?? '').toLowerCase();
    if (!name.endsWith('.test')) throw new Error('tls.add needs a name under .test');
    contexts.set(name, createSecureContext({ key: String(args.key), cert: String(args.chain) }));
    if (!names.includes(name)) names.push(name);
    return { name };
  });

  return {
    listening: [ctx.address(), ...(v6 ? [`[${v6}]`] : [])].flatMap((a) => [
      `https ${a}:${ctx.port(443)}`,
      `http ${a}:${ctx.port(80)}`,
    ]),
    close: async () => {
      clearTimeout(stapleTimer);
      backend.close();
      await Promise.all(servers.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
    },
  };
});

/** Set-Cookie travels as one header per cookie. */
function splitSetCookie(h: Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { ...h };
  if (h['set-cookie']) out['set-cookie'] = h['set-cookie'].split('\n');
  return out;
}
