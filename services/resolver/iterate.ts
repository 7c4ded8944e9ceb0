// Iterative resolution (RFC 1034 §5.3.3): from the root hints down the referrals, with in-bailiwick
// glue, glueless NS names resolved on the side, CNAME chains across zones, QNAME minimisation
// (RFC 9156), negative caching (RFC 2308), serve-stale (RFC 8767) and bounded work. Asking a zone's
// servers, and the limits and state the walk shares, live in servers.ts.
import { classifyResponse } from '../common/dns/classify.js';
import { type Answer, canonicalName, inBailiwick, RCODE, rcodeOf } from '../common/dns/codec.js';
import { type CacheEntry, countedDown, type Delegation, ttlLeft, ttlSameUntil, withTtl } from './cache.js';
import { askAny, type Budget, EDE, type Iterator, LIMITS, ResolveFailure, serverList } from './servers.js';

export { type AskContext, EDE, type Iterator, LIMITS } from './servers.js';

export interface Resolution {
  rcode: number;
  answers: Answer[];
  authority: Answer[];
  source: 'cache' | 'upstream' | 'stale';
  ede?: { code: number; text: string };
  /** from resolveCached: until when (ms) every TTL in the answer stays the same whole second */
  sameUntil?: number;
  /** a referral's glue */
  additional?: Answer[];
}

const minTtl = (rs: Answer[]) => Math.min(...rs.map((r) => (r as { ttl?: number }).ttl ?? 0));

/** RFC 2308 §5: a negative answer lives min(SOA TTL, SOA minimum). */
function negativeTtl(soa: Answer | undefined): number {
  if (!soa) return 0;
  const s = soa as Answer & { ttl: number; data: { minimum: number } };
  return Math.min(s.ttl, s.data.minimum);
}

/**
 * Follows the CNAME chain for `name` inside an answer section; unrelated records are dropped.
 * `loop`: the chain comes back to a name it already passed (loop1 → loop2 → loop1).
 */
export function chainFrom(
  answers: Answer[],
  name: string,
  type: string,
): { records: Answer[]; final: string; loop: boolean } {
  const out: Answer[] = [];
  let cur = canonicalName(name);
  for (let hop = 0; hop <= LIMITS.cnameHops; hop++) {
    // RFC 8482: an ANY answer is whatever the authority chose to give for the name (but a CNAME
    // there is followed, RFC 1034 §4.3.2 step 3a)
    const direct = answers.filter(
      (a) => canonicalName(a.name) === cur && (a.type === type || (type === 'ANY' && a.type !== 'CNAME')),
    );
    if (direct.length) return { records: [...out, ...direct], final: cur, loop: false };
    const cname = answers.find((a) => canonicalName(a.name) === cur && a.type === 'CNAME');
    if (!cname || type === 'CNAME') break;
    out.push(cname);
    cur = canonicalName((cname as { data: string }).data);
    if (out.some((r) => canonicalName(r.name) === cur)) return { records: out, final: cur, loop: true };
  }
  return { records: out, final: cur, loop: false };
}

/** RFC 2672 / RFC 1034 §3.6.2: a name with a CNAME has no other data, so its CNAME answers any type. */
function cachedAt(it: Iterator, name: string, type: string) {
  const hit = it.cache.get(name, type);
  if (hit || type === 'CNAME') return hit;
  const alias = it.cache.get(name, 'CNAME');
  // only a CNAME that exists: a cached "no CNAME here" says nothing about the other types
  return alias?.entry.kind === 'positive' ? alias : undefined;
}

