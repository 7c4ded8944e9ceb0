// The proxy's policy, as Varnish's built-in VCL states (vcl_recv → vcl_hash → vcl_hit | vcl_miss |
// vcl_pass | vcl_pipe → vcl_backend_fetch → vcl_backend_response → vcl_deliver, and vcl_synth).
// This one readable module is the part a workshop edits: each hook gets the request (and the object
// or response) and says what happens next. flow.ts runs the states; main.ts wires the sockets.

import { parseCacheControl } from '../common/http/cache-control.js';
import { parseHttpDate } from './http-date.js';
import { params } from './params.js';

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

export type RecvAction = (
  | { action: 'hash' }
  | { action: 'pass'; why: string }
  | { action: 'pipe'; why: string }
  | { action: 'synth'; status: number; reason: string }
) & {
  /** the named rule that decided (shown in the events) */
  rule?: string;
};

/** One named rule of vcl_recv, as builtin.vcl's subs: an action, or undefined to let the next decide. */
export type RecvRule = (req: ProxyRequest) => RecvAction | undefined;
/** One named rule of vcl_backend_response: why the response must not be stored, or undefined. */
export type BerespRule = (
  req: ProxyRequest,
  res: BackendResponse,
  cc: Map<string, string | true>,
) => string | undefined;

/** What vcl_hit sees of the object it found. */
export interface HitInfo {
  state: 'fresh' | 'grace' | 'keep';
  age: number;
  ttl: number;
  backendHealthy: boolean;
  /** must-revalidate, proxy-revalidate, no-cache or s-maxage: never stale (RFC 9111 §4.2.4) */
  mustRevalidate: boolean;
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
  /** the named rule that refused to store it */
  rule?: string;
  /** never served stale, not even when the backend is down (RFC 9111 §4.2.4) */
  mustRevalidate?: boolean;
}

export interface Vcl {
  /** which VCL this is, named in the cache.lookup events: "default", or its file's name */
  name: string;
  /** vcl_recv's rules, run in order until one decides; a workshop overrides one by its name */
  recvRules: Record<string, RecvRule>;
  /** vcl_backend_response's rules for what is never stored, run in order */
  berespRules: Record<string, BerespRule>;
  /** vcl_recv: the rules above, then hash (lookup) */
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
export const HSTS_NAMES = ['www.example.test', 'cdn.example.test', 'search.test'];
// no includeSubDomains (README, "PKI and TLS"): docs.example.test is an alias of ca.test, which serves
// CRLs and OCSP over plain http only (an https fetch would need a revocation check of its own)
export const HSTS_HEADER = 'max-age=31536000';

export const HIT_FOR_MISS_TTL = 120; // builtin.vcl marks uncacheable answers for 2 minutes

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'TRACE', 'OPTIONS', 'DELETE', 'PATCH']);

/** RFC 9111 §4.2.1: s-maxage, then max-age, then Expires − Date; none: undefined. */
function explicitFreshness(
  cc: Map<string, string | true>,
  headers: Record<string, string>,
  now: number,
): [number, string] | undefined {
  const sMaxAge = seconds(cc.get('s-maxage'));
  if (sMaxAge !== undefined) return [sMaxAge, 'Cache-Control: s-maxage'];
  const maxAge = seconds(cc.get('max-age'));
  if (maxAge !== undefined) return [maxAge, 'Cache-Control: max-age'];
  if (headers.expires === undefined) return undefined;
  // RFC 9111 §5.3: an Expires that is not an HTTP-date means already expired
  const expires = parseHttpDate(headers.expires);
  if (expires === undefined) return [0, 'Expires (not an HTTP-date: already expired)'];
  const date = parseHttpDate(headers.date) ?? now;
  return [Math.round((expires - date) / 1000), 'Expires'];
}

const listOf = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean);
const seconds = (v: string | true | undefined) =>
  typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
const notStored = (from: string, why: string, rule?: string): TtlDecision => ({
  ttl: -1,
  grace: 0,
  keep: 0,
  from,
  uncacheable: why,
  rule,
});

/** builtin.vcl's vcl_recv, one named rule each: the first that returns an action decides. */
export const recvRules: Record<string, RecvRule> = {
  vcl_req_host(req) {
    // RFC 9112 §3.2 (the front end already refuses HTTP/1.1 without Host)
    if (!req.host) return { action: 'synth', status: 400, reason: 'Bad Request: no Host' };
  },
  vcl_req_method(req) {
    // PRI is HTTP/2's preface, never a method; unknown methods and Upgrade are piped; others pass
    if (req.method === 'PRI') return { action: 'synth', status: 405, reason: 'Method Not Allowed' };
    if (req.headers.upgrade) return { action: 'pipe', why: `Upgrade: ${req.headers.upgrade} is piped` };
    if (!KNOWN_METHODS.has(req.method)) return { action: 'pipe', why: `method ${req.method} is piped` };
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return { action: 'pass', why: `${req.method} is never cached` };
  },
  vcl_req_authorization(req) {
    // RFC 9111 §3.5: a shared cache does not answer requests with credentials from its store
    if (req.headers.authorization) return { action: 'pass', why: 'the request carries Authorization' };
  },
  vcl_req_cookie(req) {
    if (req.headers.cookie) return { action: 'pass', why: 'the request carries a Cookie' };
  },
};

