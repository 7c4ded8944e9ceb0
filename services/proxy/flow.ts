// One request through the proxy, as Varnish's state machine: recv → hash → hit | miss | pass →
// backend fetch → backend response → deliver (or synth). Each state emits its event.
import type { Emitter } from '../common/events.js';
import type { Backend, BackendReply } from './backend.js';
import { type CachedObject, freshness, type ObjectStore } from './store.js';
import { HIT_FOR_MISS_TTL, type ProxyRequest, type Vcl } from './vcl.js';

export interface Delivery {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  xCache: 'HIT' | 'MISS' | 'PASS' | 'SYNTH';
}

export interface FlowDeps {
  vcl: Vcl;
  store: ObjectStore;
  backend: Backend;
  events: Emitter;
  /** headers the proxy adds toward the backend (X-Forwarded-*, Via, traceparent) */
  backendHeaders(p: ProxyRequest): Record<string, string>;
  trace?: string;
}

/** Varnish's waiting list: concurrent misses for one object wait for a single backend fetch. */
const waiting = new Map<string, Promise<CachedObject | BackendReply>>();

const CONDITIONAL = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range'];

function notModified(p: ProxyRequest, o: CachedObject): boolean {
  const inm = p.headers['if-none-match'];
  if (inm && o.headers.etag) return inm.split(',').some((t) => t.trim().replace(/^W\//, '') === o.headers.etag.replace(/^W\//, '') || t.trim() === '*');
  const ims = Date.parse(p.headers['if-modified-since'] ?? '');
  const lm = Date.parse(o.headers['last-modified'] ?? '');
  return !inm && !Number.isNaN(ims) && !Number.isNaN(lm) && lm <= ims;
}

function deliverObject(d: FlowDeps, p: ProxyRequest, o: CachedObject, xCache: 'HIT' | 'MISS', now: number): Delivery {
  const { age } = freshness(o, now);
  const headers = { ...o.headers };
  d.vcl.deliver(p, headers, { xCache, age, hits: o.hits });
  // RFC 9111 §4.3.2: a fresh stored response answers a matching conditional request with 304
  if (xCache === 'HIT' && o.status === 200 && notModified(p, o)) {
    const keep: Record<string, string> = {};
    for (const k of ['etag', 'last-modified', 'cache-control', 'expires', 'vary', 'date', 'age', 'x-cache', 'x-cache-hits']) if (headers[k]) keep[k] = headers[k];
    return { status: 304, headers: keep, body: Buffer.alloc(0), xCache };
  }
  return { status: o.status, headers, body: p.method === 'HEAD' ? Buffer.alloc(0) : o.body, xCache };
}

export function synth(d: FlowDeps, status: number, reason: string): Delivery {
  const s = d.vcl.synth(status, reason);
  const headers = Object.fromEntries(Object.entries(s.headers).filter(([, v]) => v !== ''));
  d.events.emit({ kind: 'cache.synth', trace: d.trace, summary: `answers ${status} ${reason} itself (vcl_synth)`, data: { status, reason } });
  return { status, headers, body: Buffer.from(s.body), xCache: 'SYNTH' };
}

async function fetchFromBackend(d: FlowDeps, p: ProxyRequest, conditional?: CachedObject): Promise<BackendReply> {
  const headers: Record<string, string> = { ...p.headers, ...d.backendHeaders(p) };
  if (conditional) {
    for (const h of CONDITIONAL) delete headers[h];
    // RFC 9111 §4.3.1: revalidate what we hold
    if (conditional.headers.etag) headers['if-none-match'] = conditional.headers.etag;
    if (conditional.headers['last-modified']) headers['if-modified-since'] = conditional.headers['last-modified'];
  }
  const r = await d.backend.fetch({ method: p.method === 'HEAD' && !conditional ? 'GET' : p.method, url: p.url, headers });
  d.events.emit({
    kind: 'backend.fetch',
    trace: d.trace,
    summary: `fetches ${p.method} ${p.host}${p.url} from the app: ${r.status} in ${r.ms.toFixed(1)} ms${conditional ? ' (revalidation)' : ''}`,
    data: { url: `${p.host}${p.url}`, status: r.status, ms: Math.round(r.ms * 100) / 100, conditional: !!conditional, bytes: r.body.length },
  });
  return r;
}

/** vcl_backend_response: derive the TTL, store the object (or a hit-for-miss marker). */
function backendResponse(d: FlowDeps, p: ProxyRequest, hash: string, r: BackendReply, now: number): CachedObject {
  const decision = d.vcl.backendResponse(p, { status: r.status, headers: r.headers }, now);
  const varyNames = (r.headers.vary ?? '').split(',').map((v) => v.trim().toLowerCase()).filter(Boolean);
  const vary = Object.fromEntries(varyNames.map((h) => [h, p.headers[h] ?? '']));
  const obj: CachedObject = { status: r.status, headers: r.headers, body: r.body, storedAt: now, ttl: decision.ttl, grace: decision.grace, keep: decision.keep, vary, hits: 0, hash };
  if (decision.ttl > 0 || (decision.ttl === 0 && !decision.uncacheable)) {
    d.store.insert(obj);
    d.events.emit({
      kind: 'cache.store',
      trace: d.trace,
      summary: `stores ${p.host}${p.url} for ${decision.ttl} s (from ${decision.from}; grace ${decision.grace} s)${varyNames.length ? `, varying on ${varyNames.join(', ')}` : ''}`,
      data: { hash, ttl: decision.ttl, from: decision.from, grace: decision.grace, keep: decision.keep, vary: varyNames, status: r.status, bytes: r.body.length },
    });
  } else {
    // hit-for-miss: remember for a while that this object is not cacheable, so requests don't queue
    d.store.insert({ ...obj, body: Buffer.alloc(0), ttl: HIT_FOR_MISS_TTL, grace: 0, keep: 0, hitForMiss: true });
    d.events.emit({
      kind: 'cache.uncacheable',
      trace: d.trace,
      summary: `does not store ${p.host}${p.url}: ${decision.uncacheable ?? `TTL ${decision.ttl} s`} (hit-for-miss for ${HIT_FOR_MISS_TTL} s)`,
      data: { hash, why: decision.uncacheable ?? `ttl ${decision.ttl}`, from: decision.from },
    });
  }
  return obj;
}

function lookupEvent(d: FlowDeps, p: ProxyRequest, result: string, why: string, extra: Record<string, unknown> = {}) {
  d.events.emit({ kind: 'cache.lookup', trace: d.trace, summary: `cache ${result.toUpperCase()} for ${p.host}${p.url}: ${why}`, data: { result, why, url: `${p.host}${p.url}`, ...extra } });
}

async function pass(d: FlowDeps, p: ProxyRequest, why: string): Promise<Delivery> {
  lookupEvent(d, p, 'pass', why);
  d.store.stats.passes++;
  try {
    const r = await fetchFromBackend(d, p);
    const headers = { ...r.headers };
    d.vcl.deliver(p, headers, { xCache: 'PASS', age: 0, hits: 0 });
    return { status: r.status, headers, body: p.method === 'HEAD' ? Buffer.alloc(0) : r.body, xCache: 'PASS' };
  } catch (err) {
    return synth(d, 503, `Backend fetch failed: ${(err as Error).message}`);
  }
}

export async function handleRequest(d: FlowDeps, p: ProxyRequest, now = Date.now()): Promise<Delivery> {
  // vcl_recv
  const recv = d.vcl.recv(p);
  if (recv.action === 'synth') return synth(d, recv.status, recv.reason);
  if (recv.action === 'pass' || recv.action === 'pipe') return pass(d, p, recv.why);
  // vcl_hash
  const hash = d.vcl.hash(p);
  const obj = d.store.lookup(hash, p.headers);
  if (obj?.hitForMiss && freshness(obj, now).state === 'fresh') return pass(d, p, 'hit-for-miss: the last answer was not cacheable');
  const state = obj ? freshness(obj, now) : undefined;
  // vcl_hit
  if (obj && state?.state === 'fresh') {
    obj.hits++;
    d.store.stats.hits++;
    lookupEvent(d, p, 'hit', `stored ${state.age.toFixed(0)} s ago, fresh for ${(obj.ttl - state.age).toFixed(0)} s more`, { age: Math.floor(state.age), hits: obj.hits });
    return deliverObject(d, p, obj, 'HIT', now);
  }
  if (obj && state?.state === 'grace' && d.backend.healthy()) {
    // grace: deliver the stale object now, refresh it in the background (stale-while-revalidate)
    obj.hits++;
    d.store.stats.hits++;
    lookupEvent(d, p, 'stale', `expired ${(state.age - obj.ttl).toFixed(0)} s ago, within grace: refreshing in the background`, { age: Math.floor(state.age) });
    void coalescedFetch(d, p, hash, obj, now).catch(() => {});
    return deliverObject(d, p, obj, 'HIT', now);
  }
  if (obj && (state?.state === 'grace' || state?.state === 'keep') && !d.backend.healthy()) {
    obj.hits++;
    lookupEvent(d, p, 'stale', 'the backend is sick: serving the stale object (stale-if-error)', { age: Math.floor(state?.age ?? 0) });
    return deliverObject(d, p, obj, 'HIT', now);
  }
  // vcl_miss
  d.store.stats.misses++;
  lookupEvent(d, p, 'miss', obj ? 'the stored object has expired: revalidating' : 'not in the cache', { waiting: waiting.has(hash) });
  try {
    const fetched = await coalescedFetch(d, p, hash, obj, now);
    if ('storedAt' in fetched) return deliverObject(d, p, fetched, 'MISS', now);
    return { status: fetched.status, headers: fetched.headers, body: fetched.body, xCache: 'MISS' };
  } catch (err) {
    if (obj && state && state.state !== 'dead') {
      lookupEvent(d, p, 'stale', `the backend failed (${(err as Error).message}): serving the stale object`);
      return deliverObject(d, p, obj, 'HIT', now);
    }
    return synth(d, 503, 'Backend fetch failed');
  }
}

/** vcl_backend_fetch, once per object however many clients are waiting for it. */
function coalescedFetch(d: FlowDeps, p: ProxyRequest, hash: string, stale: CachedObject | undefined, now: number): Promise<CachedObject | BackendReply> {
  const pending = waiting.get(hash);
  if (pending) return pending;
  const job = (async () => {
    const r = await fetchFromBackend(d, p, stale);
    if (r.status === 304 && stale) {
      // revalidated: the stored body is still good; refresh its headers and its time
      const refreshed = { ...stale, headers: { ...stale.headers, ...r.headers }, storedAt: now, hits: 0 };
      return backendResponse(d, p, hash, { ...r, status: stale.status, headers: refreshed.headers, body: stale.body }, now);
    }
    if (r.status >= 500 && stale) throw new Error(`backend answered ${r.status}`);
    return backendResponse(d, p, hash, r, now);
  })();
  waiting.set(hash, job);
  const forget = () => waiting.delete(hash);
  job.then(forget, forget);
  return job;
}