export async function resolve(
  it: Iterator,
  qname: string,
  qtype: string,
  budget: Budget = { queries: LIMITS.queries },
): Promise<Resolution> {
  const chain: Answer[] = [];
  const seen = new Set<string>();
  let name = canonicalName(qname);
  let source: Resolution['source'] = 'cache';
  for (let hop = 0; hop <= LIMITS.cnameHops; hop++) {
    let r: Awaited<ReturnType<typeof resolveOne>>;
    try {
      r = await resolveOne(it, name, qtype, budget, 0);
    } catch (err) {
      // like unbound, a failed resolution answers SERVFAIL with no partial chain
      if (err instanceof ResolveFailure)
        return { rcode: RCODE.SERVFAIL, answers: [], authority: [], source: 'upstream', ede: err.ede };
      throw err;
    }
    if (r.source !== 'cache') source = r.source;
    chain.push(...r.records);
    if (r.kind !== 'positive') {
      return {
        rcode: r.kind === 'nxdomain' ? RCODE.NXDOMAIN : RCODE.NOERROR,
        answers: chain,
        authority: r.soa ? [r.soa] : [],
        source,
        ede: r.ede,
      };
    }
    const { final } = chainFrom(r.records, name, qtype);
    if (final === name || r.records.some((a) => canonicalName(a.name) === final && a.type === qtype)) {
      return { rcode: RCODE.NOERROR, answers: chain, authority: [], source, ede: r.ede };
    }
    // JOURNEY 9: the chain leaves the zone: resolve the target from its own servers
    if (seen.has(final))
      return {
        rcode: RCODE.SERVFAIL,
        answers: [],
        authority: [],
        source,
        ede: { code: EDE.OTHER, text: `CNAME loop at ${final}` },
      };
    seen.add(name);
    name = final;
  }
  return {
    rcode: RCODE.SERVFAIL,
    answers: [],
    authority: [],
    source,
    ede: { code: EDE.OTHER, text: 'CNAME chain too long' },
  };
}

/**
 * The hot path: the whole answer from fresh cache entries alone, synchronously (no promise, no
 * upstream), or undefined when any link of the chain is missing or expired. Reports its hits only
 * when it succeeds, so a fallback to resolve() never reports twice.
 */
export function resolveCached(
  it: Iterator,
  qname: string,
  qtype: string,
  span?: string,
): Resolution | undefined {
  const chain: Answer[] = [];
  const hits: [string, CacheEntry][] = [];
  let name = canonicalName(qname);
  const seen = new Set<string>([name]);
  for (let hop = 0; hop <= LIMITS.cnameHops; hop++) {
    const hit = cachedAt(it, name, qtype);
    if (!hit || hit.stale) return undefined;
    hits.push([name, hit.entry]);
    const r = fromEntry(it, hit.entry, 'cache');
    chain.push(...r.records);
    const done = (rcode: number, authority: Answer[]): Resolution => {
      for (const [n, e] of hits) it.onCache?.(n, qtype, 'hit', e, span);
      const now = it.cache.now();
      const sameUntil = Math.min(...hits.map(([, e]) => ttlSameUntil(e.expiresAt, now)));
      return { rcode, answers: chain, authority, source: 'cache', sameUntil };
    };
    if (r.kind !== 'positive')
      return done(r.kind === 'nxdomain' ? RCODE.NXDOMAIN : RCODE.NOERROR, r.soa ? [r.soa] : []);
    const { final } = chainFrom(r.records, name, qtype);
    if (final === name || r.records.some((a) => canonicalName(a.name) === final && a.type === qtype))
      return done(RCODE.NOERROR, []);
    if (seen.has(final)) return undefined; // a loop: let resolve() report it
    seen.add(final);
    name = final;
  }
  return undefined;
}

/**
 * RFC 1034 §4.3.1: a question with RD=0 that the cache cannot answer gets a referral to the closest
 * delegation the cache knows (as unbound with access-control allow_snoop), or REFUSED when it knows
 * none; the resolver never walks the tree for it.
 */
export function referralFromCache(it: Iterator, qname: string): Resolution {
  const d = it.cache.closestDelegation(qname);
  if (!d) return { rcode: RCODE.REFUSED, answers: [], authority: [], source: 'cache' };
  const ttl = ttlLeft(d.expiresAt, it.cache.now());
  const zone = d.zone || '.';
  const rr = (name: string, type: string, data: string) => ({ name, type, ttl, class: 'IN', data }) as Answer;
  // RFC 2181 §5.4.1: the zone's own NS RRset, when cached, ranks above the parent's referral
  const own = it.cache.get(d.zone, 'NS');
  const ns =
    own && !own.stale && own.entry.kind === 'positive'
      ? fromEntry(it, own.entry, 'cache').records.filter((r) => r.type === 'NS')
      : d.nameservers.map((n) => rr(zone, 'NS', n));
  return {
    rcode: RCODE.NOERROR,
    answers: [],
    authority: ns,
    additional: d.nameservers.flatMap((ns) =>
      (d.addresses.get(ns) ?? []).map((a) => rr(ns, a.includes(':') ? 'AAAA' : 'A', a)),
    ),
    source: 'cache',
  };
}

