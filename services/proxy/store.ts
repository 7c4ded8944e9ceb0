// The object store: one entry per hash (Host + URL) holding variants by the request headers the
// response's Vary names; a memory bound with LRU eviction; purge by URL and bans by regex.

export interface CachedObject {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** ms since epoch */
  storedAt: number;
  ttl: number;
  grace: number;
  keep: number;
  /** the request header values this variant was stored under (Vary) */
  vary: Record<string, string>;
  hits: number;
  /** never served stale, not even when the backend is down (RFC 9111 §4.2.4) */
  mustRevalidate?: boolean;
  /** a hit-for-miss marker: don't wait for others, go to the backend */
  hitForMiss?: boolean;
  hash: string;
}

export type Freshness = 'fresh' | 'grace' | 'keep' | 'dead';

export function freshness(o: CachedObject, now: number): { state: Freshness; age: number } {
  const age = (now - o.storedAt) / 1000;
  if (age < o.ttl) return { state: 'fresh', age };
  if (age < o.ttl + o.grace) return { state: 'grace', age };
  if (age < o.ttl + o.grace + o.keep) return { state: 'keep', age };
  return { state: 'dead', age };
}

function sizeOf(o: CachedObject): number {
  let n = o.body.length + 200;
  for (const [k, v] of Object.entries(o.headers)) n += k.length + v.length;
  return n;
}

function varyMatches(o: CachedObject, reqHeaders: Record<string, string>): boolean {
  return Object.entries(o.vary).every(([h, v]) => (reqHeaders[h] ?? '') === v);
}

export class ObjectStore {
  private readonly entries = new Map<string, CachedObject[]>();
  bytes = 0;
  stats = { hits: 0, misses: 0, passes: 0, stores: 0, evictions: 0, purges: 0 };

  /** maxBytes may be lowered at run time (memory_limit): the next insert evicts down to it */
  constructor(public maxBytes: number) {}

  lookup(hash: string, reqHeaders: Record<string, string>): CachedObject | undefined {
    const variants = this.entries.get(hash);
    if (!variants) return undefined;
    const hit = variants.find((o) => varyMatches(o, reqHeaders));
    if (hit) {
      // LRU: move the entry to the young end
      this.entries.delete(hash);
      this.entries.set(hash, variants);
    }
    return hit;
  }

  insert(o: CachedObject): void {
    const variants = (this.entries.get(o.hash) ?? []).filter((v) => {
      const same = JSON.stringify(v.vary) === JSON.stringify(o.vary);
      if (same) this.bytes -= sizeOf(v);
      return !same;
    });
    variants.push(o);
    this.entries.delete(o.hash);
    this.entries.set(o.hash, variants);
    this.bytes += sizeOf(o);
    this.stats.stores++;
    this.evict();
  }

  /** LRU: drop the least recently used hashes until the store fits its bound. */
  evict(): void {
    while (this.bytes > this.maxBytes && this.entries.size > 1) {
      const [oldest, vs] = this.entries.entries().next().value as [string, CachedObject[]];
      this.entries.delete(oldest);
      for (const v of vs) this.bytes -= sizeOf(v);
      this.stats.evictions++;
    }
  }

  /** PURGE: drop every variant of one hash. */
  purge(hash: string): number {
    const vs = this.entries.get(hash);
    if (!vs) return 0;
    this.entries.delete(hash);
    for (const v of vs) this.bytes -= sizeOf(v);
    this.stats.purges += vs.length;
    return vs.length;
  }

  /** ban: drop every object whose hash (host + URL) matches. */
  ban(re: RegExp): number {
    let n = 0;
    for (const h of [...this.entries.keys()]) if (re.test(h)) n += this.purge(h);
    return n;
  }

  get objects(): number {
    let n = 0;
    for (const vs of this.entries.values()) n += vs.length;
    return n;
  }
}
