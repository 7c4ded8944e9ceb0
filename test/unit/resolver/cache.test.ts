import { describe, expect, it } from 'vitest';
import type { Answer } from '../../../services/common/dns/codec.js';
import { countedDown, ResolverCache } from '../../../services/resolver/cache.js';

const a = (name: string, ttl: number) => ({ name, type: 'A', ttl, class: 'IN', data: '192.0.2.1' }) as Answer;

describe('ResolverCache', () => {
  it('counts TTLs down, keeps expired entries only for serve-stale, and caps TTLs', () => {
    let now = 0;
    const c = new ResolverCache(
      { maxEntries: 100, maxTtl: 60, staleWindow: 100, maxNegativeTtl: 10 },
      () => now,
    );
    c.put({ name: 'x.test', type: 'A', kind: 'positive', records: [a('x.test', 3600)], source: 't' }, 3600);
    expect(c.get('X.test.', 'A')?.remaining).toBe(60); // max TTL, case-insensitive name
    now = 59_500;
    expect(c.get('x.test', 'A')?.remaining).toBe(1); // half a second left: still fresh, TTL 1
    now = 60_000;
    expect(c.get('x.test', 'A')).toBeUndefined(); // the TTL has run out
    expect(c.get('x.test', 'A', true)?.stale).toBe(true);
    now = 60_000 + 101_000;
    expect(c.get('x.test', 'A', true)).toBeUndefined(); // past the stale window
    c.put({ name: 'n.test', type: 'A', kind: 'nxdomain', records: [], source: 't' }, 3600);
    expect(c.get('n.test', 'A')?.remaining).toBe(10); // negative cap (RFC 2308 §5)
  });

  it('serves a TTL 1 record for its whole second and not a millisecond longer (RFC 1035 §6.1.2, RFC 2181 §8)', () => {
    let now = 5_000_250; // stored a quarter into a wall-clock second
    const c = new ResolverCache(undefined, () => now);
    c.put({ name: 'one.test', type: 'A', kind: 'positive', records: [a('one.test', 1)], source: 't' }, 1);
    expect(c.get('one.test', 'A')?.remaining).toBe(1); // at once: the full TTL on the wire
    now += 999;
    expect(c.get('one.test', 'A')?.remaining).toBe(1); // 1 ms left: still from the cache
    now += 1;
    expect(c.get('one.test', 'A')).toBeUndefined();
  });

  it('counts a TTL down one whole second per second in the cache, starting from the full TTL', () => {
    let now = 1_000_700;
    const c = new ResolverCache(undefined, () => now);
    c.put({ name: 'x.test', type: 'A', kind: 'positive', records: [a('x.test', 300)], source: 't' }, 300);
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      seen.push(c.get('x.test', 'A')?.remaining ?? -1);
      now += 600;
    }
    expect(seen).toEqual([300, 300, 299, 299]); // 0, 0.6, 1.2 and 1.8 s after it was stored
  });

  it("counts each record down from its own TTL, and a negative answer's SOA from the negative TTL (RFC 2308 §5)", () => {
    let now = 0;
    const c = new ResolverCache(undefined, () => now);
    const cname = { name: 'out.test', type: 'CNAME', ttl: 300, class: 'IN', data: 'gone.test' } as Answer;
    const soa = { name: 'test', type: 'SOA', ttl: 86400, class: 'IN', data: {} } as Answer;
    const e = c.put(
      { name: 'out.test', type: 'A', kind: 'nxdomain', records: [cname], soa, source: 't' },
      60,
    );
    now = 2_500;
    expect(countedDown(e.records, e, now).map((r) => (r as { ttl: number }).ttl)).toEqual([298]);
    expect(countedDown(e.soa ? [e.soa] : [], e, now).map((r) => (r as { ttl: number }).ttl)).toEqual([58]);
  });

  it('evicts the least recently used entry, and flush bumps the generation', () => {
    const c = new ResolverCache({ maxEntries: 2, maxTtl: 60, staleWindow: 0, maxNegativeTtl: 10 });
    for (const n of ['a.test', 'b.test'])
      c.put({ name: n, type: 'A', kind: 'positive', records: [a(n, 30)], source: 't' }, 30);
    c.get('a.test', 'A'); // a is now the most recent
    c.put({ name: 'c.test', type: 'A', kind: 'positive', records: [a('c.test', 30)], source: 't' }, 30);
    expect(c.get('b.test', 'A')).toBeUndefined();
    expect(c.get('a.test', 'A')).toBeDefined();
    const g = c.generation;
    expect(c.flush('a.test')).toBe(1);
    expect(c.generation).toBeGreaterThan(g);
    expect(c.get('a.test', 'A')).toBeUndefined();
  });
});