interface OneResult {
  kind: 'positive' | 'nodata' | 'nxdomain';
  records: Answer[];
  soa?: Answer;
  source: 'cache' | 'upstream' | 'stale';
  ede?: { code: number; text: string };
}

function fromEntry(it: Iterator, e: CacheEntry, source: 'cache' | 'stale' | 'upstream'): OneResult {
  const now = it.cache.now();
  // RFC 8767 §4: stale answers get a TTL of 30 s
  const records = source === 'stale' ? withTtl(e.records, 30) : countedDown(e.records, e, now);
  const soa = e.soa && (source === 'stale' ? withTtl([e.soa], 30) : countedDown([e.soa], e, now));
  return {
    kind: e.kind,
    records,
    soa: soa?.[0],
    source,
    ede:
      source === 'stale'
        ? { code: EDE.STALE_ANSWER, text: 'serving an expired answer: every authority is unreachable' }
        : undefined,
  };
}

async function resolveOne(
  it: Iterator,
  name: string,
  type: string,
  budget: Budget,
  depth: number,
): Promise<OneResult> {
  // JOURNEY 10: answers from the cache carry the TTL that remains
  const hit = cachedAt(it, name, type);
  if (hit && !hit.stale) {
    it.onCache?.(name, type, 'hit', hit.entry, budget.span);
    return fromEntry(it, hit.entry, 'cache');
  }
  it.onCache?.(name, type, 'miss', undefined, budget.span);
  try {
    return await iterate(it, name, type, budget, depth);
  } catch (err) {
    if (err instanceof ResolveFailure && err.unreachable) {
      const stale = it.cache.get(name, type, true);
      if (stale) {
        it.onCache?.(name, type, 'stale', stale.entry, budget.span);
        return fromEntry(it, stale.entry, 'stale');
      }
    }
    throw err;
  }
}

async function addressesFor(it: Iterator, d: Delegation, budget: Budget, depth: number): Promise<void> {
  if (serverList(it, d).length) return;
  if (depth >= LIMITS.depth)
    throw new ResolveFailure({ code: EDE.OTHER, text: 'glueless delegation nested too deep' });
  // glueless: resolve the nameserver names themselves (never one inside the zone we are stuck on)
  for (const ns of d.nameservers) {
    if (inBailiwick(ns, d.zone)) continue;
    for (const t of it.families.v4 ? ['A'] : ['AAAA']) {
      try {
        const r = await resolveOne(it, ns, t, budget, depth + 1);
        const addrs = r.records.filter((a) => a.type === t).map((a) => (a as { data: string }).data);
        if (addrs.length) d.addresses.set(ns, addrs);
      } catch {
        // try the next nameserver name
      }
    }
    if (serverList(it, d).length) return;
  }
  throw new ResolveFailure(
    { code: EDE.NO_REACHABLE_AUTHORITY, text: `no address for any nameserver of ${d.zone || '.'}` },
    true,
  );
}

/** The name one label up ("" is the root). */
function parentOf(name: string): string {
  const dot = name.indexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1);
}

/** RFC 9156: ask each zone only for one label more than it is responsible for. */
function minimised(qname: string, zone: string): string {
  const q = qname.split('.');
  const z = zone ? zone.split('.').length : 0;
  return z >= q.length ? qname : q.slice(q.length - z - 1).join('.');
}

