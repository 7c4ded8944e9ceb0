// The authoritative nameserver: one program, three hosts (ns-root, ns-tld, ns-example).
//
// Events (contract v1, docs/EVENTS.md), generated from services/nameserver/events.ts by `npx tsx lab-cli/events-doc.ts`:
//   dns.query  a query arrived; peer = the client, span = the question's
//       data {from, name?, type?, id, transport: udp|tcp}
//   dns.answer | dns.referral | dns.nxdomain | dns.nodata | dns.refused | dns.formerr | dns.notimp | dns.badvers | dns.transfer | dns.notauth  what it answered; parent = the dns.query span
//       data {name?, type?, id, zone?, aa, tc, rcode, answers[], authority[], additional[]}
//   dns.formerr  a query that could not be read (answered with FORMERR when its header could be)
//       data {from, bytes, answered}
//   dns.formerr | dns.badcookie  a malformed COOKIE option (dns.formerr), or a server cookie this server did not make, over UDP (dns.badcookie, RFC 7873 §5.2.4)
//       data {from, why}
//   dns.zone.change  a record set or removed at run time
//       data {zone, serial, op, record}
//   dns.delay  answers held back for a scenario (a slow authority); 0: at once again
//       data {ms}

import { createBatchedEmitter } from '../common/batched-emitter.js';
import { AnswerCache } from '../common/dns/answer-cache.js';
import {
  type Answer,
  canonicalName,
  type DnsDecodeError,
  decodeMessage,
  encodeMessage,
  type Packet,
  RCODE,
  RCODE_NAME,
} from '../common/dns/codec.js';
import { recordText } from '../common/dns/record-text.js';
import { formErrFor, truncated } from '../common/dns/replies.js';
import { startDnsServer } from '../common/dns/server.js';
import { newSpanId } from '../common/events.js';
import { guard, runService } from '../common/service.js';
import { hostAt, peerNamer, peerString, project } from '../common/settings.js';
import { networks } from '../common/topology.js';
import { type AuthorityResult, answerQuery } from './authority.js';
import type { NameserverCommands } from './commands.js';
import type { AnswerData, AnswerKind, NameserverEvent } from './events.js';
import { loadZoneFile, removeRecord, setRecord, soaOf, ZONES_BY_HOST, zoneFor, zoneText } from './zones.js';

/** What an answer's events say, worked out once per cached answer; the query's ID and client are added as it is sent. */
interface Told {
  q?: { name: string; type: string };
  kind: AnswerKind;
  /** a referral names the client it refers */
  summary: (client: string) => string;
  /** the outcome event's data after the question and its ID */
  outcome: Omit<AnswerData, 'name' | 'type' | 'id'>;
}

function tell(query: Packet, r: AuthorityResult, tc: boolean): Told {
  const q = query.questions?.[0];
  const res = r.response;
  const rcode = ((res.flags ?? 0) & 0xf) | (r.outcome === 'badvers' ? 16 : 0);
  const ns = (res.authorities ?? []).filter((a) => a.type === 'NS').map((a) => (a as { data: string }).data);
  const words = (client: string): string => {
    switch (r.outcome) {
      case 'answer':
        return `answers ${(res.answers ?? []).map((a) => recordText(a).split(' IN ')[1]).join(', ') || 'with nothing'}`;
      case 'referral':
        return `refers ${client} to ${ns.join(', ')} for ${ns.length ? (res.authorities?.[0]?.name ?? '') : ''}`;
      case 'nxdomain':
        return `answers NXDOMAIN: ${q?.name} does not exist`;
      case 'nodata':
        return `answers NODATA: ${q?.name} has no ${q?.type} record`;
      case 'refused':
        return `refuses: ${q?.name} is not in a zone served here`;
      case 'formerr':
        return 'answers FORMERR';
      case 'notimp':
        return 'answers NOTIMP: only standard queries are served';
      case 'badvers':
        return 'answers BADVERS: only EDNS version 0 is spoken';
      case 'transfer':
        return `transfers the zone ${r.zone || '.'} (AXFR): ${(res.answers ?? []).length} records`;
      case 'notauth':
        return `answers NOTAUTH: ${q?.name} is not a zone served here`;
    }
  };
  const truncation = tc ? ' (truncated: TC=1, ask over TCP)' : '';
  const fixed = r.outcome === 'referral' ? '' : `${words('')}${truncation}`;
  return {
    q: q && { name: q.name, type: q.type },
    kind: `dns.${r.outcome}`,
    summary: r.outcome === 'referral' ? (client) => `${words(client)}${truncation}` : () => fixed,
    outcome: {
      zone: r.zone === undefined ? undefined : r.zone || '.',
      aa: ((res.flags ?? 0) & 0x400) !== 0,
      tc,
      rcode: RCODE_NAME[rcode] ?? rcode,
      answers: (res.answers ?? []).map(recordText),
      authority: (res.authorities ?? []).map(recordText),
      additional: (res.additionals ?? []).filter((a) => a.type !== 'OPT').map(recordText),
    },
  };
}

