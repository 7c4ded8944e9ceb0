// JOURNEY 5: the browser's private HTTP cache (RFC 9111): fresh → served "from cache" with no network;
// stale with a validator → a conditional request, and a 304 reuses the stored body. Kept in the profile.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface Stored {
  url: string;
  status: number;
  headers: Record<string, string>;
  body: string; // base64
  storedAt: number;
  freshFor: number; // seconds
}

const CACHEABLE = new Set([200, 203, 204, 300, 301, 308, 404, 410]);

export function freshnessLifetime(headers: Record<string, string>, now = Date.now()): number | undefined {
  const cc = (headers['cache-control'] ?? '').toLowerCase();
  if (/no-store/.test(cc)) return undefined;
  const maxAge = /max-age=(\d+)/.exec(cc);
  if (maxAge) return Number(maxAge[1]) - Number(headers.age ?? 0);
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

  lookup(url: string, now = Date.now()): { stored: Stored; fresh: boolean; age: number } | undefined {
    const s = this.entries.get(url);
    if (!s) return undefined;
    const age = (now - s.storedAt) / 1000;
    return { stored: s, fresh: age < s.freshFor && !/no-cache/.test(s.headers['cache-control'] ?? ''), age };
  }

  store(url: string, status: number, headers: Record<string, string>, body: Buffer, method: string): boolean {
    if (method !== 'GET' || !CACHEABLE.has(status)) return false;
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
