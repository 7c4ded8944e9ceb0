// The censor's decisions, one frame at a time: which flows cross the path, which rule a SYN, a
// ClientHello, a request head or a DNS question matches, and what to forge. Pure and synchronous,
// so the live tap and the pcap dry-run give the same answers for the same frames.
import { decodeMessage } from '../common/dns/codec.js';
import { createFlowTable, type Endpoint, endpointText, type Flow, segmentLength } from './flows.js';
import { type ForgedAnswer, type ForgedPacket, forgeDnsAnswer, forgeRsts, isForged } from './forge.js';
import type { Inspection } from './inspect.js';
import { type DecodedFrame, decodeFrame, type SkipReason, TCP_FLAGS } from './packets.js';
import { nameMatches, type Rule, type RuleSet } from './rules.js';

/** Residual censorship: a condemned flow's later segments are reset too, a few times at most. */
export const MAX_INJECTIONS_PER_FLOW = 6;

export interface CensorScope {
  /** does a packet between these two addresses cross the censor's path (and stay in the lab)? */
  onPath(a: string, b: string): boolean;
  /** the DNS server port (53, with the runtime's offset) */
  dnsPort: number;
  /** where a forged DNS answer points, per record type: a lab address, or none */
  forgedAddress(type: string): string | undefined;
}

export interface MatchInfo {
  rule: { id: number; text: string };
  trigger: 'syn' | 'sni' | 'host' | 'keyword' | 'dns';
  value: string;
  flow: { proto: 'tcp' | 'udp'; client: string; server: string };
}

export type Outcome =
  | { kind: 'match'; match: MatchInfo }
  | {
      kind: 'rst';
      match: MatchInfo;
      trigger: { dir: 'c2s' | 's2c'; seq: number; ack: number; len: number; flags: number };
      packets: ForgedPacket[];
    }
  | { kind: 'dns'; match: MatchInfo; answer: ForgedAnswer };

export interface CensorStats {
  frames: number;
  inspected: number;
  skipped: Record<SkipReason, number>;
  matches: number;
  injectedRsts: number;
  injectedDns: number;
  flows: number;
}

export interface Censor {
  /** one captured frame of `len` bytes in `buf` (not kept), at `ts` µs */
  observe(buf: Buffer, len: number, ts: number): Outcome[];
  stats(): CensorStats;
}

function flowInfo(proto: 'tcp' | 'udp', client: Endpoint, server: Endpoint): MatchInfo['flow'] {
  return { proto, client: endpointText(client), server: endpointText(server) };
}

/** The first rule a flow's inspected first bytes match: SNI, then Host, then a URL keyword. */
function matchInspection(
  i: Inspection,
  rules: Rule[],
): { rule: Rule; trigger: MatchInfo['trigger']; value: string } | undefined {
  if (i.kind === 'tls' && i.sni) {
    const sni = i.sni;
    const rule = rules.find((r) => r.kind === 'sni' && nameMatches(sni, r.value));
    if (rule) return { rule, trigger: 'sni', value: sni };
  }
  if (i.kind === 'http') {
    const host = i.host;
    const byHost = host ? rules.find((r) => r.kind === 'host' && nameMatches(host, r.value)) : undefined;
    if (byHost && host) return { rule: byHost, trigger: 'host', value: host };
    const target = safeDecode(i.target);
    const byWord = rules.find((r) => r.kind === 'keyword' && target.includes(r.value.toLowerCase()));
    if (byWord) return { rule: byWord, trigger: 'keyword', value: i.target };
  }
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s).toLowerCase();
  } catch {
    return s.toLowerCase();
  }
}

