// Iterative resolution against a scripted set of authorities (no sockets): the walk, the cache, and
// hostile or broken upstreams ending in SERVFAIL with bounded work.
import { describe, expect, it } from 'vitest';
import {
  type Answer,
  canonicalName,
  makeFlags,
  type Packet,
  type Question,
  RCODE,
} from '../../../services/common/dns/codec.js';
import { ResolverCache } from '../../../services/resolver/cache.js';
import {
  type AskContext,
  type Iterator,
  LIMITS,
  referralFromCache,
  resolve,
  resolveCached,
} from '../../../services/resolver/iterate.js';
import { localAnswer } from '../../../services/resolver/local.js';
import type { UpstreamAnswer, UpstreamError } from '../../../services/resolver/upstream.js';

type Script = (q: AskContext) => Partial<Packet> | 'timeout';

const rr = (name: string, type: string, data: unknown, ttl = 300) =>
  ({ name, type, ttl, class: 'IN', data }) as Answer;
const soa = (zone: string) =>
  rr(zone, 'SOA', {
    mname: `ns.${zone}`,
    rname: `h.${zone}`,
    serial: 1,
    refresh: 1,
    retry: 1,
    expire: 1,
    minimum: 60,
  });

/** root (10.0.0.1) → test. (10.0.0.2) → example.test. (10.0.0.3), overridable per server address */
function world(overrides: Record<string, Script> = {}) {
  const asked: AskContext[] = [];
  const scripts: Record<string, Script> = {
    '10.0.0.1': (q) => ({
      authorities: [rr('test', 'NS', 'ns-tld.test')],
      additionals: [rr('ns-tld.test', 'A', '10.0.0.2')],
      ...(q.qname === 'test' && q.qtype === 'NS' ? {} : {}),
    }),
    '10.0.0.2': () => ({
      authorities: [rr('example.test', 'NS', 'ns-example.test')],
      additionals: [rr('ns-example.test', 'A', '10.0.0.3')],
    }),
    '10.0.0.3': (q) =>
      canonicalName(q.qname) === 'www.example.test' && q.qtype === 'A'
        ? { flags: makeFlags({ aa: true }), answers: [rr('www.example.test', 'A', '192.0.2.80', 3)] }
        : { flags: makeFlags({ aa: true, rcode: RCODE.NXDOMAIN }), authorities: [soa('example.test')] },
    ...overrides,
  };
  const cache = new ResolverCache();
  const it: Iterator = {
    cache,
    roots: {
      zone: '',
      nameservers: ['ns-root.test'],
      addresses: new Map([['ns-root.test', ['10.0.0.1']]]),
      expiresAt: Infinity,
    },
    families: { v4: true, v6: false },
    srtt: new Map(),
    inflight: new Map(),
    ask: async (q): Promise<UpstreamAnswer | UpstreamError> => {
      asked.push(q);
      const script = scripts[q.server.address];
      const r = script ? script(q) : 'timeout';
      if (r === 'timeout') return { ok: false, failure: 'timeout', detail: 'no answer', rtt: 1, dropped: 0 };
      const response: Packet = {
        id: 1,
        type: 'response',
        flags: makeFlags({}),
        questions: [{ name: q.qname, type: q.qtype as 'A', class: 'IN' }],
        answers: [],
        authorities: [],
        additionals: [],
        ...r,
      };
      return { ok: true, response, rtt: 1, transport: 'udp', truncatedFirst: false, dropped: 0 };
    },
  };
  return { it, asked, cache };
}

