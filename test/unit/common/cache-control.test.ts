// The Cache-Control and Vary reading both caches share (services/common/http/cache-control.ts).
import { describe, expect, it } from 'vitest';
import {
  deltaSeconds,
  parseCacheControl,
  varyMatches,
  varyNames,
  varyValues,
} from '../../../services/common/http/cache-control.js';

describe('Cache-Control (RFC 9111 §5.2)', () => {
  it('reads directives, lowercased, with quoted and bare arguments', () => {
    const cc = parseCacheControl('Max-Age=60, no-cache, private="Set-Cookie", s-maxage="30",,');
    expect([...cc]).toEqual([
      ['max-age', '60'],
      ['no-cache', true],
      ['private', 'Set-Cookie'],
      ['s-maxage', '30'],
    ]);
    expect(parseCacheControl(undefined).size).toBe(0);
  });
  it('takes delta-seconds only as a non-negative integer', () => {
    expect(deltaSeconds('60')).toBe(60);
    expect(deltaSeconds('0')).toBe(0);
    for (const bad of ['-1', '1.5', '', 'soon', true, undefined] as const)
      expect(deltaSeconds(bad)).toBeUndefined();
  });
});

describe('Vary (RFC 9110 §12.5.5, RFC 9111 §4.1)', () => {
  it('names the request headers, lowercased', () => {
    expect(varyNames('Accept-Encoding, X-API-Version')).toEqual(['accept-encoding', 'x-api-version']);
    expect(varyNames(undefined)).toEqual([]);
  });
  it('matches only the same values; an absent header is the empty value; * never matches', () => {
    const stored = varyValues(['accept', 'cookie'], { accept: 'text/html', 'user-agent': 'x' });
    expect(stored).toEqual({ accept: 'text/html', cookie: '' });
    expect(varyMatches('Accept, Cookie', stored, { accept: 'text/html' })).toBe(true);
    expect(varyMatches('Accept, Cookie', stored, { accept: 'text/html', cookie: 'a=1' })).toBe(false);
    expect(varyMatches('Accept, Cookie', stored, { accept: 'image/*' })).toBe(false);
    expect(varyMatches(undefined, undefined, { accept: 'anything' })).toBe(true);
    expect(varyMatches('*', {}, {})).toBe(false);
  });
});