export function createCensor(rules: RuleSet, scope: CensorScope): Censor {
  const flows = createFlowTable();
  const st: CensorStats = {
    frames: 0,
    inspected: 0,
    skipped: { truncated: 0, malformed: 0, fragment: 0, 'not-ip': 0, 'other-protocol': 0 },
    matches: 0,
    injectedRsts: 0,
    injectedDns: 0,
    flows: 0,
  };

  const inject = (flow: Flow, f: DecodedFrame, fromClient: boolean, out: Outcome[]) => {
    const t = f.tcp as NonNullable<DecodedFrame['tcp']>;
    const c = flow.condemned as NonNullable<Flow['condemned']>;
    const dir = fromClient ? 'c2s' : 's2c';
    if (flow.injections >= MAX_INJECTIONS_PER_FLOW) return;
    // only what was not sent already: e.g. a pure ACK asks for the very RSTs its trigger got
    const packets = forgeRsts(f, fromClient, c.rule, flow.client, flow.server).filter(
      (p) => !flow.answered.has(`${p.to} ${p.seq}`),
    );
    if (!packets.length) return;
    for (const p of packets) flow.answered.add(`${p.to} ${p.seq}`);
    flow.injections++;
    st.injectedRsts += packets.length;
    out.push({
      kind: 'rst',
      match: condemnedMatch(flow),
      trigger: { dir, seq: t.seq, ack: t.ack, len: segmentLength(f), flags: t.flags },
      packets,
    });
  };

  const matchInfo = (
    rule: Rule,
    trigger: MatchInfo['trigger'],
    value: string,
    flow: MatchInfo['flow'],
  ): MatchInfo => ({
    rule: { id: rule.id, text: rule.text },
    trigger,
    value,
    flow,
  });

  /** What a condemned TCP flow was condemned for, as events and the dry run report it. */
  const condemnedMatch = (flow: Flow): MatchInfo => {
    const c = flow.condemned as NonNullable<Flow['condemned']>;
    return matchInfo(
      c.rule,
      c.trigger as MatchInfo['trigger'],
      c.value,
      flowInfo('tcp', flow.client, flow.server),
    );
  };

  const onTcp = (f: DecodedFrame, ts: number, out: Outcome[]) => {
    const t = f.tcp as NonNullable<DecodedFrame['tcp']>;
    const { flow, fromClient } = flows.track(f, ts);
    if (t.flags & TCP_FLAGS.RST) {
      flows.forget(flow); // a real reset ends the flow; the censor never answers a RST
      return;
    }
    if (!flow.condemned) {
      const syn = t.flags & TCP_FLAGS.SYN && !(t.flags & TCP_FLAGS.ACK);
      if (syn) {
        const rule = rules
          .list()
          .find(
            (r) =>
              r.kind === 'ip' &&
              r.addresses?.includes(f.ip.dst) &&
              (r.port === undefined || r.port === t.dport),
          );
        if (rule) flow.condemned = { rule, trigger: 'syn', value: endpointText(flow.server) };
      } else if (fromClient && t.payload.length) {
        const verdict = flows.feed(flow, f);
        if (verdict) {
          st.inspected++;
          const m = matchInspection(verdict, rules.list());
          if (m) flow.condemned = m;
        }
      }
      if (!flow.condemned) return;
      st.matches++;
      out.push({
        kind: 'match',
        match: condemnedMatch(flow),
      });
    }
    inject(flow, f, fromClient, out);
  };

  const onUdp = (f: DecodedFrame, out: Outcome[]) => {
    const u = f.udp as NonNullable<DecodedFrame['udp']>;
    if (u.dport !== scope.dnsPort) return;
    let q: ReturnType<typeof decodeMessage>;
    try {
      q = decodeMessage(u.payload);
    } catch {
      st.skipped.malformed++;
      return;
    }
    const question = q.questions?.[0];
    if (q.type !== 'query' || !question) return;
    const rule = rules.list().find((r) => r.kind === 'dns' && nameMatches(question.name, r.value));
    if (!rule) return;
    st.matches++;
    const flow = flowInfo('udp', { address: f.ip.src, port: u.sport }, { address: f.ip.dst, port: u.dport });
    const match = matchInfo(rule, 'dns', question.name, flow);
    out.push({ kind: 'match', match });
    const address =
      question.type === 'A' || question.type === 'AAAA' ? scope.forgedAddress(question.type) : undefined;
    const rd = !!((q.flags ?? 0) & 0x100);
    const answer = forgeDnsAnswer(
      f,
      { id: q.id ?? 0, name: question.name, type: question.type, rd },
      address,
    );
    st.injectedDns++;
    out.push({ kind: 'dns', match, answer });
  };

  return {
    observe(buf, len, ts) {
      st.frames++;
      const r = decodeFrame(buf, len);
      if (!r.ok) {
        st.skipped[r.reason]++;
        return [];
      }
      const f = r.frame;
      if (isForged(f) || !scope.onPath(f.ip.src, f.ip.dst)) return [];
      const out: Outcome[] = [];
      if (f.tcp) onTcp(f, ts, out);
      else if (f.udp) onUdp(f, out);
      st.flows = flows.size();
      return out;
    },
    stats: () => ({ ...st, skipped: { ...st.skipped }, flows: flows.size() }),
  };
}
