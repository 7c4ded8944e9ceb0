import { describe, expect, it } from 'vitest';
import { ifRangeMatches, parseRange } from '../../../services/proxy/range.js';

describe('Range on a stored 10-byte object (RFC 9110 §14.1.2)', () => {
  it('cuts a single range, an open-ended one and a suffix, clamped to the length', () => {
    expect(parseRange('bytes=0-4', 10)).toEqual({ kind: 'partial', start: 0, end: 4 });
    expect(parseRange('bytes=7-', 10)).toEqual({ kind: 'partial', start: 7, end: 9 });
    expect(parseRange('bytes=-3', 10)).toEqual({ kind: 'partial', start: 7, end: 9 });
    expect(parseRange('bytes=2-100', 10)).toEqual({ kind: 'partial', start: 2, end: 9 });
    expect(parseRange('bytes=-20', 10)).toEqual({ kind: 'partial', start: 0, end: 9 });
    expect(parseRange('Bytes = 1-1', 10)).toEqual({ kind: 'partial', start: 1, end: 1 });
  });
  it('calls a range past the end, or an empty suffix, unsatisfiable (RFC 9110 §15.5.17)', () => {
    expect(parseRange('bytes=20-', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=10-12', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 10)).toEqual({ kind: 'unsatisfiable' });
  });
  it('ignores several ranges, other units and invalid ones: the whole 200 (RFC 9110 §14.2)', () => {
    expect(parseRange('bytes=0-1,4-5', 10).kind).toBe('full');
    expect(parseRange('items=0-1', 10).kind).toBe('full');
    expect(parseRange('bytes=5-2', 10).kind).toBe('full');
    expect(parseRange('bytes=abc', 10).kind).toBe('full');
    expect(parseRange('bytes=-', 10).kind).toBe('full');
  });
  it('honours If-Range only with a strong ETag or the exact Last-Modified (RFC 9110 §13.1.5)', () => {
    const stored = { etag: '"e1"', 'last-modified': 'Tue, 24 Nov 2026 10:00:00 GMT' };
    expect(ifRangeMatches(undefined, stored)).toBe(true);
    expect(ifRangeMatches('"e1"', stored)).toBe(true);
    expect(ifRangeMatches('"e2"', stored)).toBe(false);
    expect(ifRangeMatches('W/"e1"', stored)).toBe(false);
    expect(ifRangeMatches('"e1"', { etag: 'W/"e1"' })).toBe(false);
    expect(ifRangeMatches('Tue, 24 Nov 2026 10:00:00 GMT', stored)).toBe(true);
    expect(ifRangeMatches('Tue, 24 Nov 2026 10:00:01 GMT', stored)).toBe(false);
  });
});