describe('iterative resolution', () => {
  it('walks root, TLD and domain once, then answers from the cache with no upstream query', async () => {
    const { it: iter, asked } = world();
    const r = await resolve(iter, 'www.example.test', 'A');
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(r.answers.map((a) => (a as { data: string }).data)).toEqual(['192.0.2.80']);
    expect(asked.map((q) => q.server.address)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    // RFC 9156: the root only sees "test", the TLD only "example.test"
    expect(asked.map((q) => q.qname)).toEqual(['test', 'example.test', 'www.example.test']);
    const again = resolveCached(iter, 'WWW.example.test', 'A');
    expect(again?.source).toBe('cache');
    expect(again?.sameUntil).toBeGreaterThan(Date.now() - 1);
    expect(asked).toHaveLength(3);
  });

  it('caches NXDOMAIN with the SOA (RFC 2308) and answers it from the cache', async () => {
    const { it: iter, asked } = world();
    const r = await resolve(iter, 'nope.example.test', 'A');
    expect(r.rcode).toBe(RCODE.NXDOMAIN);
    expect(r.authority[0]?.type).toBe('SOA');
    const n = asked.length;
    expect((await resolve(iter, 'nope.example.test', 'A')).rcode).toBe(RCODE.NXDOMAIN);
    expect(asked).toHaveLength(n);
  });

  it('drops records outside the answering zone: a poisoned extra never enters the cache', async () => {
    const { it: iter, cache } = world({
      '10.0.0.3': () => ({
        flags: makeFlags({ aa: true }),
        answers: [rr('www.example.test', 'A', '192.0.2.80'), rr('ca.test', 'A', '203.0.113.66')],
        authorities: [rr('test', 'NS', 'evil.example.test')],
        additionals: [rr('ns-tld.test', 'A', '203.0.113.66')],
      }),
    });
    const r = await resolve(iter, 'www.example.test', 'A');
    expect(r.answers).toHaveLength(1);
    expect(cache.get('ca.test', 'A')).toBeUndefined();
    expect(cache.closestDelegation('test')?.addresses.get('ns-tld.test')).toEqual(['10.0.0.2']);
  });

  it('ignores glue for names outside the referring zone', async () => {
    const { it: iter, asked } = world({
      '10.0.0.2': () => ({
        authorities: [rr('example.test', 'NS', 'ns.elsewhere.invalid')],
        additionals: [rr('ns.elsewhere.invalid', 'A', '203.0.113.66')],
      }),
    });
    const r = await resolve(iter, 'www.example.test', 'A');
    expect(r.rcode).toBe(RCODE.SERVFAIL);
    expect(asked.some((q) => q.server.address === '203.0.113.66')).toBe(false);
  });

  it('ends a referral back up the tree (a loop) in SERVFAIL', async () => {
    const { it: iter, asked } = world({
      '10.0.0.3': () => ({
        authorities: [rr('test', 'NS', 'ns-tld.test')],
        additionals: [rr('ns-tld.test', 'A', '10.0.0.2')],
      }),
    });
    const r = await resolve(iter, 'www.example.test', 'A');
    expect(r.rcode).toBe(RCODE.SERVFAIL);
    expect(asked.length).toBeLessThanOrEqual(LIMITS.queries);
  });

  it('answers A after a cached "no CNAME here" (NODATA for CNAME hides no other type, RFC 2308 §5)', async () => {
    const mail = (q: AskContext) =>
      canonicalName(q.qname) === 'mail.example.test' && q.qtype === 'A'
        ? { flags: makeFlags({ aa: true }), answers: [rr('mail.example.test', 'A', '192.0.2.25')] }
        : { flags: makeFlags({ aa: true }), authorities: [soa('example.test')] };
    const { it: iter } = world({ '10.0.0.3': mail });
    const nodata = await resolve(iter, 'mail.example.test', 'CNAME');
    expect([nodata.rcode, nodata.answers.length]).toEqual([RCODE.NOERROR, 0]);
    expect(resolveCached(iter, 'mail.example.test', 'A')).toBeUndefined(); // not from the CNAME entry
    const r = await resolve(iter, 'mail.example.test', 'A');
    expect(r.answers.map((a) => (a as { data: string }).data)).toEqual(['192.0.2.25']);
    expect(resolveCached(iter, 'mail.example.test', 'A')?.answers).toHaveLength(1);
  });

  it('still answers any type from a cached CNAME that exists (RFC 1034 §3.6.2)', async () => {
    const { it: iter, asked } = world({
      '10.0.0.3': (q) =>
        canonicalName(q.qname) === 'www.example.test'
          ? { flags: makeFlags({ aa: true }), answers: [rr('www.example.test', 'CNAME', 'cdn.example.test')] }
          : { flags: makeFlags({ aa: true }), answers: [rr(q.qname, q.qtype, '192.0.2.80')] },
    });
    await resolve(iter, 'www.example.test', 'CNAME');
    await resolve(iter, 'cdn.example.test', 'A');
    const n = asked.length;
    const r = resolveCached(iter, 'www.example.test', 'A');
    expect(r?.answers.map((a) => a.type)).toEqual(['CNAME', 'A']);
    expect(asked).toHaveLength(n);
  });

  it('answers SERVFAIL with no answer to a CNAME loop inside one zone, as unbound does (RFC 1034 §3.6.2)', async () => {
    const loop = {
      'loop1.example.test': rr('loop1.example.test', 'CNAME', 'loop2.example.test'),
      'loop2.example.test': rr('loop2.example.test', 'CNAME', 'loop1.example.test'),
    };
    const { it: iter, cache } = world({
      // the authority follows the chain inside its zone, as NSD does, and stops where it repeats
      '10.0.0.3': (q) => {
        const first = canonicalName(q.qname) as keyof typeof loop;
        const other = first === 'loop1.example.test' ? 'loop2.example.test' : 'loop1.example.test';
        return { flags: makeFlags({ aa: true }), answers: [loop[first], loop[other]] };
      },
    });
    for (const name of ['loop1.example.test', 'loop2.example.test']) {
      const r = await resolve(iter, name, 'A');
      expect(r.rcode).toBe(RCODE.SERVFAIL);
      expect(r.answers).toEqual([]);
      expect(r.ede?.text).toMatch(/loop/);
      expect(cache.get(name, 'A')).toBeUndefined(); // a loop is not cached as an answer
    }
    // the CNAME itself is data and is answered (unbound: NOERROR, one CNAME)
    const c = await resolve(iter, 'loop1.example.test', 'CNAME');
    expect([c.rcode, c.answers.length]).toEqual([RCODE.NOERROR, 1]);
    const again = await resolve(iter, 'loop1.example.test', 'A');
    expect(again.rcode).toBe(RCODE.SERVFAIL);
  });

  it('ends a CNAME loop across zones in SERVFAIL with no answer', async () => {
    const { it: iter } = world({
      '10.0.0.2': (q) =>
        canonicalName(q.qname).endsWith('example.test')
          ? {
              authorities: [rr('example.test', 'NS', 'ns-example.test')],
              additionals: [rr('ns-example.test', 'A', '10.0.0.3')],
            }
          : { flags: makeFlags({ aa: true }), answers: [rr(q.qname, 'CNAME', 'a.example.test')] },
      '10.0.0.3': (q) => ({ flags: makeFlags({ aa: true }), answers: [rr(q.qname, 'CNAME', 'b.test')] }),
    });
    const r = await resolve(iter, 'a.example.test', 'A');
    expect(r.rcode).toBe(RCODE.SERVFAIL);
    expect(r.answers).toEqual([]);
    expect(r.ede?.text).toMatch(/loop|too long/);
  });

  it('gives up on endless glueless delegations within the query budget', async () => {
    let n = 0;
    const { it: iter, asked } = world({
      // every zone is delegated to a fresh glueless nameserver name somewhere else under test.
      '10.0.0.2': () => ({ authorities: [rr(`z${n}.test`, 'NS', `ns.z${++n}.test`)] }),
    });
    const t0 = performance.now();
    const r = await resolve(iter, 'www.z0.test', 'A');
    expect(r.rcode).toBe(RCODE.SERVFAIL);
    expect(asked.length).toBeLessThanOrEqual(LIMITS.queries);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('serves a cached answer stale with EDE 3 when every authority times out, else EDE 22', async () => {
    let now = 1_000_000;
    const w = world();
    const cache = new ResolverCache(undefined, () => now);
    w.it.cache = cache;
    await resolve(w.it, 'www.example.test', 'A'); // TTL 3 s
    now += 10_000;
    // the delegation to example.test. has 300 s left, so only ns-example is asked, and it is down
    const down = world({ '10.0.0.3': () => 'timeout' });
    down.it.cache = cache;
    const r = await resolve(down.it, 'www.example.test', 'A');
    expect(r.source).toBe('stale');
    expect(r.ede?.code).toBe(3);
    expect((r.answers[0] as { ttl: number }).ttl).toBe(30);
    const never = await resolve(down.it, 'never.example.test', 'A');
    expect(never.rcode).toBe(RCODE.SERVFAIL);
    expect(never.ede?.code).toBe(22);
  });
});

describe('protocol fidelity (issue 17)', () => {
  it('asks the parent for DS even when the child delegation is cached (RFC 4035 §4.2)', async () => {
    const { it: iter, asked } = world({
      '10.0.0.2': (q) =>
        q.qtype === 'DS' && canonicalName(q.qname) === 'example.test'
          ? { flags: makeFlags({ aa: true }), authorities: [soa('test')] }
          : {
              authorities: [rr('example.test', 'NS', 'ns-example.test')],
              additionals: [rr('ns-example.test', 'A', '10.0.0.3')],
            },
    });
    await resolve(iter, 'www.example.test', 'A'); // the delegation to example.test is now cached
    const n = asked.length;
    const r = await resolve(iter, 'example.test', 'DS');
    expect(asked.slice(n).map((q) => [q.server.address, q.qname, q.qtype])).toEqual([
      ['10.0.0.2', 'example.test', 'DS'],
    ]);
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(r.authority.map((a) => `${a.name} ${a.type}`)).toEqual(['test SOA']);
  });

  it('passes on what the authority gave for ANY, here RFC 8482 HINFO', async () => {
    const hinfo = rr('example.test', 'HINFO', { cpu: 'RFC8482', os: '' }, 3600);
    const { it: iter } = world({
      '10.0.0.3': () => ({ flags: makeFlags({ aa: true }), answers: [hinfo] }),
    });
    const r = await resolve(iter, 'example.test', 'ANY');
    expect([r.rcode, r.answers]).toEqual([RCODE.NOERROR, [hinfo]]);
    expect(resolveCached(iter, 'example.test', 'ANY')?.answers.map((a) => a.type)).toEqual(['HINFO']);
  });

  it('answers RD=0 from the cache or with a referral from it, never asking upstream (RFC 1034 §4.3.1)', async () => {
    const { it: iter, asked } = world();
    expect(referralFromCache(iter, 'www.example.test').rcode).toBe(RCODE.REFUSED); // knows nothing yet
    await resolve(iter, 'www.example.test', 'A');
    const n = asked.length;
    const r = referralFromCache(iter, 'other.example.test');
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(r.answers).toEqual([]);
    expect(r.authority.map((a) => `${a.name} ${a.type} ${(a as { data: string }).data}`)).toEqual([
      'example.test NS ns-example.test',
    ]);
    expect(r.additional?.map((a) => `${a.name} ${a.type} ${(a as { data: string }).data}`)).toEqual([
      'ns-example.test A 10.0.0.3',
    ]);
    expect(asked).toHaveLength(n);
  });
});

describe('local answers', () => {
  const q = (name: string, type: string, cls: string) => ({ name, type, class: cls }) as Question;
  it('answers CH TXT version.bind and hostname.bind itself with TTL 0, as unbound (RFC 4892 §2.2)', () => {
    const v = localAnswer(q('VERSION.BIND', 'TXT', 'CH'), 'resolver');
    expect(v && 'answers' in v && v.answers[0]).toMatchObject({ class: 'CH', ttl: 0, type: 'TXT' });
    const h = localAnswer(q('hostname.bind', 'TXT', 'CH'), 'resolver');
    expect(h && 'answers' in h && h.answers[0]).toMatchObject({ data: ['resolver'] });
    const id = localAnswer(q('id.server.', 'TXT', 'CH'), 'resolver');
    expect(id && 'answers' in id && id.answers[0]).toMatchObject({ data: ['resolver'] });
  });

  it('refuses every other CH or HS question and leaves IN to the iterator (RFC 1035 §3.2.4)', () => {
    expect(localAnswer(q('www.example.test', 'A', 'CH'), 'r')).toHaveProperty('refused');
    expect(localAnswer(q('version.bind', 'A', 'CH'), 'r')).toHaveProperty('refused');
    expect(localAnswer(q('www.example.test', 'A', 'HS'), 'r')).toHaveProperty('refused');
    expect(localAnswer(q('version.bind', 'TXT', 'IN'), 'r')).toBeUndefined();
    expect(localAnswer(q('www.example.test', 'A', 'ANY'), 'r')).toBeUndefined();
  });
});
