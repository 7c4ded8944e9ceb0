// The ladder's content: which events are messages between hosts (an arrow from one column to
// another), which are notes on one host, and which scenario step each belongs to.
import type { LabEvent } from '../../services/common/events.js';
import { hosts } from '../../services/common/topology.js';

export interface LadderMessage {
  from: string;
  to: string;
  label: string;
  ts: number;
  /** a note on `from` (to === from) rather than an arrow */
  note?: boolean;
  /** an answer (drawn dashed) rather than a request */
  reply?: boolean;
  /** the events this arrow stands for (their eventKey) */
  events: string[];
}

export interface LadderStep {
  title: string;
  messages: LadderMessage[];
}

export interface Ladder {
  participants: string[];
  steps: LadderStep[];
  t0: number;
}

export function eventKey(e: LabEvent): string {
  return `${e.host}/${e.kind}/${e.ts}`;
}

const labHosts = new Set(hosts.map((h) => h.name));
/** the nameserver's and resolver's answer events (services/nameserver/main.ts lists them) */
export const DNS_ANSWER_KINDS: ReadonlySet<string> = new Set([
  'dns.answer',
  'dns.referral',
  'dns.nxdomain',
  'dns.nodata',
  'dns.refused',
  'dns.formerr',
  'dns.notimp',
  'dns.badvers',
]);

type Data = Record<string, unknown>;
const short = (s: string, n = 60) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const first = (v: unknown) => (Array.isArray(v) && v.length ? String(v[0]) : '');

/** The arrows (and notes) one event draws; `serverOf` knows which host each browser connection went to. */
function messagesOf(e: LabEvent, serverOf: Map<string, string>, hostOf: (a: unknown) => string | undefined) {
  const d = (e.data ?? {}) as Data;
  const key = eventKey(e);
  const m = (
    from: string | undefined,
    to: string | undefined,
    label: string,
    ts = e.ts,
    reply = false,
  ): LadderMessage[] =>
    from && to && labHosts.has(from) && labHosts.has(to)
      ? [{ from, to, label: short(label), ts, reply, events: [key] }]
      : [];
  const note = (label: string): LadderMessage[] => [
    { from: e.host, to: e.host, label: short(label), ts: e.ts, note: true, events: [key] },
  ];
  const client = () => (typeof d.from === 'string' && labHosts.has(d.from) ? d.from : hostOf(e.peer));
  if (e.kind === 'dns.query') return m(client(), e.host, `${d.type} ${d.name}?`);
  if (DNS_ANSWER_KINDS.has(e.kind)) {
    const what =
      e.kind === 'dns.referral'
        ? `referral: ${first(d.authority)}`
        : e.kind === 'dns.answer'
          ? (d.answers as unknown[] | undefined)?.length
            ? (d.answers as string[]).map((a) => a.split(/\s+/).slice(3).join(' ')).join(', ')
            : `${d.rcode ?? 'NOERROR'} (no records)`
          : `${e.kind.slice(4).toUpperCase()} ${d.name ?? ''}`;
    return m(e.host, hostOf(e.peer), what, e.ts, true);
  }
  if (e.host === 'browser') {
    const server = serverOf.get(String(d.connection ?? ''));
    if (e.kind === 'tcp.connect')
      return m(
        'browser',
        server,
        `TCP SYN, SYN-ACK, ACK (connection ${d.connection}, port ${d.sport} → ${d.dport})`,
      );
    if (e.kind === 'tls.handshake')
      return d.error
        ? m('browser', server, `TLS ClientHello SNI ${d.sni}: failed, ${d.error}`)
        : m('browser', server, `TLS ClientHello SNI ${d.sni}, ALPN ${d.alpn ?? '-'} → ${d.version}`);
    if (e.kind === 'http.response')
      return m(
        server,
        'browser',
        `${d.status} ${d.httpVersion ?? ''} ${String(d.url ?? '').replace(/^https?:\/\/[^/]+/, '')}`,
        e.ts,
        true,
      );
    if (e.kind === 'tcp.close') return m('browser', server, `FIN (connection ${d.connection} closed)`);
    if (e.kind === 'page.render') return note(`painted "${d.title}"`);
    if (e.kind === 'page.error') return note(`${d.code}`);
    return [];
  }
  if (e.kind === 'http.request' && e.peer)
    return m(hostOf(e.peer), e.host, `${d.method} ${d.host ?? ''}${d.url}`);
  if (e.kind === 'backend.fetch') {
    const sent = e.ts - Math.round(Number(d.ms ?? 0) * 1000);
    return [
      ...m(e.host, 'app', `${d.method} ${d.url}`, sent),
      ...m('app', e.host, `${d.status} (${d.mode})`, e.ts, true),
    ];
  }
  if (e.kind === 'cache.lookup') return note(`cache ${String(d.result).toUpperCase()} ${d.url}`);
  if (e.kind === 'ocsp.request') return m(client(), e.host, 'OCSP request');
  if (e.kind === 'ocsp.response')
    return m(
      e.host,
      client(),
      `OCSP ${(d.statuses as { status: string }[] | undefined)?.map((s) => s.status).join(', ') ?? ''}`,
      e.ts,
      true,
    );
  if (e.kind === 'rst.injected') return m(e.host, 'browser', 'forged RST');
  return [];
}

/** Messages in time order, grouped by the scenario step they happened in. */
export function buildLadder(events: LabEvent[], hostOf: (peer: unknown) => string | undefined): Ladder {
  const sorted = [...events].sort((a, b) => a.ts - b.ts);
  const serverOf = new Map<string, string>();
  for (const e of sorted)
    if (e.host === 'browser' && e.kind === 'tcp.connect') {
      const h = hostOf(e.peer);
      if (h) serverOf.set(String((e.data as Data).connection), h);
    }
  const steps: LadderStep[] = [{ title: 'before the first step', messages: [] }];
  for (const e of sorted) {
    if (e.host === 'lab' && e.kind === 'scenario.step') {
      const n = (e.data as Data | undefined)?.step;
      steps.push({ title: `${n !== undefined ? `${n}. ` : ''}${e.summary}`, messages: [] });
      continue;
    }
    steps[steps.length - 1].messages.push(...messagesOf(e, serverOf, hostOf));
  }
  for (const s of steps) s.messages.sort((a, b) => a.ts - b.ts);
  // columns in the order the story meets them: browser, resolver, root, TLD, domain, proxy, app
  const participants = [...new Set(steps.flatMap((s) => s.messages.flatMap((m) => [m.from, m.to])))];
  return {
    participants,
    steps: steps.filter((s) => s.messages.length > 0),
    t0: sorted[0]?.ts ?? 0,
  };
}
