// Ties frames to lab events: by 4-tuple (and DNS id) first, time only to choose among candidates.
// The result becomes packet comments ("resolver → ns-tld: referral for example.test") and the frame
// numbers each ladder arrow links to.
import type { LabEvent } from '../../services/common/events.js';
import { allAddressesOf, hostAt, type LabSettings, parsePeer } from '../../services/common/settings.js';
import { DNS_ANSWER_KINDS, eventKey } from '../render/ladder-model.js';
import { endMarkerAddress } from './end-marker.js';
import type { Frame } from './frames.js';

export interface Annotations {
  /** frame number → comment lines */
  comments: Map<number, string[]>;
  /** eventKey → frame numbers */
  frames: Map<string, number[]>;
}

const SYN = 0x002;
const ACK = 0x010;
const FIN = 0x001;
const RST = 0x004;
// a frame further than this from its event belongs to something else (a reused port, an old query)
const MAX_SKEW_US = 2_000_000;

export function annotate(events: LabEvent[], frames: Frame[], s: LabSettings): Annotations {
  const out: Annotations = { comments: new Map(), frames: new Map() };
  const name = (a: string) => hostAt(a, s) ?? a;
  const tie = (e: LabEvent, f: Frame | undefined, text: string) => {
    if (!f) return;
    out.comments.set(f.number, [
      ...(out.comments.get(f.number) ?? []),
      `${name(f.src)} → ${name(f.dst)}: ${text}`,
    ]);
    out.frames.set(eventKey(e), [...(out.frames.get(eventKey(e)) ?? []), f.number]);
  };
  const nearest = (e: LabEvent, pred: (f: Frame) => boolean) => {
    let best: Frame | undefined;
    for (const f of frames)
      if (
        Math.abs(f.ts - e.ts) < MAX_SKEW_US &&
        pred(f) &&
        (!best || Math.abs(f.ts - e.ts) < Math.abs(best.ts - e.ts))
      )
        best = f;
    return best;
  };
  const after = (from: Frame | undefined, pred: (f: Frame) => boolean) =>
    from ? frames.find((f) => f.number > from.number && f.ts - from.ts < MAX_SKEW_US && pred(f)) : undefined;
  const flow = (src: string, sport: number, dst: string, dport: number) => (f: Frame) =>
    f.proto === 'tcp' && f.src === src && f.sport === sport && f.dst === dst && f.dport === dport;

  const proxy = new Set(allAddressesOf('proxy', s));
  const app = new Set(allAddressesOf('app', s));
  const connections = new Map<string, { src: string; sport: number; dst: string; dport: number }>();
  for (const e of events) {
    const d = (e.data ?? {}) as Record<string, unknown>;
    const peer = parsePeer(e.peer);
    // JOURNEY 7-8: a question and its answer, the same client port and DNS id
    if (e.kind === 'dns.query' && peer && typeof d.id === 'number') {
      tie(
        e,
        nearest(
          e,
          (f) =>
            f.dnsResponse === false && f.dnsId === d.id && f.src === peer.address && f.sport === peer.port,
        ),
        `query ${d.name} ${d.type}`,
      );
      continue;
    }
    if (DNS_ANSWER_KINDS.has(e.kind) && peer) {
      const what =
        e.kind === 'dns.referral' ? `referral for ${d.name}` : `${e.kind.slice(4)} for ${d.name} ${d.type}`;
      // the resolver's answers carry no id: the client's port and the name tell them apart
      const sameQuestion = (f: Frame) => (typeof d.id === 'number' ? f.dnsId === d.id : f.dnsName === d.name);
      tie(
        e,
        nearest(
          e,
          (f) => f.dnsResponse === true && sameQuestion(f) && f.dst === peer.address && f.dport === peer.port,
        ),
        what,
      );
      continue;
    }
    // JOURNEY 34: the proxy's fetch from the app, plain HTTP on the backend network
    if (e.kind === 'backend.fetch' && typeof d.url === 'string') {
      const path = d.url.replace(/^[^/]+/, '');
      const sent = { ...e, ts: e.ts - Math.round(Number(d.ms ?? 0) * 1000) };
      tie(
        e,
        nearest(sent, (f) => proxy.has(f.src) && app.has(f.dst) && f.paths.includes(path)),
        `${d.method} ${d.url} (${d.mode})`,
      );
      continue;
    }
    if (e.host !== 'browser') {
      // the server side of an HTTP request: the frame carrying its path from that client port
      if (e.kind === 'http.request' && peer && typeof d.url === 'string') {
        const path = d.url.replace(/^https?:\/\/[^/]+/, '');
        tie(
          e,
          nearest(e, (f) => f.src === peer.address && f.sport === peer.port && f.paths.includes(path)),
          `${d.method} ${d.host ?? ''}${path}`,
        );
      }
      continue;
    }
    // JOURNEY 13-14: the three-way handshake of the browser's connection
    if (e.kind === 'tcp.connect') {
      const c = {
        src: String(d.src).replace(/^::ffff:/, ''),
        sport: Number(d.sport),
        dst: String(d.dst).replace(/^::ffff:/, ''),
        dport: Number(d.dport),
      };
      connections.set(String(d.connection), c);
      const syn = nearest(
        e,
        (f) => flow(c.src, c.sport, c.dst, c.dport)(f) && (f.tcpFlags & (SYN | ACK)) === SYN,
      );
      const synAck = after(
        syn,
        (f) => flow(c.dst, c.dport, c.src, c.sport)(f) && (f.tcpFlags & (SYN | ACK)) === (SYN | ACK),
      );
      const ack = after(synAck, (f) => flow(c.src, c.sport, c.dst, c.dport)(f) && f.tcpFlags === ACK);
      tie(e, syn, `SYN, TCP connection ${d.connection} (three-way handshake 1/3)`);
      tie(e, synAck, `SYN-ACK, TCP connection ${d.connection} (2/3)`);
      tie(e, ack, `ACK, TCP connection ${d.connection} established (3/3)`);
      continue;
    }
    const c = connections.get(String(d.connection ?? ''));
    // JOURNEY 19: ClientHello with SNI and ALPN, the server's answer
    if (e.kind === 'tls.handshake' && c) {
      const hello = frames.find((f) => flow(c.src, c.sport, c.dst, c.dport)(f) && f.tlsTypes.includes(1));
      const server = after(hello, (f) => flow(c.dst, c.dport, c.src, c.sport)(f) && f.tlsTypes.includes(2));
      tie(e, hello, `TLS ClientHello, SNI ${d.sni ?? '(none)'}, connection ${d.connection}`);
      tie(
        e,
        server,
        `TLS ServerHello${d.version ? ` (${d.version}${d.alpn ? `, ALPN ${d.alpn}` : ''})` : ''}`,
      );
      continue;
    }
    // JOURNEY 36: FIN from each side (or the RST that ended it)
    if (e.kind === 'tcp.close') {
      const src = parsePeer(d.src);
      const dst = parsePeer(d.dst);
      if (!src || !dst) continue;
      const fin = nearest(
        e,
        (f) => flow(src.address, src.port, dst.address, dst.port)(f) && (f.tcpFlags & (FIN | RST)) !== 0,
      );
      const finBack = nearest(
        e,
        (f) => flow(dst.address, dst.port, src.address, src.port)(f) && (f.tcpFlags & (FIN | RST)) !== 0,
      );
      for (const f of [fin, finBack].filter((x): x is Frame => !!x).sort((a, b) => a.number - b.number))
        tie(e, f, `${f.tcpFlags & RST ? 'RST' : 'FIN'}, connection ${d.connection} closed`);
    }
  }
  // the datagram the lab sent itself so that dumpcap could stop (end-marker.ts)
  const marker = endMarkerAddress(s);
  for (const f of frames)
    if (marker && f.proto === 'udp' && f.src === marker && f.dst === marker)
      out.comments.set(f.number, [
        'lab: end of the run (this datagram told the lab that every packet before it was on disk)',
      ]);
  return out;
}
