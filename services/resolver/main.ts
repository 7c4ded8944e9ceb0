// The recursive resolver: what the browser's resolv.conf names. It walks from the lab's own root
// hints (never the real internet), caches with falling TTLs, and serves stale when authorities die.
//
// Events (contract v1, docs/EVENTS.md), generated from services/resolver/events.ts by `npx tsx lab-cli/events-doc.ts`:
//   dns.query  a client's question; span = the question's span
//       data {from, name, type, id, transport, rd}
//   dns.cache  a cache lookup; parent = the question's span
//       data {name, type, result: hit|miss|stale, ttl?}
//   dns.upstream  one query to an authority; parent = the question's span
//       data {server, address, zone, name, type, outcome, rcode?, rtt, transport: udp|tcp, dropped?}
//   dns.answer  what the client got
//       data {name, type, rcode, answers[], authority[], source: cache|upstream|stale, ede? {code, text}}
//   dns.refused  a client outside the lab's networks
//       data {from, name?}
//   dns.formerr  a malformed client query
//       data {from, bytes}
//   dns.flush  the cache flushed (one name, or all)
//       data {name?, removed}
//   dns.encrypted.ready  DNS over TLS and over HTTPS are listening
//       data {name, serial, listening[]}
//   dns.encrypted.off  DNS over TLS and HTTPS are off (no certificate)
//       data {reason}
//   dns.tls.error  a DoT or DoH connection failed
//       data {where, code?}

import { randomBytes } from 'node:crypto';
import { createBatchedEmitter } from '../common/batched-emitter.js';
import { AnswerCache } from '../common/dns/answer-cache.js';
import {
  type DnsDecodeError,
  decodeMessage,
  edeOption,
  encodeMessage,
  findOpt,
  makeFlags,
  makeOpt,
  type Packet,
  RCODE,
  RCODE_NAME,
  rcodeOf,
} from '../common/dns/codec.js';
import { recordText } from '../common/dns/record-text.js';
import { formErrFor, truncated } from '../common/dns/replies.js';
import { startDnsServer } from '../common/dns/server.js';
import type { EventInput } from '../common/events.js';
import { guard, runService } from '../common/service.js';
import { address6Of, addressOf, hostAt, peerNamer, peerString } from '../common/settings.js';
import { networks } from '../common/topology.js';
import { ResolverCache, ttlLeft } from './cache.js';
import type { ResolverCommands } from './commands.js';
import { type EncryptedTransport, startEncryptedDns } from './encrypted.js';
import type { ResolverEvent } from './events.js';
import {
  type Iterator,
  LIMITS,
  type Resolution,
  referralFromCache,
  resolve,
  resolveCached,
} from './iterate.js';
import { localAnswer } from './local.js';
import { askServer } from './upstream.js';

const UPSTREAM_TIMEOUT_MS = 800;