async function iterate(
  it: Iterator,
  name: string,
  type: string,
  budget: Budget,
  depth: number,
): Promise<OneResult> {
  // RFC 4035 §4.2: a DS RRset lives on the parent side of the cut, so its question starts above the name
  const parentSide = type === 'DS' && name !== '';
  let deleg = it.cache.closestDelegation(parentSide ? parentOf(name) : name) ?? it.roots;
  let asked = deleg.zone; // how far down the minimised name has reached at this zone
  for (let step = 0; step < LIMITS.referrals + LIMITS.cnameHops * 2; step++) {
    await addressesFor(it, deleg, budget, depth);
    const qname = minimised(name, asked);
    const full = qname === name;
    const qtype = full ? type : 'A';
    const res = await askAny(it, deleg, qname, qtype, budget);
    const resp = res.response;
    const rcode = rcodeOf(resp);
    const zone = deleg.zone;
    const inZone = (a: Answer) => inBailiwick(a.name, zone); // drop out-of-bailiwick records (poisoning)
    const soa = (resp.authorities ?? []).find((a) => a.type === 'SOA' && inZone(a));
    if (rcode === RCODE.NXDOMAIN) {
      // RFC 8020: nothing exists below an NXDOMAIN, so a minimised NXDOMAIN answers the full name too
      const records = full ? chainFrom((resp.answers ?? []).filter(inZone), name, type).records : [];
      const e = it.cache.put(
        { name, type, kind: 'nxdomain', records, soa, source: res.server.name },
        negativeTtl(soa),
      );
      return fromEntry(it, e, 'upstream');
    }
    const answers = (resp.answers ?? []).filter(inZone);
    const authority = (resp.authorities ?? []).filter(inZone);
    // what the response is, read as unbound does once the out-of-zone records are gone
    const kind = classifyResponse(
      { ...resp, answers, authorities: authority },
      { name: qname, type: qtype, zone },
    );
    // JOURNEY 8: a referral to a zone below the current one, on the way to the name (the iterator's
    // own checks on top: no answer records at all, and a DS question stays above its cut)
    const cut = kind.type === 'referral' ? kind.cut : undefined;
    if (cut !== undefined && !answers.length && inBailiwick(name, cut) && !(parentSide && cut === name)) {
      const ns = authority.filter((a) => a.type === 'NS');
      const nameservers = [
        ...new Set(
          ns
            .filter((a) => canonicalName(a.name) === cut)
            .map((a) => canonicalName((a as { data: string }).data)),
        ),
      ];
      const addresses = new Map<string, string[]>();
      for (const g of resp.additionals ?? []) {
        // glue only for the nameservers named, and only from inside the referring zone's bailiwick
        if (
          (g.type !== 'A' && g.type !== 'AAAA') ||
          !nameservers.includes(canonicalName(g.name)) ||
          !inZone(g)
        )
          continue;
        addresses.set(canonicalName(g.name), [
          ...(addresses.get(canonicalName(g.name)) ?? []),
          (g as { data: string }).data,
        ]);
      }
      const next: Omit<Delegation, 'expiresAt'> = { zone: cut, nameservers, addresses };
      it.cache.putDelegation(next, minTtl(ns));
      deleg = it.cache.closestDelegation(cut) ?? { ...next, expiresAt: Date.now() + 1000 };
      asked = cut;
      continue;
    }
    if (!full) {
      // an empty non-terminal or a name with data: go one label deeper at the same servers
      if (rcode !== RCODE.NOERROR)
        throw new ResolveFailure({
          code: EDE.OTHER,
          text: `${res.server.name} answered ${rcode} for ${qname}`,
        });
      asked = qname;
      continue;
    }
    if (rcode !== RCODE.NOERROR)
      throw new ResolveFailure({ code: EDE.OTHER, text: `${res.server.name} answered rcode ${rcode}` });
    const { records, final, loop } = chainFrom(answers, name, type);
    // RFC 1034 §3.6.2: a chain that comes back on itself inside the zone never ends
    if (loop) throw new ResolveFailure({ code: EDE.OTHER, text: `CNAME loop at ${final}` });
    if (records.length) {
      const e = it.cache.put(
        { name, type, kind: 'positive', records, source: res.server.name },
        minTtl(records),
      );
      for (const c of records.filter((r) => r.type === 'CNAME')) {
        it.cache.put(
          { name: c.name, type: 'CNAME', kind: 'positive', records: [c], source: res.server.name },
          minTtl([c]),
        );
      }
      return fromEntry(it, e, 'upstream');
    }
    if (soa || ((resp.flags ?? 0) & 0x400) !== 0) {
      const e = it.cache.put(
        { name, type, kind: 'nodata', records: [], soa, source: res.server.name },
        negativeTtl(soa),
      );
      return fromEntry(it, e, 'upstream');
    }
    throw new ResolveFailure({
      code: EDE.OTHER,
      text: `${res.server.name} gave neither an answer nor a referral for ${name}`,
    });
  }
  throw new ResolveFailure({ code: EDE.OTHER, text: 'too many referrals' });
}
