// The proxy's policy, as Varnish's built-in VCL states (vcl_recv → vcl_hash → vcl_hit | vcl_miss |
// vcl_pass | vcl_pipe → vcl_backend_fetch → vcl_backend_response → vcl_deliver, and vcl_synth).
// This one readable module is the part a workshop edits: each hook gets the request (and the object
// or response) and says what happens next. flow.ts runs the states; main.ts wires the sockets.

export interface ProxyRequest {
  method: string;
  host: string;
  url: string;
  headers: Record<string, string>;
  clientIp: string;
  /** the request body, read whole before a pass (never for a lookup) */
  body?: Buffer;
  tls: boolean;
}

export interface BackendResponse {
  status: number;
  headers: Record<string, string>;
}

export type RecvAction =
  | { action: 'hash' }
  | { action: 'pass'; why: string }
  | { action: 'pipe'; why: string }
  | { action: 'synth'; status: number; reason: string };

/** What vcl_hit sees of the object it found. */
export interface HitInfo {
  state: 'fresh' | 'grace' | 'keep';
  age: number;
  ttl: number;
  backendHealthy: boolean;
}
export type HitAction =
  | { action: 'deliver'; why: string; refresh?: boolean }
  | { action: 'miss'; why: string }
  | { action: 'pass'; why: string };

export interface TtlDecision {
  /** seconds the object is fresh; below 0: not stored (hit-for-miss) */
  ttl: number;
  /** seconds it may still be served while a fresh copy is fetched (stale-while-revalidate) */
  grace: number;
  /** seconds it is kept for revalidation and stale-if-error after that */
  keep: number;
  /** which header decided (for the cache.store event) */
  from: string;
  uncacheable?: string;
}

export interface Vcl {
  recv(req: ProxyRequest): RecvAction;
  hash(req: ProxyRequest): string;
  hit(req: ProxyRequest, obj: HitInfo): HitAction;
  miss(req: ProxyRequest): { action: 'fetch' } | { action: 'pass'; why: string };
  pass(req: ProxyRequest): { action: 'fetch' };
  pipe(req: ProxyRequest): { action: 'pipe' };
  /** edits the request sent to the backend (bereq) */
  backendFetch(req: ProxyRequest, bereq: { method: string; headers: Record<string, string> }): void;
  backendResponse(req: ProxyRequest, res: BackendResponse, now: number): TtlDecision;
  deliver(
    req: ProxyRequest,
    headers: Record<string, string>,
    info: { xCache: 'HIT' | 'MISS' | 'PASS'; age: number; hits: number },
  ): void;
  synth(status: number, reason: string): { body: string; headers: Record<string, string> };
}

/** Names that get Strict-Transport-Security, and a 301 from port 80 to https (JOURNEY 18). */
export const HSTS_NAMES = ['www.example.test', 'cdn.example.test'];
export const HSTS_HEADER = 'max-age=31536000';

export const DEFAULT_TTL = 120; // Varnish's default_ttl
export const DEFAULT_GRACE = 10; // Varnish's default_grace
export const DEFAULT_KEEP = 3600;
export const HIT_FOR_MISS_TTL = 120; // builtin.vcl marks uncacheable answers for 2 minutes

// RFC 9110 §15.1: heuristically cacheable status codes, less 206: this cache stores whole objects
// only and cuts ranges from them at delivery (RFC 9111 §3.3)
const CACHEABLE_STATUS = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'TRACE', 'OPTIONS', 'DELETE', 'PATCH']);

export function parseCacheControl(v: string | undefined): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (const part of (v ?? '').split(',')) {
    const [k, ...rest] = part.trim().split('=');
    if (!k) continue;
    out.set(k.toLowerCase(), rest.length ? rest.join('=').replace(/^"|"$/g, '') : true);
  }
  return out;
}

const seconds = (v: string | true | undefined) =>
  typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
const notStored = (from: string, why: string): TtlDecision => ({
  ttl: -1,
  grace: 0,
  keep: 0,
  from,
  uncacheable: why,
});

