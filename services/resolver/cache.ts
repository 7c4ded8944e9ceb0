// The resolver's cache: positive and negative answers (RFC 2308) and delegations, each counting its
// TTL down; bounded with LRU eviction; kept past expiry for serve-stale (RFC 8767).
import type { Answer } from '../common/dns/codec.js';
import { canonicalName } from '../common/dns/codec.js';

export interface CacheEntry {
  name: string;
  type: string;
  /** NOERROR with records, NODATA, or NXDOMAIN */
  kind: 'positive' | 'nodata' | 'nxdomain';
  records: Answer[];
  /** the SOA that made a negative answer cacheable */
  soa?: Answer;
  storedAt: number;
  /** when the TTL runs out (ms since epoch) */
  expiresAt: number;
  /** which server it came from (lab host name or address) */
  source: string;
}

export interface Delegation {
  zone: string;
  nameservers: string[];
  /** nameserver name → addresses learned as glue or resolved */
  addresses: Map<string, string[]>;
  expiresAt: number;
}

export interface CacheOptions {
  maxEntries: number;
  /** RFC 8767 §4 suggests capping at 7 days; the lab keeps a day */
  maxTtl: number;
  /** how long past expiry an answer may be served stale, s (RFC 8767: 1 to 3 days) */
  staleWindow: number;
  /** RFC 2308 §5: negative answers at most this long */
  maxNegativeTtl: number;
}

export const DEFAULT_CACHE_OPTIONS: CacheOptions = {
  maxEntries: 10_000,
  maxTtl: 86_400,
  staleWindow: 86_400,
  maxNegativeTtl: 3_600,
};

const key = (name: string, type: string) => `${canonicalName(name)}|${type}`;

export class ResolverCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly delegations = new Map<string, Delegation>();
  /** bumped by every change, so answers encoded from the cache know when they are out of date */
  generation = 0;

  constructor(
    readonly opts: CacheOptions = DEFAULT_CACHE_OPTIONS,
    /** the clock (tests pass their own) */
    readonly now: () => number = Date.now,
  ) {}

  /** A fresh entry, with the records' TTLs set to what remains; or a stale one when allowed. */
  get(
    name: string,
    type: string,
    allowStale = false,
  ): { entry: CacheEntry; remaining: number; stale: boolean } | undefined {
    const k = key(name, type);
    const e = this.entries.get(k);
    if (!e) return undefined;
    const now = this.now();
    // fresh until the very millisecond the TTL runs out: a TTL 1 record is served within its second
    if (now >= e.expiresAt) {
      if (!allowStale || now > e.expiresAt + this.opts.staleWindow * 1000) return undefined;
      return { entry: e, remaining: 0, stale: true };
    }
    const remaining = ttlLeft(e.expiresAt, now);
    // LRU: a hit moves the entry to the young end
    this.entries.delete(k);
    this.entries.set(k, e);
    return { entry: e, remaining, stale: false };
  }

  put(e: Omit<CacheEntry, 'storedAt' | 'expiresAt'>, ttl: number): CacheEntry {
    const max = e.kind === 'positive' ? this.opts.maxTtl : this.opts.maxNegativeTtl;
    const t = Math.max(0, Math.min(ttl, max));
    const entry: CacheEntry = {
      ...e,
      // each record keeps its own TTL, capped like the entry's (RFC 8767 §4); the SOA of a negative
      // answer says how long the negative answer lives (RFC 2308 §5)
      records: e.records.map((r) => ({ ...r, ttl: Math.min(ttlOf(r), this.opts.maxTtl) }) as Answer),
      soa: e.soa ? ({ ...e.soa, ttl: t } as Answer) : undefined,
      storedAt: this.now(),
      expiresAt: this.now() + t * 1000,
    };
    this.generation++;
    const k = key(e.name, e.type);
    this.entries.delete(k);
    this.entries.set(k, entry);
    while (this.entries.size > this.opts.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return entry;
  }

  putDelegation(d: Omit<Delegation, 'expiresAt'>, ttl: number): void {
    this.delegations.set(canonicalName(d.zone), {
      ...d,
      zone: canonicalName(d.zone),
      expiresAt: this.now() + Math.min(ttl, this.opts.maxTtl) * 1000,
    });
  }

  /** The deepest unexpired delegation at or above `name`. */
  closestDelegation(name: string): Delegation | undefined {
    const labels = canonicalName(name).split('.').filter(Boolean);
    for (let i = 0; i <= labels.length; i++) {
      const zone = labels.slice(i).join('.');
      const d = this.delegations.get(zone);
      if (d && d.expiresAt > this.now()) return d;
    }
    return undefined;
  }

  /** `lab dns flush [name]`: forget one name (every type, and a delegation of that name), or all. */
  flush(name?: string): number {
    this.generation++;
    if (!name) {
      const n = this.entries.size + this.delegations.size;
      this.entries.clear();
      this.delegations.clear();
      return n;
    }
    const c = canonicalName(name);
    let n = 0;
    for (const k of [...this.entries.keys()]) {
      if (k.startsWith(`${c}|`)) {
        this.entries.delete(k);
        n++;
      }
    }
    if (this.delegations.delete(c)) n++;
    return n;
  }

  /** `lab dns cache`: every entry with its remaining TTL (negative when stale). */
  list(): { name: string; type: string; kind: string; ttl: number; records: Answer[]; source: string }[] {
    const now = this.now();
    const rows: {
      name: string;
      type: string;
      kind: string;
      ttl: number;
      records: Answer[];
      source: string;
    }[] = [...this.entries.values()].map((e) => ({
      name: e.name,
      type: e.type,
      kind: e.kind,
      ttl: ttlLeft(e.expiresAt, now),
      records: e.records,
      source: e.source,
    }));
    for (const d of this.delegations.values()) {
      rows.push({
        name: d.zone || '.',
        type: 'NS (delegation)',
        kind: 'delegation',
        ttl: ttlLeft(d.expiresAt, now),
        records: d.nameservers.map((n) => ({ name: d.zone, type: 'NS', data: n }) as Answer),
        source: [...d.addresses.values()].flat().join(' '),
      });
    }
    return rows;
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * The whole seconds of TTL a client sees (RFC 1035 §6.1.2: decremented by the time in the cache):
 * the full TTL in the second it was stored, one less per second since, never 0 while fresh. Expiry
 * itself is kept to the millisecond; only the wire rounds.
 */
export function ttlLeft(expiresAt: number, now: number): number {
  return Math.ceil((expiresAt - now) / 1000);
}

/** Until when (ms) ttlLeft stays what it is now. */
export function ttlSameUntil(expiresAt: number, now: number): number {
  return expiresAt - (ttlLeft(expiresAt, now) - 1) * 1000;
}

const ttlOf = (r: Answer) => (r as { ttl?: number }).ttl ?? 0;

/** Copies records with the TTL a client should see now (RFC 1035 §6.1.2: decremented). */
export function withTtl(records: Answer[], ttl: number): Answer[] {
  return records.map((r) => ({ ...r, ttl }) as Answer);
}

/**
 * Copies an entry's records, each with its own TTL less the whole seconds it has been cached, as
 * unbound counts them: a CNAME of 300 s in front of a negative answer of 60 s keeps its 300.
 */
export function countedDown(records: Answer[], e: CacheEntry, now: number): Answer[] {
  const elapsed = Math.floor((now - e.storedAt) / 1000);
  return records.map((r) => ({ ...r, ttl: Math.max(0, ttlOf(r) - elapsed) }) as Answer);
}