await runService<NameserverEvent, NameserverCommands>('nameserver', async (ctx) => {
  const files = ZONES_BY_HOST[ctx.host];
  if (!files) throw new Error(`no zones are configured for ${ctx.host}`);
  const zones = files.map((f) => loadZoneFile(f, ctx.settings));
  const queryEvents = process.env.LAB_QUERY_EVENTS !== '0'; // benchmarks may turn per-query events off
  // per-query events go out in batches, one write(2) a turn of the event loop, not one a line
  const events = createBatchedEmitter<NameserverEvent>(ctx.host);
  const who = peerNamer(ctx.settings);
  // zone transfers go to lab hosts and to the machine running the lab (dig on the host) only
  const machine =
    ctx.settings.runtime === 'local' ? ['127.0.0.1', '::1'] : networks.map((n) => `172.28.${n.index}.1`);
  const labClient = (address: string) => {
    const a = address.replace(/^::ffff:/, '');
    return machine.includes(a) || hostAt(a, ctx.settings) !== undefined;
  };

  // identical query bytes (but the ID) get identical answers: no decoding, encoding or describing on a repeat
  const answers = new AnswerCache<Told>();

  // `dns.delay`: a slow authority for scenarios (timeouts, the poisoning race); 0 = answer at once
  let delayMs = 0;
  const handle = (msg: Buffer, meta: { address: string; port: number; transport: 'udp' | 'tcp' }) => {
    const out = answer(msg, meta);
    return delayMs && out ? new Promise<Buffer>((r) => setTimeout(() => r(out), delayMs).unref()) : out;
  };

  const answer = (msg: Buffer, meta: { address: string; port: number; transport: 'udp' | 'tcp' }) => {
    const key = AnswerCache.key(msg, meta.transport);
    const id = msg.length >= 2 ? msg.readUInt16BE(0) : 0;
    const hit = key === undefined ? undefined : answers.get(key, id);
    if (hit) {
      if (queryEvents) emitQuery(hit.meta, id, meta);
      return hit.bytes;
    }
    let query: ReturnType<typeof decodeMessage>;
    try {
      query = decodeMessage(msg);
    } catch (err) {
      const e = err as DnsDecodeError;
      if (queryEvents) {
        events.emit({
          kind: 'dns.formerr',
          summary: `${who(meta.address)} sent a malformed query: ${e.message}`,
          peer: peerString(meta.address, meta.port),
          data: { from: who(meta.address), bytes: msg.length, answered: !!e.header && !e.header.qr },
        });
      }
      return e.header ? formErrFor(msg) : undefined; // unreadable header: silence
    }
    if (query.type === 'response') return undefined; // never answer an answer
    const result = answerQuery(query, zones, {
      udp: meta.transport === 'udp',
      transferAllowed: labClient(meta.address),
    });
    let out = encodeMessage(result.response);
    let tc = false;
    if (out.length > result.udpLimit) {
      out = encodeMessage(truncated(result.response)); // RFC 1035 §4.2.1, RFC 7766: retry over TCP
      tc = true;
    }
    // a zone transfer depends on who asks: never served from the cache
    const transfer = query.questions?.[0]?.type === 'AXFR';
    const told = tell(query, result, tc);
    if (key !== undefined && !transfer) answers.set(key, out, told);
    if (queryEvents) emitQuery(told, id, meta);
    return out;
  };

  const emitQuery = (
    told: Told,
    id: number,
    meta: { address: string; port: number; transport: 'udp' | 'tcp' },
  ) => {
    const peer = peerString(meta.address, meta.port);
    const client = who(meta.address);
    const { q } = told;
    const span = newSpanId();
    events.emit({
      kind: 'dns.query',
      span,
      summary: `${client} asks ${q ? `${q.name} ${q.type}` : 'with no question'} over ${meta.transport.toUpperCase()}`,
      peer,
      data: { from: client, name: q?.name, type: q?.type, id, transport: meta.transport },
    });
    events.emit({
      kind: told.kind,
      parent: span,
      summary: told.summary(client),
      peer,
      data: { name: q?.name, type: q?.type, id, ...told.outcome },
    });
  };

  const addresses = [ctx.address(), ...(ctx.address6() ? [ctx.address6() as string] : [])];
  const server = await startDnsServer(
    addresses,
    ctx.port(53),
    handle,
    (where, err) => guard(ctx.events, where, err),
    {
      onOwnAnswer: (meta, rcode, why) => {
        if (!queryEvents) return;
        const badcookie = rcode === RCODE.BADCOOKIE;
        events.emit({
          kind: badcookie ? 'dns.badcookie' : 'dns.formerr',
          summary: `answers ${badcookie ? 'BADCOOKIE' : 'FORMERR'} to ${who(meta.address)}: ${why}`,
          peer: peerString(meta.address, meta.port),
          data: { from: who(meta.address), why },
        });
      },
    },
  );

  const zoneChange = (op: string, name: string, record: string) => {
    const z = zoneFor(zones, name);
    if (!z) return;
    const serial = (soaOf(z) as Answer & { data: { serial: number } }).data.serial;
    ctx.events.emit({
      kind: 'dns.zone.change',
      summary: `zone ${z.origin || '.'} serial ${serial}: ${op} ${record}`,
      data: { zone: z.origin || '.', serial, op, record },
    });
  };
  ctx.control.register('dns.delay', (args) => {
    const ms = Number(args.ms);
    if (!Number.isInteger(ms) || ms < 0 || ms > 5000)
      throw new Error(`dns.delay needs ms, a whole number from 0 to 5000, not ${args.ms}`);
    delayMs = ms;
    ctx.events.emit({
      kind: 'dns.delay',
      summary: ms ? `answers are now held back ${ms} ms (a slow authority)` : 'answers go out at once again',
      data: { ms },
    });
    return { ms };
  });
  ctx.control.register('dns.zones', () => zones.map((z) => z.origin || '.'));
  ctx.control.register('dns.zone', (args) => {
    const name = canonicalName(String(args.zone ?? ''));
    const z = zones.find((x) => x.origin === name);
    if (!z)
      throw new Error(
        `${ctx.host} does not serve ${args.zone} (it serves ${zones.map((x) => x.origin || '.').join(', ')})`,
      );
    return zoneText(z);
  });
  ctx.control.register('dns.set', (args) => {
    const { name, type, value } = args as { name?: string; type?: string; value?: string; ttl?: number };
    if (!name || !type || value === undefined) throw new Error('dns.set needs name, type and value');
    // a plan address (172.28.N.M, fd28:N::M) is written as this runtime's address of it
    const v = /^(A|AAAA)$/i.test(type) ? project(String(value).trim(), ctx.settings) : String(value);
    const rec = setRecord(zones, name, type, v, args.ttl === undefined ? 300 : Number(args.ttl));
    answers.clear();
    zoneChange('set', name, recordText(rec));
    return recordText(rec);
  });
  ctx.control.register('dns.rm', (args) => {
    if (!args.name) throw new Error('dns.rm needs a name');
    const n = removeRecord(zones, String(args.name), args.type ? String(args.type) : undefined);
    answers.clear();
    zoneChange('rm', String(args.name), `${args.name} ${args.type ?? '(all types)'}`);
    return { removed: n };
  });
  return {
    listening: server.listening,
    close: async () => {
      await server.close();
      events.flush();
    },
  };
});
