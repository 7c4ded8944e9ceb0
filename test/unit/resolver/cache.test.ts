import { describe, expect, it } from 'vitest';
import type { Answer } from '../../../services/common/dns-codec.js';
import { ResolverCache } from '../../../services/resolver/cache.js';

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
    expect(c.get('x.test', 'A')).toBeUndefined(); // floor(0.5) = 0: expired
    expect(c.get('x.test', 'A', true)?.stale).toBe(true);
    now = 60_000 + 101_000;
    expect(c.get('x.test', 'A', true)).toBeUndefined(); // past the stale window
    c.put({ name: 'n.test', type: 'A', kind: 'nxdomain', records: [], source: 't' }, 3600);
    expect(c.get('n.test', 'A')?.remaining).toBe(10); // negative cap (RFC 2308 §5)
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
