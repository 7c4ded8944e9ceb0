// Cache-Control (RFC 9111 §5.2) and Vary (RFC 9110 §12.5.5), read the same way by both HTTP caches
// of the lab: the browser's private cache (services/browser/httpcache.ts) and the proxy's shared one
// (services/proxy/vcl.ts).

/** The directives of a Cache-Control field: `max-age=60, no-cache` → {max-age: '60', no-cache: true}. */
export function parseCacheControl(v: string | undefined): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (const part of (v ?? '').split(',')) {
    const [k, ...rest] = part.trim().split('=');
    if (!k) continue;
    out.set(k.toLowerCase(), rest.length ? rest.join('=').replace(/^"|"$/g, '') : true);
  }
  return out;
}

/** A directive's delta-seconds (RFC 9111 §1.2.2): a non-negative integer, or undefined. */
export function deltaSeconds(v: string | true | undefined): number | undefined {
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** The request header names a response varies on, lowercased (`*` included as is). */
export function varyNames(vary: string | undefined): string[] {
  return (vary ?? '')
    .split(',')
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean);
}

/** The values the request had for those names: what a stored response is kept under. */
export function varyValues(names: string[], requestHeaders: Record<string, string>): Record<string, string> {
  return Object.fromEntries(names.map((h) => [h, requestHeaders[h] ?? '']));
}

/**
 * RFC 9111 §4.1: a stored response is used for a later request only when every header the response
 * varies on has the same value in both requests; `Vary: *` never matches.
 */
export function varyMatches(
  vary: string | undefined,
  storedWith: Record<string, string> | undefined,
  requestHeaders: Record<string, string>,
): boolean {
  const names = varyNames(vary);
  if (names.includes('*')) return false;
  return names.every((h) => (storedWith?.[h] ?? '') === (requestHeaders[h] ?? ''));
}
