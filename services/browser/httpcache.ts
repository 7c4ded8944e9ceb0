// JOURNEY 5: the browser's private HTTP cache (RFC 9111): fresh → served "from cache" with no network;
// stale with a validator → a conditional request, and a 304 reuses the stored body. A response with
// Vary is used only for a request with the same values of the headers it names (§4.1), else it is a
// miss, as a first visit. One entry per URL, as Chrome keeps it; kept in the profile.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  deltaSeconds,
  parseCacheControl,
  varyMatches,
  varyNames,
  varyValues,
} from '../common/http/cache-control.js';

export interface Stored {
  url: string;
  status: number;
  headers: Record<string, string>;
  body: string; // base64
  storedAt: number;
  freshFor: number; // seconds
  /** the request's values of the headers the response's Vary names */
  vary?: Record<string, string>;
}

const CACHEABLE: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 308, 404, 410]);

export function freshnessLifetime(headers: Record<string, string>, now = Date.now()): number | undefined {
  const cc = parseCacheControl(headers['cache-control']);
  if (cc.has('no-store')) return undefined;
  const maxAge = deltaSeconds(cc.get('max-age'));
  if (maxAge !== undefined) return maxAge - Number(headers.age ?? 0);
  if (headers.expires)
    return Math.round((Date.parse(headers.expires) - (Date.parse(headers.date ?? '') || now)) / 1000);
  if (headers['last-modified'])
    return Math.round(
      ((Date.parse(headers.date ?? '') || now) - Date.parse(headers['last-modified'])) / 10_000,
    ); // heuristic, RFC 9111 §4.2.2
  return 0;
}

export class HttpCache {
  private entries = new Map<string, Stored>();
  constructor(private readonly path: string) {
    if (existsSync(path))
      for (const e of JSON.parse(readFileSync(path, 'utf8')) as Stored[]) this.entries.set(e.url, e);
  }

  save(): void {
    writeFileSync(`${this.path}.tmp`, JSON.stringify([...this.entries.values()]));
    renameSync(`${this.path}.tmp`, this.path);
  }

  /** The stored response for this request, if its Vary headers match; fresh, or to revalidate. */
  lookup(
    url: string,
    requestHeaders: Record<string, string>,
    now = Date.now(),
  ): { stored: Stored; fresh: boolean; age: number } | undefined {
    const s = this.entries.get(url);
    if (!s || !varyMatches(s.headers.vary, s.vary, requestHeaders)) return undefined;
    const age = (now - s.storedAt) / 1000;
    const noCache = parseCacheControl(s.headers['cache-control']).has('no-cache');
    return { stored: s, fresh: age < s.freshFor && !noCache, age };
  }

  store(
    url: string,
    status: number,
    headers: Record<string, string>,
    body: Buffer,
    method: string,
    requestHeaders: Record<string, string>,
  ): boolean {
    if (method !== 'GET' || !CACHEABLE.has(status)) return false;
    const vary = varyNames(headers.vary);
    if (vary.includes('*')) return false; // would never match a later request
    const life = freshnessLifetime(headers);
    if (life === undefined) return false;
    if (life <= 0 && !headers.etag && !headers['last-modified']) return false;
    this.entries.set(url, {
      url,
      status,
      headers,
      body: body.toString('base64'),
      storedAt: Date.now(),
      freshFor: Math.max(0, life),
      vary: varyValues(vary, requestHeaders),
    });
    return true;
  }

  /** a 304 freshens the stored response (RFC 9111 §4.3.4) */
  refresh(url: string, headers: Record<string, string>): Stored | undefined {
    const s = this.entries.get(url);
    if (!s) return undefined;
    s.headers = { ...s.headers, ...headers };
    s.storedAt = Date.now();
    s.freshFor = Math.max(0, freshnessLifetime(s.headers) ?? 0);
    return s;
  }

  clear(): void {
    this.entries.clear();
    this.save();
  }
}