/** builtin.vcl's vcl_backend_response rules: what is never stored (hit-for-miss instead). */
export const berespRules: Record<string, BerespRule> = {
  vcl_beresp_control(_req, _res, cc) {
    // RFC 9111 §5.2.2.5, §5.2.2.7
    if (cc.has('no-store')) return 'Cache-Control: no-store';
    if (cc.has('private')) return 'Cache-Control: private';
  },
  vcl_beresp_cookie(_req, res) {
    if (res.headers['set-cookie']) return 'the response sets a cookie';
  },
  vcl_beresp_vary(_req, res) {
    // RFC 9111 §4.1: Vary * (alone or in a list) never matches a later request
    if (listOf(res.headers.vary).includes('*')) return `Vary: ${res.headers.vary}`;
  },
};

/** Runs rules in order; the first answer wins, named. */
function firstRule<A extends unknown[], R>(
  rules: Record<string, (...a: A) => R | undefined>,
  ...args: A
): [string, R] | undefined {
  for (const [name, rule] of Object.entries(rules)) {
    const r = rule(...args);
    if (r !== undefined) return [name, r];
  }
  return undefined;
}

/**
 * A workshop's VCL over another: any hook replaced, and rules replaced, added or switched off by name
 * (a rule set to `() => undefined` decides nothing). Example: cache despite cookies is one rule,
 * `extendVcl(defaultVcl, { recvRules: { vcl_req_cookie: () => undefined } })`.
 */
export function extendVcl(
  base: Vcl,
  over: Partial<Omit<Vcl, 'recvRules' | 'berespRules'>> & {
    recvRules?: Record<string, RecvRule>;
    berespRules?: Record<string, BerespRule>;
  },
): Vcl {
  return {
    ...base,
    ...over,
    recvRules: { ...base.recvRules, ...over.recvRules },
    berespRules: { ...base.berespRules, ...over.berespRules },
  };
}

/** Like builtin.vcl, plus RFC 9111's rules for a shared cache. */
export const defaultVcl: Vcl = {
  name: 'default',
  recvRules,
  berespRules,

  recv(req) {
    const decided = firstRule(this.recvRules, req);
    return decided ? { ...decided[1], rule: decided[0] } : { action: 'hash' };
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
    // RFC 9111 §4.2.4: a response that must be revalidated is never served stale
    if (obj.mustRevalidate) return { action: 'miss', why: 'expired, and it must be revalidated' };
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

  backendResponse(req, res, now) {
    // vcl_backend_response + RFC 9111 §3 and §4.2.1 for a shared cache
    const cc = parseCacheControl(res.headers['cache-control']);
    // RFC 9111 §4.2.4, §5.2.2.2, §5.2.2.4, §5.2.2.8, §5.2.2.10: never served stale, even if the backend is down
    const mustRevalidate =
      cc.has('must-revalidate') || cc.has('proxy-revalidate') || cc.has('no-cache') || cc.has('s-maxage');
    const grace = mustRevalidate ? 0 : (seconds(cc.get('stale-while-revalidate')) ?? params.default_grace);
    const keep = seconds(cc.get('stale-if-error')) ?? params.default_keep;
    const refused = firstRule(this.berespRules, req, res, cc);
    if (refused) return notStored(refused[0], refused[1], refused[0]);
    const explicit = explicitFreshness(cc, res.headers, now);
    // RFC 9111 §3: other statuses are stored only with explicit freshness (302 and 307 with max-age)
    // (params.cacheable_statuses: RFC 9110 §15.1's list less 206, as this cache stores whole objects only)
    if (!explicit && !params.cacheable_statuses.includes(res.status))
      return notStored(
        'status',
        `status ${res.status} is not cacheable without explicit freshness`,
        'vcl_beresp_status',
      );
    const [ttl, from] = explicit ?? [params.default_ttl, 'default_ttl (like Varnish)'];
    // RFC 9111 §5.2.2.4: no-cache may be stored but must be revalidated before each use
    if (cc.has('no-cache'))
      return {
        ttl: 0,
        grace: 0,
        keep,
        mustRevalidate,
        from: 'Cache-Control: no-cache (store, revalidate every time)',
      };
    // RFC 9111 §4.2.3: the time it already spent in caches upstream counts; §5.1: an invalid Age is ignored
    const left = ttl - (seconds(res.headers.age) ?? 0);
    // builtin.vcl's vcl_beresp_stale
    if (left <= 0) return notStored(from, `already stale on arrival (${from})`, 'vcl_beresp_stale');
    return { ttl: left, grace, keep, from, mustRevalidate };
  },

  deliver(_req, headers, info) {
    // vcl_deliver: say what happened
    headers['x-cache'] = info.xCache;
    headers['x-cache-hits'] = String(info.hits);
    // RFC 9111 §5.1: a passed response keeps the Age it came with; a stored one says its own (§4.2.3)
    if (info.xCache !== 'PASS') headers.age = String(Math.max(0, Math.floor(info.age)));
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
