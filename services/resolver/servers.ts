// The iterator's upstream side: its limits and state, the servers of a delegation in SRTT order,
// and asking them one after another (identical questions in flight share one walk).
import { classifyResponse } from '../common/dns/classify.js';
import { type Packet, RCODE, rcodeOf } from '../common/dns/codec.js';
import type { CacheEntry, Delegation, ResolverCache } from './cache.js';
import type { UpstreamAnswer, UpstreamError } from './upstream.js';

export const LIMITS = {
  /** upstream queries one client question may cost */
  queries: 40,
  referrals: 16,
  cnameHops: 8,
  /** nesting of glueless NS lookups */
  depth: 4,
};

/** RFC 8914 INFO-CODEs the resolver uses */
export const EDE = { OTHER: 0, STALE_ANSWER: 3, NO_REACHABLE_AUTHORITY: 22, NETWORK_ERROR: 23 } as const;

export interface AskContext {
  server: { name: string; address: string };
  /** the client question's span (for the event's parent) */
  span?: string;
  zone: string;
  qname: string;
  qtype: string;
}

/** A zone server's response and which server gave it. */
export type ServerAnswer = { response: Packet; server: { name: string; address: string } };

export interface Iterator {
  cache: ResolverCache;
  roots: Delegation;
  /** sends one question to one server; emits its event; coalesces identical questions in flight */
  ask(ctx: AskContext): Promise<UpstreamAnswer | UpstreamError>;
  /** which address families the resolver can use */
  families: { v4: boolean; v6: boolean };
  srtt: Map<string, number>;
  /** identical questions to a zone in flight share one upstream query (no duplicate walks) */
  inflight: Map<string, Promise<ServerAnswer>>;
  /** `span`: the client question's span, so events nest under it */
  onCache?(
    name: string,
    type: string,
    what: 'hit' | 'miss' | 'stale',
    entry?: CacheEntry,
    span?: string,
  ): void;
}

export interface Budget {
  queries: number;
  /** the client question's span, passed on to ask() and onCache() */
  span?: string;
}

export class ResolveFailure extends Error {
  constructor(
    readonly ede: { code: number; text: string },
    readonly unreachable = false,
  ) {
    super(ede.text);
  }
}

export function serverList(it: Iterator, d: Delegation): { name: string; address: string }[] {
  const out: { name: string; address: string }[] = [];
  for (const ns of d.nameservers) {
    for (const a of d.addresses.get(ns) ?? []) {
      const v6 = a.includes(':');
      if ((v6 && it.families.v6) || (!v6 && it.families.v4)) out.push({ name: ns, address: a });
    }
  }
  // fastest first by smoothed RTT; unknown servers get a small random one so load spreads
  return out.sort(
    (x, y) => (it.srtt.get(x.address) ?? Math.random()) - (it.srtt.get(y.address) ?? Math.random()),
  );
}

/** One question to a zone's servers; the same question already on its way is shared, not asked again. */
export function askAny(
  it: Iterator,
  d: Delegation,
  qname: string,
  qtype: string,
  budget: Budget,
): Promise<ServerAnswer> {
  const key = `${d.zone}|${qname.toLowerCase()}|${qtype}`;
  const pending = it.inflight.get(key);
  if (pending) return pending;
  const p = askInOrder(it, d, qname, qtype, budget);
  it.inflight.set(key, p);
  const forget = () => it.inflight.delete(key);
  p.then(forget, forget);
  return p;
}

/** Asks the zone's servers in SRTT order until one answers; all unreachable → serve-stale territory. */
async function askInOrder(
  it: Iterator,
  d: Delegation,
  qname: string,
  qtype: string,
  budget: Budget,
): Promise<ServerAnswer> {
  const servers = serverList(it, d);
  const failures: string[] = [];
  let reached = false;
  for (const server of servers) {
    if (budget.queries-- <= 0)
      throw new ResolveFailure({ code: EDE.OTHER, text: `gave up after ${LIMITS.queries} upstream queries` });
    const r = await it.ask({ server, zone: d.zone, qname, qtype, span: budget.span });
    const prev = it.srtt.get(server.address);
    it.srtt.set(server.address, prev === undefined ? r.rtt : 0.7 * prev + 0.3 * r.rtt);
    if (r.ok) {
      const { type } = classifyResponse(r.response, { name: qname, type: qtype, zone: d.zone });
      if (type !== 'throwaway') return { response: r.response, server };
      reached = true;
      const rc = rcodeOf(r.response);
      const why = rc === RCODE.NOERROR || rc === RCODE.NXDOMAIN ? 'a truncated answer' : `rcode ${rc}`;
      failures.push(`${server.name} (${server.address}): ${why}`);
      continue; // REFUSED or SERVFAIL: a lame server, try the next
    }
    if (r.failure === 'malformed') reached = true; // it answered, with nothing usable
    failures.push(`${server.name} (${server.address}): ${r.detail}`);
  }
  throw new ResolveFailure(
    reached
      ? { code: EDE.OTHER, text: `no usable answer from ${d.zone || '.'}: ${failures.join('; ')}` }
      : {
          code: EDE.NO_REACHABLE_AUTHORITY,
          text: `every server of ${d.zone || '.'} is unreachable: ${failures.join('; ')}`,
        },
    !reached,
  );
}
