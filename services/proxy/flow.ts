// One request through the proxy, as Varnish's state machine: recv → hash → hit | miss | pass | pipe →
// backend fetch → backend response → deliver (or synth). Each state asks its hook in vcl.ts what to
// do, and emits its event. Pipe is streamed by main.ts (http-proxy-3); everything else is buffered.
// The backend fetch and backend response states live in backend-fetch.ts.
import type { Emitter } from '../common/events.js';
import type { Backend, BackendReply } from './backend.js';
import { backendResponse, EMPTY, fetchFromBackend } from './backend-fetch.js';
import type { CacheLookupExtra, CacheLookupResult, ProxyEvent } from './events.js';
import { parseHttpDate } from './http-date.js';
import { ifRangeMatches, parseRange } from './range.js';
import { type CachedObject, freshness, type ObjectStore } from './store.js';
import type { ProxyRequest, RecvAction, Vcl } from './vcl.js';

export interface Delivery {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  xCache: 'HIT' | 'MISS' | 'PASS' | 'SYNTH' | 'PIPE';
}

export interface FlowDeps {
  vcl: Vcl;
  store: ObjectStore;
  backend: Backend;
  events: Emitter<ProxyEvent>;
  /** a 1xx interim response from the app for this client (103 Early Hints), sent on before the answer */
  informational?(status: number, headers: Record<string, string>): void;
  /** headers the proxy adds toward the backend (X-Forwarded-*, Via, traceparent) */
  backendHeaders(p: ProxyRequest): Record<string, string>;
  trace?: string;
}

/** Varnish's waiting list: concurrent misses for one object wait for a single backend fetch. */
const waiting = new Map<string, Promise<CachedObject | BackendReply>>();
/** how many times a waiter goes back to the lookup before it passes instead (Varnish's rush) */
const MAX_RUSHES = 10;

// RFC 9110 §9.2.1
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const NOT_MODIFIED_HEADERS = [
  'etag',
  'last-modified',
  'cache-control',
  'expires',
  'vary',
  'date',
  'age',
  'x-cache',
  'x-cache-hits',
];