/** Like builtin.vcl, plus RFC 9111's rules for a shared cache. */
export const defaultVcl: Vcl = {
  recv(req) {
    // vcl_recv: PRI is HTTP/2's preface, never a method; unknown methods are piped; credentials pass
    if (req.method === 'PRI') return { action: 'synth', status: 405, reason: 'Method Not Allowed' };
    if (!req.host) return { action: 'synth', status: 400, reason: 'Bad Request: no Host' };
    if (req.headers.upgrade) return { action: 'pipe', why: `Upgrade: ${req.headers.upgrade} is piped` };
    if (!KNOWN_METHODS.has(req.method)) return { action: 'pipe', why: `method ${req.method} is piped` };
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return { action: 'pass', why: `${req.method} is never cached` };
    if (req.headers.authorization) return { action: 'pass', why: 'the request carries Authorization' };
    if (req.headers.cookie) return { action: 'pass', why: 'the request carries a Cookie' };
    return { action: 'hash' };
  },

  hash(req) {
    // vcl_hash: the Host and the URL
    return `${req.host}${req.url}`;
  },

  hit(_req, obj) {
    // vcl_hit: fresh → deliver; in grace → deliver and refresh in the background; else fetch anew
    if (obj.state === 'fresh')
      return {
        action: 'deliver',
        why: `stored ${obj.age.toFixed(0)} s ago, fresh for ${(obj.ttl - obj.age).toFixed(0)} s more`,
      };
    if (!obj.backendHealthy)
      return { action: 'deliver', why: 'the backend is sick: serving the stale object (stale-if-error)' };
    if (obj.state === 'grace')
      return {
        action: 'deliver',
        refresh: true,
        why: `expired ${(obj.age - obj.ttl).toFixed(0)} s ago, within grace: refreshing in the background`,
      };
    return { action: 'miss', why: 'the stored object has expired: revalidating' };
  },

  miss() {
    return { action: 'fetch' };
  },

  pass() {
    return { action: 'fetch' };
  },

  pipe() {
    return { action: 'pipe' };
  },

  backendFetch(_req, bereq) {
    // vcl_backend_fetch: a cache miss fetches the whole object, whatever the client asked
    if (bereq.method === 'HEAD') bereq.method = 'GET';
  },

  backendResponse(_req, res, now) {
    // vcl_backend_response + RFC 9111 §3 and §4.2.1 for a shared cache
    const cc = parseCacheControl(res.headers['cache-control']);
    const grace = seconds(cc.get('stale-while-revalidate')) ?? DEFAULT_GRACE;
    const keep = seconds(cc.get('stale-if-error')) ?? DEFAULT_KEEP;
    if (!CACHEABLE_STATUS.has(res.status))
      return notStored('status', `status ${res.status} is not cacheable by default`);
    if (cc.has('no-store')) return notStored('Cache-Control', 'Cache-Control: no-store');
    if (cc.has('private')) return notStored('Cache-Control', 'Cache-Control: private');
    if (res.headers['set-cookie']) return notStored('Set-Cookie', 'the response sets a cookie');
    if (res.headers.vary?.trim() === '*') return notStored('Vary', 'Vary: *');
    const mustRevalidate = cc.has('must-revalidate') || cc.has('proxy-revalidate') || cc.has('no-cache');
    const sMaxAge = seconds(cc.get('s-maxage'));
    const maxAge = seconds(cc.get('max-age'));
    let ttl: number;
    let from: string;
    if (sMaxAge !== undefined) [ttl, from] = [sMaxAge, 'Cache-Control: s-maxage'];
    else if (maxAge !== undefined) [ttl, from] = [maxAge, 'Cache-Control: max-age'];
    else if (res.headers.expires) {
      // RFC 9111 §5.3: an invalid Expires means already expired
      const exp = Date.parse(res.headers.expires);
      const date = Date.parse(res.headers.date ?? '') || now;
      [ttl, from] = [Number.isNaN(exp) ? 0 : Math.round((exp - date) / 1000), 'Expires'];
    } else [ttl, from] = [DEFAULT_TTL, 'default TTL (like Varnish)'];
    // RFC 9111 §5.2.2.4: no-cache may be stored but must be revalidated before each use
    if (cc.has('no-cache'))
      return { ttl: 0, grace: 0, keep, from: 'Cache-Control: no-cache (store, revalidate every time)' };
    // RFC 9111 §4.2.3: the time it already spent in caches upstream counts
    const left = ttl - (seconds(res.headers.age) ?? 0);
    if (left <= 0) return notStored(from, `already stale on arrival (${from})`);
    return { ttl: left, grace: mustRevalidate ? 0 : grace, keep, from };
  },

  deliver(_req, headers, info) {
    // vcl_deliver: say what happened
    headers['x-cache'] = info.xCache;
    headers['x-cache-hits'] = String(info.hits);
    headers.age = String(Math.max(0, Math.floor(info.age)));
  },

  synth(status, reason) {
    return {
      body: `<!doctype html>\n<html><head><meta charset="utf-8"><title>${status} ${reason}</title></head><body><h1>Error ${status} ${reason}</h1><p>Guru Meditation: the proxy answered this itself.</p></body></html>\n`,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'retry-after': status === 503 ? '5' : '',
      },
    };
  },
};
