// Range requests answered from a stored complete response (RFC 9110 §14), as Varnish's range delivery
// does: the cache always holds the whole object; a 206 is cut from it at delivery, never stored.

export type RangeAnswer =
  /** ignore the Range field: the full 200 (RFC 9110 §14.2 lets a server ignore Range) */
  { kind: 'full'; why: string } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

// RFC 9110 §14.1.1: int-range = first-pos "-" [ last-pos ]; suffix-range = "-" suffix-length
const RANGE_SPEC = /^(\d*)-(\d*)$/;

/** Which bytes of a `length`-byte representation a `Range` field asks for (RFC 9110 §14.1.2). */
export function parseRange(field: string, length: number): RangeAnswer {
  const eq = field.indexOf('=');
  // RFC 9110 §14.2: a range unit we do not know is ignored
  if (eq < 0 || field.slice(0, eq).trim().toLowerCase() !== 'bytes')
    return { kind: 'full', why: 'not a bytes range' };
  const specs = field
    .slice(eq + 1)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // a teaching choice: one range only, as Varnish; several get the whole object (RFC 9110 §14.2 allows it)
  if (specs.length !== 1)
    return { kind: 'full', why: specs.length ? 'several ranges' : 'an empty range set' };
  const m = RANGE_SPEC.exec(specs[0]);
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full', why: 'not a valid range' };
  if (m[1] === '') {
    // RFC 9110 §14.1.1: a suffix range, the last N bytes
    const suffix = Number(m[2]);
    if (suffix === 0 || length === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, length - suffix), end: length - 1 };
  }
  const first = Number(m[1]);
  const last = m[2] === '' ? Number.POSITIVE_INFINITY : Number(m[2]);
  if (last < first) return { kind: 'full', why: 'not a valid range (last before first)' };
  // RFC 9110 §14.1.1: satisfiable when first-pos is below the length
  if (first >= length) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start: first, end: Math.min(last, length - 1) };
}

/** RFC 9110 §13.1.5: If-Range with a strong ETag or the exact Last-Modified date; else the full 200. */
export function ifRangeMatches(ifRange: string | undefined, stored: Record<string, string>): boolean {
  if (ifRange === undefined) return true;
  const v = ifRange.trim();
  if (v.startsWith('"')) return !!stored.etag && !stored.etag.startsWith('W/') && stored.etag === v;
  if (v.startsWith('W/')) return false;
  return !!stored['last-modified'] && stored['last-modified'] === v;
}
