// Authoritative answers as RFC 1034 §4.3.2, RFC 2308 and RFC 4592 say: AA on our data, referrals
// with glue below a zone cut, CNAMEs in the zone followed, NXDOMAIN/NODATA with the SOA.
import {
  type Answer,
  canonicalName,
  EDNS_UDP_SIZE,
  findOpt,
  inBailiwick,
  makeFlags,
  makeOpt,
  OPCODE_QUERY,
  type Packet,
  type Question,
  RCODE,
} from '../common/dns/codec.js';
import { soaOf, type Zone, zoneFor, zoneRecords } from './zones.js';

export type Outcome =
  | 'answer'
  | 'referral'
  | 'nxdomain'
  | 'nodata'
  | 'refused'
  | 'formerr'
  | 'notimp'
  | 'badvers'
  | 'transfer'
  | 'notauth';

export interface AuthorityResult {
  response: Packet;
  outcome: Outcome;
  /** the zone that answered, if any */
  zone?: string;
  /** the largest UDP payload the client accepts */
  udpLimit: number;
}

const MAX_CNAME_HOPS = 8;

function rrset(zone: Zone, name: string, type: string): Answer[] {
  return zone.names.get(name)?.get(type) ?? [];
}

/** Copies records under the owner name the client asked with (its letter case, RFC 4343). */
function withOwner(records: Answer[], owner: string): Answer[] {
  return records.map((r) => ({ ...r, name: owner }) as Answer);
}

/** RFC 2308 §3: the SOA in a negative answer carries min(SOA TTL, SOA minimum). */
function negativeSoa(zone: Zone): Answer {
  const soa = soaOf(zone) as Answer & { ttl: number; data: { minimum: number } };
  return { ...soa, name: zone.origin, ttl: Math.min(soa.ttl, soa.data.minimum) } as Answer;
}

/** The closest zone cut at or above `name` and below the apex: a delegation we are not authoritative for. */
function findCut(zone: Zone, name: string): string | undefined {
  const labels = name.split('.');
  // walk from just below the apex down to the name itself
  const apexLabels = zone.origin === '' ? 0 : zone.origin.split('.').length;
  for (let i = labels.length - apexLabels - 1; i >= 0; i--) {
    const candidate = labels.slice(i).join('.');
    if (candidate === zone.origin) continue;
    if (rrset(zone, candidate, 'NS').length) return candidate;
  }
  return undefined;
}

/** Glue: addresses of NS targets that live inside this zone (in bailiwick). */
function glueFor(zone: Zone, ns: Answer[]): Answer[] {
  const out: Answer[] = [];
  for (const r of ns) {
    const target = canonicalName((r as { data: string }).data);
    if (!inBailiwick(target, zone.origin)) continue;
    out.push(...rrset(zone, target, 'A'), ...rrset(zone, target, 'AAAA'));
  }
  return out;
}

function nameExists(zone: Zone, name: string): boolean {
  if (zone.names.has(name)) return true;
  // an empty non-terminal exists too (RFC 4592 §2.2.2)
  const suffix = `.${name}`;
  for (const n of zone.names.keys()) if (n.endsWith(suffix)) return true;
  return false;
}

/** RFC 4592 §3.3.1: the wildcard at the closest encloser, if the name itself does not exist. */
function wildcardFor(zone: Zone, name: string): string | undefined {
  const labels = name.split('.');
  for (let i = 1; i < labels.length + 1; i++) {
    const encloser = labels.slice(i).join('.');
    if (!inBailiwick(encloser, zone.origin) && encloser !== zone.origin) break;
    if (nameExists(zone, encloser) || encloser === zone.origin) {
      const wild = encloser ? `*.${encloser}` : '*';
      return zone.names.has(wild) ? wild : undefined;
    }
  }
  return undefined;
}

export interface QueryContext {
  /** false for a query that came over TCP: no size limit */
  udp: boolean;
  /** may this client have a whole zone (AXFR)? lab addresses only */
  transferAllowed?: boolean;
}