/** RFC 9110 §13.1.1-§13.1.3: If-None-Match wins over If-Modified-Since. */
export function notModified(reqHeaders: Record<string, string>, stored: Record<string, string>): boolean {
  const inm = reqHeaders['if-none-match'];
  if (inm) {
    if (inm.trim() === '*') return true;
    const etag = stored.etag?.replace(/^W\//, '');
    return !!etag && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
  }
  // RFC 9110 §13.1.3: an If-Modified-Since that is not an HTTP-date is ignored
  const ims = parseHttpDate(reqHeaders['if-modified-since']);
  const lm = parseHttpDate(stored['last-modified']);
  return ims !== undefined && lm !== undefined && lm <= ims;
}

/** vcl_deliver */
function deliverObject(
  d: FlowDeps,
  p: ProxyRequest,
  o: CachedObject,
  xCache: 'HIT' | 'MISS',
  now: number,
): Delivery {
  const headers = { ...o.headers };
  d.vcl.deliver(p, headers, { xCache, age: freshness(o, now).age, hits: o.hits });
  // RFC 9111 §4.3.2: a stored response answers a matching conditional request with 304
  if (o.status === 200 && notModified(p.headers, o.headers)) {
    const keep: Record<string, string> = {};
    for (const k of NOT_MODIFIED_HEADERS) if (headers[k]) keep[k] = headers[k];
    return { status: 304, headers: keep, body: EMPTY, xCache };
  }
  if (o.status === 200) {
    headers['accept-ranges'] = 'bytes';
    // RFC 9110 §14.2: Range is defined for GET only; If-Range that does not match gets the whole object
    const range = p.headers.range;
    if (range !== undefined && p.method === 'GET' && ifRangeMatches(p.headers['if-range'], o.headers))
      return partial(d, p, headers, o.body, range, xCache);
  }
  // RFC 9110 §9.3.2: HEAD gets GET's headers, Content-Length included (the front end sends no body)
  return { status: o.status, headers, body: o.body, xCache };
}

/** RFC 9110 §14: a 206 cut from the stored complete body, or 416, or the whole 200. */
function partial(
  d: FlowDeps,
  p: ProxyRequest,
  headers: Record<string, string>,
  body: Buffer,
  range: string,
  xCache: 'HIT' | 'MISS',
): Delivery {
  const r = parseRange(range, body.length);
  d.events.emit({
    kind: 'cache.range',
    trace: d.trace,
    summary: `Range ${range} on ${p.host}${p.url} (${body.length} bytes stored): ${r.kind === 'partial' ? `206, bytes ${r.start}-${r.end}` : r.kind === 'unsatisfiable' ? '416' : `200, the whole object (${r.why})`}`,
    data: { range, length: body.length, answer: r.kind },
  });
  if (r.kind === 'full') return { status: 200, headers, body, xCache };
  if (r.kind === 'unsatisfiable') {
    // RFC 9110 §15.5.17: 416 says the current length
    headers['content-range'] = `bytes */${body.length}`;
    return { status: 416, headers, body: EMPTY, xCache };
  }
  // RFC 9110 §14.4: Content-Range of a single-part 206
  headers['content-range'] = `bytes ${r.start}-${r.end}/${body.length}`;
  return { status: 206, headers, body: body.subarray(r.start, r.end + 1), xCache };
}

/** vcl_synth */
export function synth(d: FlowDeps, status: number, reason: string, rule?: string): Delivery {
  const s = d.vcl.synth(status, reason);
  const headers = Object.fromEntries(Object.entries(s.headers).filter(([, v]) => v !== ''));
  d.events.emit({
    kind: 'cache.synth',
    trace: d.trace,
    summary: `answers ${status} ${reason} itself (vcl_synth${rule ? `, from ${rule}` : ''})`,
    data: { status, reason, ...(rule ? { rule } : {}) },
  });
  return { status, headers, body: Buffer.from(s.body), xCache: 'SYNTH' };
}

function lookupEvent(
  d: FlowDeps,
  p: ProxyRequest,
  result: CacheLookupResult,
  why: string,
  extra: CacheLookupExtra = {},
) {
  d.events.emit({
    kind: 'cache.lookup',
    trace: d.trace,
    summary: `cache ${result.toUpperCase()} for ${p.host}${p.url}: ${why}`,
    data: { result, why, url: `${p.host}${p.url}`, vcl: d.vcl.name, ...extra },
  });
}

/** vcl_pass: fetch for this client only, store nothing. */
async function pass(d: FlowDeps, p: ProxyRequest, why: string, rule?: string): Promise<Delivery> {
  d.vcl.pass(p);
  lookupEvent(d, p, 'pass', rule ? `${why} (${rule})` : why, rule ? { rule } : {});
  d.store.stats.passes++;
  try {
    const r = await fetchFromBackend(d, p, 'pass');
    invalidateAfterUnsafe(d, p, r.status, r.headers);
    const headers = { ...r.headers };
    d.vcl.deliver(p, headers, { xCache: 'PASS', age: 0, hits: 0 });
    return { status: r.status, headers, body: p.method === 'HEAD' ? EMPTY : r.body, xCache: 'PASS' };
  } catch (err) {
    return synth(d, 503, `Backend fetch failed: ${(err as Error).message}`);
  }
}

/**
 * RFC 9111 §4.4: a successful unsafe request (POST, PUT, DELETE, PATCH, any unknown method) makes
 * what is stored for its URI, and for a Location or Content-Location on the same host, stale.
 */
export function invalidateAfterUnsafe(
  d: Pick<FlowDeps, 'store' | 'vcl' | 'events' | 'trace'>,
  p: ProxyRequest,
  status: number,
  headers: Record<string, string>,
) {
  // a non-error status (2xx, 3xx) to a method not known to be safe
  if (SAFE_METHODS.has(p.method) || status < 200 || status >= 400) return;
  const base = new URL(`http://${p.host}${p.url}`);
  const urls = new Set([`${base.pathname}${base.search}`]);
  for (const h of ['location', 'content-location']) {
    const v = headers[h];
    if (!v) continue;
    let u: URL;
    try {
      u = new URL(v, base);
    } catch {
      continue;
    }
    // RFC 9111 §4.4: never for another host (that would let one origin purge another's objects)
    if (u.hostname === p.host) urls.add(`${u.pathname}${u.search}`);
  }
  for (const url of urls) {
    const removed = d.store.purge(d.vcl.hash({ ...p, url }));
    d.events.emit({
      kind: 'cache.purge',
      trace: d.trace,
      summary: `${p.method} ${p.host}${p.url} answered ${status}: ${p.host}${url} invalidated, ${removed} object(s) removed (RFC 9111 §4.4)`,
      data: { method: p.method, target: `${p.host}${url}`, removed, by: 'invalidation' },
    });
  }
}

/**
 * The state machine. A fresh hit is answered synchronously (no promise, no microtask): the hot path.
 * vcl_recv runs once per request: the front end passes its decision in (it needs it to pipe).
 */
export function handleRequest(
  d: FlowDeps,
  p: ProxyRequest,
  now = Date.now(),
  r: RecvAction = d.vcl.recv(p),
): Delivery | Promise<Delivery> {
  if (r.action === 'synth') return synth(d, r.status, r.reason, r.rule);
  if (r.action === 'pass' || r.action === 'pipe') return pass(d, p, r.why, r.rule);
  // vcl_hash, then the lookup
  return lookup(d, p, d.vcl.hash(p), now, 0);
}

/** The lookup (Varnish's HSH_Lookup): the variant for this request's Vary headers, then vcl_hit or vcl_miss. */
function lookup(
  d: FlowDeps,
  p: ProxyRequest,
  hash: string,
  now: number,
  rushes: number,
): Delivery | Promise<Delivery> {
  const obj = d.store.lookup(hash, p.headers);
  const state = obj ? freshness(obj, now) : undefined;
  if (obj?.hitForMiss && state?.state === 'fresh')
    return pass(d, p, 'hit-for-miss: the last answer was not cacheable');
  // vcl_hit
  if (obj && state && state.state !== 'dead' && !obj.hitForMiss) {
    const hit = d.vcl.hit(p, {
      state: state.state,
      age: state.age,
      ttl: obj.ttl,
      backendHealthy: d.backend.healthy(),
      mustRevalidate: !!obj.mustRevalidate,
    });
    if (hit.action === 'pass') return pass(d, p, hit.why);
    if (hit.action === 'deliver') {
      obj.hits++;
      d.store.stats.hits++;
      lookupEvent(d, p, state.state === 'fresh' ? 'hit' : 'stale', hit.why, {
        age: Math.floor(state.age),
        hits: obj.hits,
      });
      // grace: deliver the stale object now, refresh it in the background (stale-while-revalidate)
      if (hit.refresh) backgroundRefresh(d, p, hash, obj, now);
      return deliverObject(d, p, obj, 'HIT', now);
    }
  }
  return miss(d, p, hash, obj && !obj.hitForMiss && state?.state !== 'dead' ? obj : undefined, now, rushes);
}

/** vcl_miss: one fetch for everyone waiting (or revalidation of what is stored), then deliver. */
async function miss(
  d: FlowDeps,
  p: ProxyRequest,
  hash: string,
  stale: CachedObject | undefined,
  now: number,
  rushes: number,
): Promise<Delivery> {
  const decision = d.vcl.miss(p);
  if (decision.action === 'pass') return pass(d, p, decision.why);
  const busy = waiting.get(hash);
  if (busy) return waitThenLookUp(d, p, hash, busy, stale, now, rushes);
  d.store.stats.misses++;
  lookupEvent(d, p, 'miss', stale ? 'the stored object has expired: revalidating' : 'not in the cache', {
    waiting: false,
  });
  try {
    const fetched = await coalescedFetch(d, p, hash, stale, now);
    if (!('storedAt' in fetched))
      return { status: fetched.status, headers: fetched.headers, body: fetched.body, xCache: 'MISS' };
    return deliverObject(d, p, fetched, 'MISS', now);
  } catch (err) {
    return fetchFailed(d, p, stale, err as Error, now);
  }
}

/**
 * Varnish's waiting list: wait for the fetch in progress for this hash, then go back to the lookup.
 * Its answer may be another variant (Vary) or not cacheable: then this request fetches its own.
 */
async function waitThenLookUp(
  d: FlowDeps,
  p: ProxyRequest,
  hash: string,
  busy: Promise<unknown>,
  stale: CachedObject | undefined,
  now: number,
  rushes: number,
): Promise<Delivery> {
  if (rushes >= MAX_RUSHES) return pass(d, p, `still busy after waiting ${rushes} times`);
  lookupEvent(d, p, 'miss', 'another request is fetching it: waiting for that fetch', { waiting: true });
  try {
    await busy;
  } catch (err) {
    // the fetch we waited for failed: so does ours, without asking the backend again
    return fetchFailed(d, p, stale, err as Error, now);
  }
  return lookup(d, p, hash, now, rushes + 1);
}

/** The backend failed: the stale object if its rules allow, else 503. */
function fetchFailed(
  d: FlowDeps,
  p: ProxyRequest,
  stale: CachedObject | undefined,
  err: Error,
  now: number,
): Delivery {
  // RFC 9111 §4.2.4, §5.2.2.2: no stale copy of what must be revalidated; 504 is the answer
  if (stale?.mustRevalidate) return synth(d, 504, 'Gateway Timeout: the stored response must be revalidated');
  if (stale) {
    // RFC 5861 §4 stale-if-error
    lookupEvent(d, p, 'stale', `the backend failed (${err.message}): serving the stale object`);
    return deliverObject(d, p, stale, 'HIT', now);
  }
  return synth(d, 503, 'Backend fetch failed');
}

/** grace: the refresh runs after the stale object was delivered; its failure is an event, not silence. */
function backgroundRefresh(d: FlowDeps, p: ProxyRequest, hash: string, obj: CachedObject, now: number) {
  if (waiting.has(hash)) return;
  coalescedFetch(d, p, hash, obj, now).catch((err: Error) =>
    d.events.emit({
      kind: 'cache.refresh-failed',
      trace: d.trace,
      summary: `the background refresh of ${p.host}${p.url} failed: ${err.message} (the stale object stays)`,
      data: { url: `${p.host}${p.url}`, why: err.message },
    }),
  );
}

/** vcl_backend_fetch once per object, however many clients wait for it (Varnish's waiting list). */
function coalescedFetch(
  d: FlowDeps,
  p: ProxyRequest,
  hash: string,
  stale: CachedObject | undefined,
  now: number,
): Promise<CachedObject | BackendReply> {
  const pending = waiting.get(hash);
  if (pending) return pending;
  const job = (async () => {
    const r = await fetchFromBackend(d, p, 'miss', stale);
    // RFC 9111 §3.3: a fetch without Range answered with part of the object is a backend error (as Varnish)
    if (r.status === 206)
      throw new Error('the backend answered 206 Partial Content to a request without Range');
    if (r.status === 304 && stale) {
      // revalidated: the stored body is still good; refresh its headers and its time
      return backendResponse(
        d,
        p,
        hash,
        { ...r, status: stale.status, headers: { ...stale.headers, ...r.headers }, body: stale.body },
        now,
      );
    }
    // a 5xx is an error we may hide behind the stale object, unless it must be revalidated (RFC 9111 §4.2.4)
    if (r.status >= 500 && stale && !stale.mustRevalidate) throw new Error(`backend answered ${r.status}`);
    return backendResponse(d, p, hash, r, now);
  })();
  waiting.set(hash, job);
  const forget = () => waiting.delete(hash);
  job.then(forget, forget);
  return job;
}