await runService<ResolverEvent, ResolverCommands>('resolver', async (ctx) => {
  const s = ctx.settings;
  const cache = new ResolverCache();
  const queryEvents = process.env.LAB_QUERY_EVENTS !== '0';
  // the per-query events, written in batches: one write(2) per event cost more than the answer
  const queryLog = createBatchedEmitter<ResolverEvent>(ctx.host);
  // the events of the answer being built, kept while it may be reused (see `wire` below)
  let recording: EventInput<ResolverEvent>[] | undefined;
  const tell = (ev: EventInput<ResolverEvent>) => {
    queryLog.emit(ev);
    recording?.push(ev);
  };
  const v4 = ctx.address();
  const v6 = ctx.address6();
  const who = peerNamer(s);
  // span ids on the hot path: a random prefix per process and a counter (a crypto call per query
  // cost as much as answering it)
  const spanPrefix = randomBytes(4).toString('hex');
  let spans = 0;
  const nextSpanId = () => spanPrefix + (spans++ % 0x100000000).toString(16).padStart(8, '0');

  // the lab's own root hints, from the topology
  const rootAddresses = [addressOf('ns-root', s), ...(s.ipv6 ? [address6Of('ns-root', s)] : [])];
  const it: Iterator = {
    cache,
    roots: {
      zone: '',
      nameservers: ['ns-root.test'],
      addresses: new Map([['ns-root.test', rootAddresses]]),
      expiresAt: Infinity,
    },
    families: { v4: true, v6: !!v6 },
    srtt: new Map(),
    inflight: new Map(),
    ask: async (q) => {
      const source = q.server.address.includes(':') ? (v6 as string) : v4;
      const r = await askServer(q.server.address, ctx.port(53), q.qname, q.qtype, {
        source,
        timeoutMs: UPSTREAM_TIMEOUT_MS,
      });
      if (queryEvents) emitUpstream(q, r);
      return r;
    },
    onCache: (name, type, result, entry, span) => {
      if (!queryEvents) return;
      const ttl = entry ? ttlLeft(entry.expiresAt, Date.now()) : undefined;
      tell({
        kind: 'dns.cache',
        parent: span,
        summary:
          result === 'hit'
            ? `cache hit: ${name} ${type}, ${ttl} s of TTL left`
            : result === 'stale'
              ? `serving stale ${name} ${type} (expired ${-(ttl ?? 0)} s ago)`
              : `cache miss: ${name} ${type}`,
        data: { name, type, result, ttl },
      });
    },
  };

  const emitUpstream = (q: Parameters<Iterator['ask']>[0], r: Awaited<ReturnType<Iterator['ask']>>) => {
    let outcome: string;
    let rcode: string | undefined;
    let detail = '';
    if (r.ok) {
      const p = r.response;
      const rc = rcodeOf(p);
      rcode = RCODE_NAME[rc] ?? String(rc);
      const referral =
        !(p.answers ?? []).length &&
        (p.authorities ?? []).some((a) => a.type === 'NS') &&
        rc === RCODE.NOERROR;
      outcome =
        rc === RCODE.NXDOMAIN
          ? 'nxdomain'
          : rc !== RCODE.NOERROR
            ? rcode.toLowerCase()
            : referral
              ? 'referral'
              : (p.answers ?? []).length
                ? 'answer'
                : 'nodata';
      detail =
        outcome === 'referral'
          ? `referral to ${[...new Set((p.authorities ?? []).filter((a) => a.type === 'NS').map((a) => (a as { data: string }).data))].join(', ')}`
          : outcome === 'answer'
            ? (p.answers ?? []).map((a) => recordText(a).split(' IN ')[1]).join(', ')
            : outcome.toUpperCase();
    } else {
      outcome = r.failure;
      detail = r.detail;
    }
    queryLog.emit({
      kind: 'dns.upstream',
      parent: q.span,
      peer: peerString(q.server.address, ctx.port(53)),
      summary: `asks ${who(q.server.address)} (${q.zone || '.'}) for ${q.qname} ${q.qtype}: ${detail} in ${r.rtt.toFixed(1)} ms`,
      data: {
        server: who(q.server.address),
        address: q.server.address,
        zone: q.zone || '.',
        name: q.qname,
        type: q.qtype,
        outcome,
        rcode,
        rtt: Math.round(r.rtt * 100) / 100,
        transport: r.ok ? r.transport : 'udp',
        dropped: r.dropped,
      },
    });
  };

  // recursion for the lab's networks and the machine running the lab only
  const gateways = new Set(networks.map((n) => `172.28.${n.index}.1`));
  const decideAllowed = (a: string) => {
    const addr = a.replace(/^::ffff:/, '');
    if (hostAt(addr, s)) return true;
    if (s.runtime === 'local') return addr === '127.0.0.1' || addr === '::1';
    return gateways.has(addr);
  };
  const acl = new Map<string, boolean>(); // per source address, bounded: the hot path asks it every query
  const allowed = (a: string) => {
    let ok = acl.get(a);
    if (ok === undefined) {
      ok = decideAllowed(a);
      if (acl.size >= 4096) acl.clear();
      acl.set(a, ok);
    }
    return ok;
  };

  type Meta = { address: string; port: number; transport: 'udp' | 'tcp' | EncryptedTransport };
  const queryEvent = (
    meta: Meta,
    span: string,
    q: Told['question'],
    id: number,
  ): EventInput<ResolverEvent> => ({
    kind: 'dns.query',
    span,
    peer: peerString(meta.address, meta.port),
    summary: `${who(meta.address)} asks for ${q.name} ${q.type}`,
    data: { from: who(meta.address), name: q.name, type: q.type, id, transport: meta.transport, rd: q.rd },
  });

  // A repeated question answered from the cache is served from its encoded bytes while every TTL in
  // it is the same whole second and the cache is unchanged; its events (cache hits, the answer) are
  // told again as they were, under the new question's span.
  interface Told {
    question: { name: string; type: string; rd: boolean };
    /** each event as it was first told */
    events: EventInput<ResolverEvent>[];
  }
  const wire = new AnswerCache<{ until: number; generation: number; told?: Told }>();
  const tellAgain = (told: Told, meta: Meta, id: number, t0: number) => {
    const span = nextSpanId();
    const peer = peerString(meta.address, meta.port);
    queryLog.emit(queryEvent(meta, span, told.question, id));
    for (const ev of told.events) {
      const dur = ev.dur === undefined ? undefined : Math.round((performance.now() - t0) * 1000);
      queryLog.emit({ ...ev, parent: span, peer: ev.peer && peer, dur });
    }
  };

  const handle = (msg: Buffer, meta: Meta) => {
    const t0 = performance.now();
    const key = AnswerCache.key(msg, meta.transport === 'udp' ? 'udp' : 'tcp');
    if (key !== undefined) {
      const hit = wire.get(key, msg.readUInt16BE(0));
      if (
        hit &&
        hit.meta.generation === cache.generation &&
        Date.now() < hit.meta.until &&
        allowed(meta.address)
      ) {
        if (hit.meta.told) tellAgain(hit.meta.told, meta, msg.readUInt16BE(0), t0);
        return hit.bytes;
      }
    }
    const peer = peerString(meta.address, meta.port);
    let query: Packet;
    try {
      query = decodeMessage(msg);
    } catch (err) {
      if (queryEvents) {
        queryLog.emit({
          kind: 'dns.formerr',
          peer,
          summary: `${who(meta.address)} sent a malformed query`,
          data: { from: who(meta.address), bytes: msg.length },
        });
      }
      return (err as DnsDecodeError).header ? formErrFor(msg) : undefined;
    }
    if (query.type === 'response') return undefined;
    const q = query.questions?.[0];
    const rd = ((query.flags ?? 0) & 0x100) !== 0;
    const opt = findOpt(query);
    const span = queryEvents ? nextSpanId() : '';
    // RFC 3225 §3: the DO bit of the query is copied into the response
    const dnssecOk = ((opt?.flags ?? 0) & 0x8000) !== 0;
    const reply = (
      rcode: number,
      answers: Packet['answers'] = [],
      authority: Packet['authorities'] = [],
      ede?: { code: number; text: string },
      more: { additional?: Packet['additionals']; ra?: boolean } = {},
    ) => {
      const p: Packet = {
        id: query.id,
        type: 'response',
        flags: makeFlags({ opcode: ((query.flags ?? 0) >> 11) & 0xf, rd, ra: more.ra ?? true, rcode }),
        questions: q ? [q] : [],
        answers,
        authorities: authority,
        additionals: [
          ...(more.additional ?? []),
          ...(opt
            ? [makeOpt({ rcode, do: dnssecOk, options: ede ? [edeOption(ede.code, ede.text)] : [] })]
            : []),
        ],
      };
      const limit =
        meta.transport === 'udp' ? Math.min(Math.max(opt?.udpPayloadSize ?? 512, 512), 4096) : 65535;
      const out = encodeMessage(p);
      return out.length > limit ? encodeMessage(truncated(p)) : out;
    };
    if (!allowed(meta.address)) {
      if (queryEvents)
        queryLog.emit({
          kind: 'dns.refused',
          peer,
          summary: `refuses ${meta.address}: recursion is for the lab's networks only`,
          data: { from: meta.address, name: q?.name },
        });
      return reply(RCODE.REFUSED);
    }
    if ((((query.flags ?? 0) >> 11) & 0xf) !== 0) return reply(RCODE.NOTIMP);
    if (!q || (query.questions?.length ?? 0) !== 1) return reply(RCODE.FORMERR);
    if (opt && ((opt as { ednsVersion?: number }).ednsVersion ?? 0) > 0) return reply(RCODE.BADVERS);
    // a resolver holds no zone to transfer (RFC 5936 §6): REFUSED, as unbound answers (without RA)
    if (q.type === 'AXFR' || q.type === 'IXFR') return reply(RCODE.REFUSED, [], [], undefined, { ra: false });
    const local = localAnswer(q, ctx.host);
    if (local) {
      if ('refused' in local) return reply(RCODE.REFUSED);
      return reply(RCODE.NOERROR, local.answers as Packet['answers']);
    }
    const question = { name: q.name, type: q.type, rd };
    if (queryEvents) queryLog.emit(queryEvent(meta, span, question, query.id ?? 0));
    const emitAnswer = (r: Resolution) => {
      tell({
        kind: 'dns.answer',
        parent: span,
        peer,
        dur: Math.round((performance.now() - t0) * 1000),
        summary: `answers ${q.name} ${q.type}: ${RCODE_NAME[r.rcode]}${r.answers.length ? ` ${r.answers.map((a) => recordText(a).split(' IN ')[1]).join(', ')}` : ''} (${r.source}${r.ede ? `; EDE ${r.ede.code}: ${r.ede.text}` : ''})`,
        data: {
          name: q.name,
          type: q.type,
          rcode: RCODE_NAME[r.rcode],
          answers: r.answers.map(recordText),
          authority: r.authority.map(recordText),
          source: r.source,
          ede: r.ede,
        },
      });
    };
    const answer = (r: Resolution) => {
      if (queryEvents) emitAnswer(r);
      return reply(r.rcode, r.answers as Packet['answers'], r.authority as Packet['authorities'], r.ede, {
        additional: r.additional as Packet['additionals'],
      });
    };
    // JOURNEY 10: a fully cached answer is built synchronously; anything else walks from the root
    recording = queryEvents ? [] : undefined;
    const cached = resolveCached(it, q.name, q.type, queryEvents ? span : undefined);
    const out = cached && answer(cached);
    const told = recording && {
      question,
      events: recording.map(({ ts: _ts, ...ev }) => ev),
    };
    recording = undefined;
    if (cached && out) {
      if (key !== undefined && cached.sameUntil !== undefined)
        wire.set(key, out, { until: cached.sameUntil, generation: cache.generation, told });
      return out;
    }
    // RFC 1034 §4.3.1: RD=0 asks for what the cache holds; the rest is a referral, never a walk
    if (!rd) return answer(referralFromCache(it, q.name));
    return resolve(it, q.name, q.type, { queries: LIMITS.queries, span }).then(answer);
  };

  const addresses = [v4, ...(v6 ? [v6] : [])];
  const server = await startDnsServer(addresses, ctx.port(53), handle, (where, err) =>
    guard(ctx.events, where, err),
  );
  // DoT (853) and DoH (443) with a certificate from the lab CA: same handler, cache and events
  const encrypted = startEncryptedDns(ctx, addresses, handle);

  ctx.control.register('dns.flush', (args) => {
    const n = cache.flush(args.name ? String(args.name) : undefined);
    ctx.events.emit({
      kind: 'dns.flush',
      summary: `cache flushed${args.name ? ` for ${args.name}` : ''}: ${n} entries`,
      data: { name: args.name, removed: n },
    });
    return { removed: n };
  });
  ctx.control.register('dns.cache', () =>
    cache.list().map((e) => ({ ...e, records: e.records.map((r) => recordText(r)) })),
  );
  return {
    listening: server.listening,
    close: () => {
      queryLog.flush();
      return Promise.all([server.close(), encrypted.close()]).then(() => {});
    },
  };
});
