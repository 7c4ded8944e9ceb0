// What an authority's response means to a resolver walking down the tree, told apart once: the
// answer, an alias to follow, a referral one zone down, a name that does not exist, a name with no
// data of that type, a lame server, or a response to throw away and ask the next server.
// The rules are those of unbound's response_type_from_server (iterator/iter_resptype.c), read and
// rewritten here; unbound files NXDOMAIN and NODATA under its one ANSWER type, split here by rcode
// and answer section. RFC 1034 §4.3.2 (what an authority answers), §5.3.3 (what a resolver does with
// it), RFC 2308 §2 (NXDOMAIN and NODATA and their SOA).
import { type Answer, canonicalName, inBailiwick, type Packet, RCODE, rcodeOf } from './codec.js';

export type ResponseType =
  /** the records asked for (at the name, or at the end of a CNAME chain in the response) */
  | 'answer'
  /** RCODE NXDOMAIN: the name does not exist (RFC 2308 §2.1) */
  | 'nxdomain'
  /** NOERROR with nothing of the type: the name exists, with other types only (RFC 2308 §2.2) */
  | 'nodata'
  /** a CNAME chain that leaves the response before the type asked: restart at `target` */
  | 'cname'
  /** NS records for a zone below the one asked, and not authoritative: ask `cut`'s servers */
  | 'referral'
  /** the server knows nothing authoritative of the zone: a referral up the tree (or to the same zone),
   *  or a recursive server answering from its cache without AA though RD=0 was sent */
  | 'lame'
  /** TC=1, or an RCODE other than NOERROR and NXDOMAIN (SERVFAIL, REFUSED, FORMERR…): ask the next server */
  | 'throwaway';

export interface Classification {
  type: ResponseType;
  /** 'referral': the zone the NS records delegate to */
  cut?: string;
  /** 'cname': the name the chain reaches, where resolution goes on */
  target?: string;
}

export interface AskedQuestion {
  name: string;
  type: string;
  /** the zone whose servers were asked ('' for the root) */
  zone: string;
  /** RD=1 was sent (a forwarder); a resolver iterating sends RD=0 */
  rd?: boolean;
}

const TC = 0x200;
const AA = 0x400;
const RA = 0x80;

/** below `zone`, not `zone` itself */
const strictlyBelow = (name: string, zone: string) =>
  canonicalName(name) !== canonicalName(zone) && inBailiwick(name, zone);

/** unbound's "recursion lame": RA set, AA not, though the resolver asked with RD=0 */
const recursionLame = (flags: number, rd: boolean) => (flags & RA) !== 0 && (flags & AA) === 0 && !rd;

/** The answer section reaches the type asked (after any CNAMEs), or for ANY holds anything at the name. */
function hasData(answers: Answer[], q: AskedQuestion): boolean {
  let name = canonicalName(q.name);
  for (let hop = 0; hop <= answers.length; hop++) {
    const here = answers.filter((a) => canonicalName(a.name) === name);
    if (here.some((a) => a.type === q.type.toUpperCase() || q.type.toUpperCase() === 'ANY')) return true;
    const cname = here.find((a) => a.type === 'CNAME');
    if (!cname) return false;
    name = canonicalName((cname as { data: string }).data);
  }
  return false;
}

/** unbound's ANSWER, split: records of the type asked, or none (NODATA). */
const answerOrNodata = (resp: Packet, q: AskedQuestion): Classification => ({
  type: hasData(resp.answers ?? [], q) ? 'answer' : 'nodata',
});

/** Classifies an authority's response to `q`, asked of `q.zone`'s servers. */
export function classifyResponse(resp: Packet, q: AskedQuestion): Classification {
  const flags = resp.flags ?? 0;
  const rd = !!q.rd;
  const answers = resp.answers ?? [];
  const authority = resp.authorities ?? [];
  const qname = canonicalName(q.name);
  const qtype = q.type.toUpperCase();
  const zone = canonicalName(q.zone);
  // a message too large even for the transport that carried it is incomplete: unusable
  if (flags & TC) return { type: 'throwaway' };
  const rcode = rcodeOf(resp);
  if (rcode === RCODE.NXDOMAIN) {
    if (recursionLame(flags, rd)) return { type: 'lame' };
    // RFC 6604: NXDOMAIN is about the last name of a CNAME chain; one at the question is an alias
    const alias = answers.find((a) => a.type === 'CNAME' && canonicalName(a.name) === qname);
    if (alias) return { type: 'cname', target: canonicalName((alias as { data: string }).data) };
    return { type: 'nxdomain' };
  }
  if (rcode !== RCODE.NOERROR) return { type: 'throwaway' };

  // the answer section: the data itself, the data after a CNAME chain, or a chain that stops short
  if (answers.length) {
    let name = qname;
    for (const a of answers) {
      // NS at a zone below, asked for NS or ANY: a referral that put its NS in the answer section
      if ((qtype === 'NS' || qtype === 'ANY') && a.type === 'NS' && strictlyBelow(a.name, zone))
        return flags & AA ? { type: 'answer' } : { type: 'referral', cut: canonicalName(a.name) };
      if (a.type === qtype && canonicalName(a.name) === name) {
        if (flags & AA) return { type: 'answer' };
        break; // without AA only provisionally an answer: the authority section may make it a referral
      }
      if (a.type === 'CNAME' && canonicalName(a.name) === name)
        name = canonicalName((a as { data: string }).data);
    }
    if (qtype === 'ANY') return { type: 'answer' };
    if (name !== qname) return { type: 'cname', target: name };
  }

  // RFC 2308 §3: an SOA of the name's zone in the authority section is the usual NODATA
  if (authority.some((a) => a.type === 'SOA' && inBailiwick(qname, a.name)))
    return recursionLame(flags, rd) ? { type: 'lame' } : answerOrNodata(resp, q);

  // NS records: the zone asked (an answer), a zone above it (lame), or a zone below (a referral)
  for (const ns of authority) {
    if (ns.type !== 'NS') continue;
    const owner = canonicalName(ns.name);
    if (owner === zone) return recursionLame(flags, rd) ? { type: 'lame' } : answerOrNodata(resp, q);
    if (inBailiwick(zone, owner)) return { type: rd ? 'throwaway' : 'lame' };
    if (inBailiwick(owner, zone)) return { type: 'referral', cut: owner };
    // NS records for an unrelated zone say nothing
  }
  // nothing at all (unbound asks another server a few times first, then takes it as NODATA)
  const empty =
    !answers.length && !authority.length && !(resp.additionals ?? []).some((a) => a.type !== 'OPT');
  if (!empty && recursionLame(flags, rd)) return { type: 'lame' };
  return answerOrNodata(resp, q);
}
