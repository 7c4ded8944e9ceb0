// The proxy's front: each request from either listener, from the bytes Node parsed to the bytes
// sent back. Routing (PURGE/BAN, the HSTS redirect, 421, pipe) happens here; the cache's state
// machine is flow.ts. A fresh hit stays synchronous all the way to res.end (the hot path).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Emitter } from '../common/events.js';
import { guard } from '../common/service.js';
import { type Backend, connectionOptions } from './backend.js';
import type { ProxyEvent } from './events.js';
import { type Delivery, type FlowDeps, handleRequest, invalidateAfterUnsafe, synth } from './flow.js';
import { nextTrace, randomHex } from './ids.js';
import { invalidateByRequest } from './invalidate.js';
import { headerLimitReason, MAX_URI, smugglingReason } from './listeners.js';
import type { Pipe } from './pipe.js';
import type { ObjectStore } from './store.js';
import { HSTS_HEADER, HSTS_NAMES, type ProxyRequest, type RecvAction, type Vcl } from './vcl.js';

const VIA = '1.1 proxy (enterlab)';
const MAX_BODY = 8 * 2 ** 20;
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
];

export interface FrontendOptions {
  /** the VCL in use now (defaultVcl, or a workshop's over it): a request keeps the one it started with */
  vcl(): Vcl;
  events: Emitter<ProxyEvent>;
  store: ObjectStore;
  backend: Backend;
  pipe: Pipe;
  /** the names this proxy serves (others get 421) */
  names: string[];
  /** addresses allowed to PURGE and BAN */
  admins: Set<string>;
  who(address: string): string;
  httpsPort: number;
}