export function answerQuery(query: Packet, zones: Zone[], ctx: QueryContext): AuthorityResult {
  const opt = findOpt(query);
  const udpLimit = ctx.udp ? Math.min(Math.max(opt?.udpPayloadSize ?? 512, 512), 4096) : 65535;
  const q = query.questions?.[0] as Question | undefined;
  const rd = ((query.flags ?? 0) & 0x100) !== 0;
  const respond = (
    rcode: number,
    outcome: Outcome,
    extra: Partial<Packet> = {},
    aa = false,
    zone?: string,
  ): AuthorityResult => ({
    response: {
      id: query.id,
      type: 'response',
      flags: makeFlags({ opcode: ((query.flags ?? 0) >> 11) & 0xf, aa, rd, rcode }),
      questions: q ? [q] : [],
      answers: [],
      authorities: [],
      ...extra,
      additionals: [
        ...(extra.additionals ?? []),
        ...(opt ? [makeOpt({ udpPayloadSize: EDNS_UDP_SIZE, rcode })] : []),
      ],
    },
    outcome,
    zone,
    udpLimit,
  });

  const opcode = ((query.flags ?? 0) >> 11) & 0xf;
  if (opcode !== OPCODE_QUERY) return respond(RCODE.NOTIMP, 'notimp');
  if (query.type !== 'query' || (query.questions?.length ?? 0) !== 1)
    return respond(RCODE.FORMERR, 'formerr');
  if (opt && ((opt as { ednsVersion?: number }).ednsVersion ?? 0) > 0)
    return respond(RCODE.BADVERS, 'badvers'); // RFC 6891 §6.1.3
  const qclass = (q as Question).class ?? 'IN';
  if (qclass !== 'IN' && qclass !== 'ANY') return respond(RCODE.REFUSED, 'refused');

  const qname = canonicalName((q as Question).name);
  const owner = (q as Question).name; // echo the client's letter case (0x20)
  if ((q as Question).type === 'AXFR') return transfer(qname, zones, ctx, respond);
  const zone = zoneFor(zones, qname);
  if (!zone) return respond(RCODE.REFUSED, 'refused');

  // JOURNEY 8: below a zone cut we are not authoritative: refer the client to the child's servers
  const cut = findCut(zone, qname);
  if (cut && !(cut === qname && (q as Question).type === 'DS')) {
    const ns = rrset(zone, cut, 'NS');
    return respond(
      RCODE.NOERROR,
      'referral',
      { authorities: ns, additionals: glueFor(zone, ns) },
      false,
      zone.origin,
    );
  }

  const answers: Answer[] = [];
  let name = qname;
  let ownerName = owner;
  const qtype = (q as Question).type as string;
  for (let hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
    let types = zone.names.get(name);
    let synthesized = ownerName;
    if (!types) {
      const wild = wildcardFor(zone, name);
      if (wild) {
        types = zone.names.get(wild);
        synthesized = ownerName; // RFC 4592 §3.3.1: synthesized records carry the query name
      }
    }
    if (!types) {
      if (nameExists(zone, name))
        return respond(
          RCODE.NOERROR,
          'nodata',
          { answers, authorities: [negativeSoa(zone)] },
          true,
          zone.origin,
        );
      // RFC 2308 §2.1: NXDOMAIN (also at the end of a CNAME chain, with the CNAMEs kept)
      return respond(
        RCODE.NXDOMAIN,
        'nxdomain',
        { answers, authorities: [negativeSoa(zone)] },
        true,
        zone.origin,
      );
    }
    if (qtype === 'ANY') {
      // RFC 8482 §4.2: one synthesized HINFO instead of every RRset
      const hinfo = {
        name: synthesized,
        type: 'HINFO',
        ttl: 3600,
        class: 'IN',
        data: { cpu: 'RFC8482', os: '' },
      } as Answer;
      return respond(RCODE.NOERROR, 'answer', { answers: [hinfo] }, true, zone.origin);
    }
    const direct = types.get(qtype);
    if (direct?.length) {
      answers.push(...withOwner(direct, synthesized));
      // RFC 1035 §3.3: addresses of MX/SRV targets; of NS targets too (RFC 8109 §3.3: the priming answer)
      const additionals = qtype === 'NS' ? glueFor(zone, direct) : additionalFor(zone, direct);
      return respond(RCODE.NOERROR, 'answer', { answers, additionals }, true, zone.origin);
    }
    const cname = types.get('CNAME');
    if (cname?.length && qtype !== 'CNAME') {
      answers.push(...withOwner(cname, synthesized));
      const target = canonicalName((cname[0] as { data: string }).data);
      // RFC 1034 §4.3.2 step 3a: follow the alias while it stays in this zone
      if (zoneFor(zones, target) !== zone || findCut(zone, target)) {
        return respond(RCODE.NOERROR, 'answer', { answers }, true, zone.origin);
      }
      if (answers.filter((a) => canonicalName(a.name) === target).length) break; // loop
      name = target;
      ownerName = target;
      continue;
    }
    return respond(RCODE.NOERROR, 'nodata', { answers, authorities: [negativeSoa(zone)] }, true, zone.origin);
  }
  // a CNAME loop or a chain too long: what we have, as an authoritative answer
  return respond(RCODE.NOERROR, 'answer', { answers }, true, zone.origin);
}

/**
 * AXFR (RFC 5936): the whole zone, SOA first and last, in one TCP message; over UDP NOTIMP and to a
 * client outside the lab REFUSED, as NSD answers; NOTAUTH for a name that is no zone served here.
 */
function transfer(
  qname: string,
  zones: Zone[],
  ctx: QueryContext,
  respond: (
    rcode: number,
    outcome: Outcome,
    extra?: Partial<Packet>,
    aa?: boolean,
    zone?: string,
  ) => AuthorityResult,
): AuthorityResult {
  if (ctx.udp) return respond(RCODE.NOTIMP, 'notimp'); // RFC 5936 §4.2: AXFR is a TCP exchange
  if (!ctx.transferAllowed) return respond(RCODE.REFUSED, 'refused');
  const zone = zones.find((z) => z.origin === qname);
  if (!zone) return respond(RCODE.NOTAUTH, 'notauth');
  const records = zoneRecords(zone); // the SOA comes first
  return respond(RCODE.NOERROR, 'transfer', { answers: [...records, records[0]] }, true, zone.origin);
}

/** RFC 1035 §3.3: addresses of MX and SRV targets in the zone go in the additional section. */
function additionalFor(zone: Zone, records: Answer[]): Answer[] {
  const out: Answer[] = [];
  for (const r of records) {
    const d = (r as { data: { exchange?: string; target?: string } }).data;
    const target = r.type === 'MX' ? d.exchange : r.type === 'SRV' ? d.target : undefined;
    if (!target) continue;
    const t = canonicalName(target);
    out.push(...rrset(zone, t, 'A'), ...rrset(zone, t, 'AAAA'));
  }
  return out;
}
