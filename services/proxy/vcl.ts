// The proxy's policy, as Varnish's built-in VCL states (vcl_recv → vcl_hash → vcl_hit | vcl_miss |
// vcl_pass → vcl_backend_fetch → vcl_backend_response → vcl_deliver, vcl_synth). This one readable
// module is the part a workshop edits: each hook gets the request (and response) and says what next.

export interface ProxyRequest {
  method: string;
  host: string;
  url: string;
  headers: Record<string, string>;
  clientIp: string;
  tls: boolean;
}

export interface BackendResponse {
  status: number;
  headers: Record<string, string>;
}

export type RecvAction = { action: 'hash' } | { action: 'pass'; why: string } | { action: 'pipe'; why: string } | { action: 'synth'; status: number; reason: string };

export interface TtlDecision {
  /** seconds the object is fresh; 0 or less: not stored (hit-for-miss) */
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
  backendResponse(req: ProxyRequest, res: BackendResponse, now: number): TtlDecision;
  deliver(req: ProxyRequest, headers: Record<string, string>, info: { xCache: 'HIT' | 'MISS' | 'PASS'; age: number; hits: number }): void;
  synth(status: number, reason: string): { body: string; headers: Record<string, string> };
}

/** Names that get Strict-Transport-Security, and a 301 from port 80 to https (JOURNEY 18). */
export const HSTS_NAMES = ['www.example.test', 'cdn.example.test'];
export const HSTS_HEADER = 'max-age=31536000';

export const DEFAULT_TTL = 120; // Varnish's default_ttl
export const DEFAULT_GRACE = 10; // Varnish's default_grace
export const DEFAULT_KEEP = 3600;
export const HIT_FOR_MISS_TTL = 120;

const CACHEABLE_STATUS = new Set([200, 203, 204, 300, 301, 304, 308, 404, 405, 410, 414, 501]);

export function parseCacheControl(v: string | undefined): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (const part of (v ?? '').split(',')) {
    const [k, ...rest] = part.trim().split('=');
    if (!k) continue;
    out.set(k.toLowerCase(), rest.length ? rest.join('=').replace(/^"|"$/g, '') : true);
  }
  return out;
}

const seconds = (v: string | true | undefined) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);

/** Like builtin.vcl, plus RFC 9111's rules for a shared cache. */
export const defaultVcl: Vcl = {
  recv(req) {
    // vcl_recv: only GET and HEAD are looked up; a PRI or CONNECT goes straight through; credentials pass
    if (req.method === 'PRI') return { action: 'synth', status: 405, reason: 'Method Not Allowed' };
    if (!['GET', 'HEAD', 'PUT', 'POST', 'TRACE', 'OPTIONS', 'DELETE', 'PATCH'].includes(req.method)) {
      return { action: 'pipe', why: `method ${req.method} is piped` };
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return { action: 'pass', why: `${req.method} is never cached` };
    if (req.headers.authorization) return { action: 'pass', why: 'the request carries Authorization' };
    if (req.headers.cookie) return { action: 'pass', why: 'the request carries a Cookie' };
    return { action: 'hash' };
  },

  hash(req) {
    // vcl_hash: the URL and the Host
    return `${req.host}${req.url}`;
  },

  backendResponse(_req, res, now) {
    // vcl_backend_response + RFC 9111 §3 and §4.2.1 for a shared cache
    const cc = parseCacheControl(res.headers['cache-control']);
    const grace = seconds(cc.get('stale-while-revalidate')) ?? DEFAULT_GRACE;
    const keep = seconds(cc.get('stale-if-error')) ?? DEFAULT_KEEP;
    if (!CACHEABLE_STATUS.has(res.status)) return { ttl: -1, grace: 0, keep: 0, from: 'status', uncacheable: `status ${res.status} is not cacheable by default` };
    if (cc.has('no-store')) return { ttl: -1, grace: 0, keep: 0, from: 'Cache-Control', uncacheable: 'Cache-Control: no-store' };
    if (cc.has('private')) return { ttl: -1, grace: 0, keep: 0, from: 'Cache-Control', uncacheable: 'Cache-Control: private' };
    if (res.headers['set-cookie']) return { ttl: -1, grace: 0, keep: 0, from: 'Set-Cookie', uncacheable: 'the response sets a cookie' };
    if (res.headers.vary === '*') return { ttl: -1, grace: 0, keep: 0, from: 'Vary', uncacheable: 'Vary: *' };
    const mustRevalidate = cc.has('must-revalidate') || cc.has('proxy-revalidate') || cc.has('no-cache');
    const sMaxAge = seconds(cc.get('s-maxage'));
    const maxAge = seconds(cc.get('max-age'));
    let ttl: number;
    let from: string;
    if (sMaxAge !== undefined) [ttl, from] = [sMaxAge, 'Cache-Control: s-maxage'];
    else if (maxAge !== undefined) [ttl, from] = [maxAge, 'Cache-Control: max-age'];
    else if (res.headers.expires) {
      const exp = Date.parse(res.headers.expires);
      const date = Date.parse(res.headers.date ?? '') || now;
      [ttl, from] = [Number.isNaN(exp) ? 0 : Math.round((exp - date) / 1000), 'Expires'];
    } else [ttl, from] = [DEFAULT_TTL, 'default TTL (like Varnish)'];
    if (cc.has('no-cache')) [ttl, from] = [0, 'Cache-Control: no-cache (store, revalidate every time)'];
    const age = seconds(res.headers.age) ?? 0;
    return { ttl: ttl - age, grace: mustRevalidate ? 0 : grace, keep, from };
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
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'retry-after': status === 503 ? '5' : '' },
    };
  },
};