export function createFrontend(o: FrontendOptions) {
  const { events, store, backend, pipe, names, admins, who } = o;
  const plainIp = (a: string) => a.replace(/^::ffff:/, '');
  const backendHeaders = (
    p: ProxyRequest,
    traceparent: string,
    requestId: string,
  ): Record<string, string> => ({
    host: p.host,
    'x-forwarded-for': p.headers['x-forwarded-for']
      ? `${p.headers['x-forwarded-for']}, ${p.clientIp}`
      : p.clientIp,
    'x-forwarded-proto': p.tls ? 'https' : 'http',
    // RFC 7239
    forwarded: `for=${p.clientIp.includes(':') ? `"[${p.clientIp}]"` : p.clientIp};proto=${p.tls ? 'https' : 'http'};host=${p.host}`,
    via: p.headers.via ? `${p.headers.via}, ${VIA}` : VIA,
    traceparent,
    'x-request-id': requestId,
  });

  const toProxyRequest = (
    req: IncomingMessage | Http2ServerRequest,
    scheme: 'http' | 'https',
  ): ProxyRequest => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string' && k[0] !== ':') headers[k] = v;
    // RFC 9110 §7.6.1: hop-by-hop fields, and every field Connection names, stop here
    for (const k of HOP_BY_HOP) delete headers[k];
    for (const k of connectionOptions(req.headers.connection)) delete headers[k];
    if (req.headers.upgrade && req.httpVersion === '1.1') headers.upgrade = String(req.headers.upgrade);
    const host = String(req.headers[':authority'] ?? req.headers.host ?? '')
      .toLowerCase()
      .replace(/:\d+$/, '');
    return {
      method: req.method ?? 'GET',
      host,
      url: req.url ?? '/',
      headers,
      clientIp: plainIp(req.socket.remoteAddress ?? ''),
      tls: scheme === 'https',
    };
  };

  // synchronous up to the answer when the cache can give it: an await costs a third of a hit's time
  const serve = (
    req: IncomingMessage | Http2ServerRequest,
    res: ServerResponse | Http2ServerResponse,
    scheme: 'http' | 'https',
  ): void | Promise<void> => {
    const t0 = performance.now();
    const vcl = o.vcl();
    const p = toProxyRequest(req, scheme);
    const tp = nextTrace(req.headers.traceparent);
    const requestId = randomHex(8);
    // JOURNEY 22: the request as the proxy sees it
    events.emit({
      kind: 'http.request',
      trace: tp.trace,
      peer: `${p.clientIp}:${req.socket.remotePort}`,
      summary: `${who(p.clientIp)} asks ${p.method} ${scheme}://${p.host}${p.url} over HTTP/${req.httpVersion}`,
      data: {
        method: p.method,
        host: p.host,
        url: p.url,
        scheme,
        httpVersion: req.httpVersion,
        client: who(p.clientIp),
        requestId,
      },
    });
    const deps: FlowDeps = {
      informational: (status, hints) => forwardInterim(res, status, hints, tp.trace),
      vcl,
      store,
      backend,
      events: events,
      trace: tp.trace,
      backendHeaders: (x: ProxyRequest) => backendHeaders(x, tp.header, requestId),
    };
    // the smuggling list: framing the app might read differently is refused before anything else
    const smuggling =
      req.httpVersion === '1.1' || req.httpVersion === '1.0'
        ? smugglingReason(req.headers, req.rawHeaders, req.httpVersion)
        : undefined;
    if (smuggling) return refuse(req, res, smuggling, tp.trace);
    const respond = (out: Delivery) => deliver(res, scheme, p, out, requestId, tp.trace, t0);
    // RFC 9110 §15.5.15, §15.5.20: the same limits over h1 and h2
    if (p.url.length > MAX_URI) return respond(synth(deps, 414, 'URI Too Long'));
    const tooLarge = headerLimitReason(req.rawHeaders);
    if (tooLarge) return respond(synth(deps, 431, `Request Header Fields Too Large: ${tooLarge}`));
    // vcl_recv, once: it decides pipe here, and the state machine goes on from its answer
    const recv = vcl.recv(p);
    if (hasBody(req) && recv.action !== 'pipe') {
      // a body is read whole before anything goes on: a malformed one (bad chunk) never reaches the app
      return readBody(req, MAX_BODY).then(async (body) => {
        if (body === 'aborted') return;
        if (body === 'too-large') return respond(synth(deps, 413, 'Content Too Large'));
        p.body = body;
        const out = await route(req, res, scheme, p, recv, deps, tp, requestId, t0);
        if (out) respond(out);
      });
    }
    const out = route(req, res, scheme, p, recv, deps, tp, requestId, t0);
    if (out instanceof Promise) return out.then((o) => o && respond(o));
    if (out) respond(out);
  };

  /** Where a request goes: invalidation, the HSTS redirect, 421, pipe, or the cache. */
  const route = (
    req: IncomingMessage | Http2ServerRequest,
    res: ServerResponse | Http2ServerResponse,
    scheme: 'http' | 'https',
    p: ProxyRequest,
    recv: RecvAction,
    deps: FlowDeps,
    tp: { header: string; trace: string },
    requestId: string,
    t0: number,
  ): Delivery | undefined | Promise<Delivery | undefined> => {
    let out: Delivery | Promise<Delivery>;
    if (p.method === 'PURGE' || p.method === 'BAN') {
      out = admins.has(p.clientIp)
        ? invalidateByRequest(p, store, deps.vcl, events, tp.trace)
        : synth(deps, 403, `${p.method} is allowed only from the lab's admin addresses`);
    } else if (scheme === 'http' && HSTS_NAMES.includes(p.host)) {
      // JOURNEY 18: plain HTTP to an HSTS name goes to https first
      const location = `https://${p.host}${o.httpsPort === 443 ? '' : `:${o.httpsPort}`}${p.url}`;
      events.emit({
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
    } else if (!names.includes(p.host)) {
      out = synth(deps, 421, 'Misdirected Request');
    } else if (recv.action === 'pipe' && req.httpVersion === '1.1') {
      // vcl_pipe: stream both ways, untouched by the cache
      events.emit({
        kind: 'cache.lookup',
        trace: tp.trace,
        summary: `cache PIPE for ${p.host}${p.url}: ${recv.why} (${recv.rule})`,
        data: {
          result: 'pipe',
          why: recv.why,
          rule: recv.rule,
          url: `${p.host}${p.url}`,
          vcl: deps.vcl.name,
        },
      });
      return pipe
        .web(req as IncomingMessage, res as ServerResponse, backendHeaders(p, tp.header, requestId))
        .then((status) => {
          // RFC 9111 §4.4: a piped method of unknown safety invalidates too
          const header = (name: string) => String(res.getHeader(name) ?? '');
          invalidateAfterUnsafe(deps, p, status, {
            location: header('location'),
            'content-location': header('content-location'),
          });
          events.emit({
            kind: 'http.response',
            trace: tp.trace,
            summary: `answers ${status} (PIPE) for ${p.host}${p.url}`,
            data: {
              status,
              xCache: 'PIPE',
              bytes: null,
              ms: Math.round((performance.now() - t0) * 100) / 100,
            },
          });
          return undefined;
        });
    } else {
      out = handleRequest(deps, p, Date.now(), recv);
    }
    return out;
  };

  /** RFC 9110 §15.2: 102 and 103 Early Hints from the app go on to the client at once, never stored. */
  const forwardInterim = (
    res: ServerResponse | Http2ServerResponse,
    status: number,
    hints: Record<string, string>,
    trace: string,
  ) => {
    if (res.headersSent) return;
    if (status === 103 && hints.link) res.writeEarlyHints(hints);
    else if (status === 102 && 'writeProcessing' in res) res.writeProcessing();
    else return;
    events.emit({
      kind: 'http.interim',
      trace,
      summary: `passes on the app's ${status}${status === 103 ? ` Early Hints (${hints.link ?? 'no Link'})` : ''}`,
      data: { status, link: hints.link ?? null },
    });
  };

  /** vcl_deliver's last part: the proxy's own headers, then the bytes, then the event. */
  const deliver = (
    res: ServerResponse | Http2ServerResponse,
    scheme: 'http' | 'https',
    p: ProxyRequest,
    out: Delivery,
    requestId: string,
    trace: string,
    t0: number,
  ) => {
    out.headers.via = out.headers.via ? `${out.headers.via}, ${VIA}` : VIA;
    out.headers['x-request-id'] = requestId;
    // RFC 6797 §7.2: HSTS only over a secure transport
    if (scheme === 'https' && HSTS_NAMES.includes(p.host))
      out.headers['strict-transport-security'] = HSTS_HEADER;
    // RFC 9110 §9.3.2: a passed HEAD keeps the Content-Length GET would have had
    const passedHead = p.method === 'HEAD' && out.body.length === 0 && out.headers['content-length'];
    if (out.status !== 304 && !passedHead) out.headers['content-length'] = String(out.body.length);
    res.writeHead(out.status, splitSetCookie(out.headers));
    if (p.method === 'HEAD') res.end();
    else res.end(out.body);
    events.emit({
      kind: 'http.response',
      trace,
      summary: `answers ${out.status} (${out.xCache}) for ${p.host}${p.url}, ${out.body.length} bytes`,
      data: {
        status: out.status,
        xCache: out.xCache,
        bytes: out.body.length,
        ms: Math.round((performance.now() - t0) * 100) / 100,
      },
    });
  };

  const refuse = (
    req: IncomingMessage | Http2ServerRequest,
    res: ServerResponse | Http2ServerResponse,
    why: string,
    trace: string,
  ) => {
    events.emit({
      kind: 'http.rejected',
      trace,
      summary: `rejected a request before the app saw it: ${why} (400)`,
      data: { code: 'SMUGGLING', why, status: 400 },
    });
    res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' });
    res.end(`400 Bad Request: ${why}\n`);
    req.socket.destroySoon?.();
  };

  const onRequest = (
    req: IncomingMessage | Http2ServerRequest,
    res: ServerResponse | Http2ServerResponse,
    scheme: 'http' | 'https',
  ) => {
    const failed = (err: unknown) => {
      guard(events, `proxy ${scheme}`, err);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      }
    };
    try {
      serve(req, res, scheme)?.catch(failed);
    } catch (err) {
      failed(err);
    }
  };
  // websockets (Upgrade) are piped
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, scheme: 'http' | 'https') => {
    const p = toProxyRequest(req, scheme);
    if (!names.includes(p.host))
      return socket.end('HTTP/1.1 421 Misdirected Request\r\nContent-Length: 0\r\n\r\n');
    const tp = nextTrace(req.headers.traceparent);
    events.emit({
      kind: 'cache.lookup',
      trace: tp.trace,
      summary: `cache PIPE for ${p.host}${p.url}: Upgrade ${req.headers.upgrade}`,
      data: {
        result: 'pipe',
        why: `Upgrade: ${req.headers.upgrade}`,
        url: `${p.host}${p.url}`,
        vcl: o.vcl().name,
      },
    });
    pipe.ws(req, socket, head, backendHeaders(p, tp.header, randomHex(8)));
  };

  return { onRequest, onUpgrade };
}

/** Set-Cookie travels as one header per cookie. */
function splitSetCookie(h: Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { ...h };
  if (h['set-cookie']) out['set-cookie'] = h['set-cookie'].split('\n');
  return out;
}

/** The request body, whole; a framing error (bad chunk) aborts it, and the listener answers 400. */
function readBody(
  req: IncomingMessage | Http2ServerRequest,
  max: number,
): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        resolve('too-large');
        req.removeAllListeners('data');
        req.resume();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve('aborted'));
    req.on('aborted', () => resolve('aborted'));
  });
}

/** RFC 9112 §6: a request carries a body when it says so (Content-Length > 0 or Transfer-Encoding). */
function hasBody(req: IncomingMessage | Http2ServerRequest): boolean {
  if (req.httpVersion === '2.0') return req.method !== 'GET' && req.method !== 'HEAD';
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}
