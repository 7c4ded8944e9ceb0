// The proxy's backend side (Varnish's vcl_backend_fetch and vcl_backend_response): fetching from the
// app for a miss or a pass, then deciding the TTL and storing the object (or a hit-for-miss marker).
import type { BackendReply } from './backend.js';
import type { FlowDeps } from './flow.js';
import type { CachedObject } from './store.js';
import { HIT_FOR_MISS_TTL, type ProxyRequest } from './vcl.js';

// a miss fetches the whole object, unconditionally: the client's own Range and conditions are
// answered from the stored object at delivery (RFC 9111 §3.4, RFC 9110 §13.2.1)
const CONDITIONAL = [
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'range',
];
export const EMPTY = Buffer.alloc(0);

/** vcl_backend_fetch */
export async function fetchFromBackend(
  d: FlowDeps,
  p: ProxyRequest,
  mode: 'miss' | 'pass',
  stale?: CachedObject,
): Promise<BackendReply> {
  const bereq = { method: p.method, headers: { ...p.headers, ...d.backendHeaders(p) } };
  if (mode === 'miss') {
    for (const h of CONDITIONAL) delete bereq.headers[h];
    d.vcl.backendFetch(p, bereq);
    // RFC 9111 §4.3.1: revalidate what we hold
    if (stale?.headers.etag) bereq.headers['if-none-match'] = stale.headers.etag;
    if (stale?.headers['last-modified']) bereq.headers['if-modified-since'] = stale.headers['last-modified'];
  }
  const body = mode === 'pass' ? p.body : undefined;
  if (body?.length) bereq.headers['content-length'] = String(body.length);
  else delete bereq.headers['content-length'];
  const r = await d.backend
    .fetch({
      method: bereq.method,
      url: p.url,
      headers: bereq.headers,
      body,
      onInformational: d.informational,
    })
    .catch((err: Error) => {
      // one failed fetch: an event and a 503 (or the stale object) for it; health is the probe's
      d.events.emit({
        kind: 'backend.error',
        trace: d.trace,
        summary: `fetching ${bereq.method} ${p.host}${p.url} from the app failed: ${err.message}`,
        data: { url: `${p.host}${p.url}`, method: bereq.method, why: err.message, mode },
      });
      throw err;
    });
  d.events.emit({
    kind: 'backend.fetch',
    trace: d.trace,
    summary: `fetches ${bereq.method} ${p.host}${p.url} from the app: ${r.status} in ${r.ms.toFixed(1)} ms${stale ? ' (revalidation)' : ''}`,
    data: {
      url: `${p.host}${p.url}`,
      method: bereq.method,
      status: r.status,
      ms: Math.round(r.ms * 100) / 100,
      conditional: !!stale,
      bytes: r.body.length,
      mode,
    },
  });
  return r;
}

/** vcl_backend_response: derive the TTL, store the object (or a hit-for-miss marker). */
export function backendResponse(
  d: FlowDeps,
  p: ProxyRequest,
  hash: string,
  r: BackendReply,
  now: number,
): CachedObject {
  const decision = d.vcl.backendResponse(p, { status: r.status, headers: r.headers }, now);
  const varyNames = (r.headers.vary ?? '')
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
  const vary = Object.fromEntries(varyNames.map((h) => [h, p.headers[h] ?? '']));
  // RFC 9111 §4.2.3: time spent upstream (Age) counts toward the object's age
  const upstreamAge = decision.ttl >= 0 ? Math.max(0, Number(r.headers.age) || 0) : 0;
  const obj: CachedObject = {
    status: r.status,
    headers: r.headers,
    body: r.body,
    storedAt: now - upstreamAge * 1000,
    ttl: decision.ttl + upstreamAge,
    grace: decision.grace,
    keep: decision.keep,
    vary,
    hits: 0,
    hash,
    mustRevalidate: decision.mustRevalidate,
  };
  if (decision.ttl >= 0 && !decision.uncacheable) {
    d.store.insert(obj);
    d.events.emit({
      kind: 'cache.store',
      trace: d.trace,
      summary: `stores ${p.host}${p.url} for ${decision.ttl} s (from ${decision.from}; grace ${decision.grace} s)${varyNames.length ? `, varying on ${varyNames.join(', ')}` : ''}`,
      data: {
        hash,
        ttl: decision.ttl,
        from: decision.from,
        grace: decision.grace,
        keep: decision.keep,
        vary: varyNames,
        status: r.status,
        bytes: r.body.length,
      },
    });
  } else {
    // hit-for-miss: remember for a while that this object is not cacheable, so requests don't queue
    d.store.insert({
      ...obj,
      body: EMPTY,
      storedAt: now,
      ttl: HIT_FOR_MISS_TTL,
      grace: 0,
      keep: 0,
      hitForMiss: true,
    });
    d.events.emit({
      kind: 'cache.uncacheable',
      trace: d.trace,
      summary: `does not store ${p.host}${p.url}: ${decision.uncacheable ?? `TTL ${decision.ttl} s`}${decision.rule ? ` (${decision.rule})` : ''} (hit-for-miss for ${HIT_FOR_MISS_TTL} s)`,
      data: {
        hash,
        why: decision.uncacheable ?? `ttl ${decision.ttl}`,
        from: decision.from,
        ...(decision.rule ? { rule: decision.rule } : {}),
      },
    });
    obj.hitForMiss = true;
  }
  return obj;
}
