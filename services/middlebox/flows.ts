// TCP flows as the censor sees them: who opened it (the SYN's sender is the client), and the
// client's first bytes put back in order (RFC 793 §3.3 sequence space), enough to read a
// ClientHello or a request head. Pure: segments in, state out.
import { INSPECT_LIMIT, type Inspection, inspectClientBytes } from './inspect.js';
import { type DecodedFrame, seqAdd, TCP_FLAGS } from './packets.js';
import type { Rule } from './rules.js';

export interface Endpoint {
  address: string;
  port: number;
}

export interface Flow {
  key: string;
  client: Endpoint;
  server: Endpoint;
  /** sequence number of the client's first data byte (ISN + 1), once known */
  base?: number;
  /** out-of-order client segments by offset from base */
  pending: Map<number, Buffer>;
  /** the contiguous client bytes from base */
  stream: Buffer;
  inspected?: Inspection;
  /** the rule that condemned this flow, and what it saw */
  condemned?: { rule: Rule; trigger: string; value: string };
  /** injections done for this flow (residual resets are capped) */
  injections: number;
  /** forged packets already sent: "to seq", so a trigger that asks for the same ones is not answered twice */
  answered: Set<string>;
  lastSeen: number;
}

export const MAX_FLOWS = 20_000;
export const FLOW_IDLE_US = 120_000_000;

export function endpointText(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

function keyOf(a: Endpoint, b: Endpoint): string {
  const x = endpointText(a);
  const y = endpointText(b);
  return x < y ? `${x} ${y}` : `${y} ${x}`;
}

/** The TCP sequence space a segment occupies: data, plus one each for SYN and FIN (RFC 793 §3.3). */
export function segmentLength(f: DecodedFrame): number {
  const t = f.tcp;
  if (!t) return 0;
  return t.payload.length + (t.flags & TCP_FLAGS.SYN ? 1 : 0) + (t.flags & TCP_FLAGS.FIN ? 1 : 0);
}

export interface FlowTable {
  /** the flow of a segment (created on first sight), and whether the segment goes client → server */
  track(f: DecodedFrame, ts: number): { flow: Flow; fromClient: boolean };
  /** adds a client segment's data; returns the inspection once it is decided (once per flow) */
  feed(flow: Flow, f: DecodedFrame): Inspection | undefined;
  forget(flow: Flow): void;
  size(): number;
}

export function createFlowTable(): FlowTable {
  const flows = new Map<string, Flow>();
  const expire = (now: number) => {
    for (const [k, fl] of flows) if (now - fl.lastSeen > FLOW_IDLE_US) flows.delete(k);
    // still too many: drop the oldest (Map keeps insertion order)
    for (const k of flows.keys()) {
      if (flows.size < MAX_FLOWS) break;
      flows.delete(k);
    }
  };
  return {
    track(f, ts) {
      const t = f.tcp as NonNullable<DecodedFrame['tcp']>;
      const src = { address: f.ip.src, port: t.sport };
      const dst = { address: f.ip.dst, port: t.dport };
      const key = keyOf(src, dst);
      let flow = flows.get(key);
      const syn = t.flags & TCP_FLAGS.SYN && !(t.flags & TCP_FLAGS.ACK);
      if (flow && syn && endpointText(flow.client) === endpointText(src) && flow.base !== seqAdd(t.seq, 1)) {
        flows.delete(key); // a new connection on a reused 4-tuple
        flow = undefined;
      }
      if (!flow) {
        if (flows.size >= MAX_FLOWS) expire(ts);
        // the SYN's sender is the client; a SYN-ACK's receiver is; mid-stream, the sender of the first segment seen
        const synAck = t.flags & TCP_FLAGS.SYN && t.flags & TCP_FLAGS.ACK;
        const [client, server] = synAck ? [dst, src] : [src, dst];
        flow = {
          key,
          client,
          server,
          pending: new Map(),
          stream: Buffer.alloc(0),
          injections: 0,
          answered: new Set(),
          lastSeen: ts,
        };
        if (syn) flow.base = seqAdd(t.seq, 1);
        if (synAck) flow.base = t.ack;
        flows.set(key, flow);
      }
      flow.lastSeen = ts;
      return { flow, fromClient: endpointText(flow.client) === endpointText(src) };
    },
    feed(flow, f) {
      const t = f.tcp;
      if (!t || flow.inspected || t.payload.length === 0) return undefined;
      if (flow.base === undefined) flow.base = t.seq; // joined mid-stream: start here
      const offset = (t.seq - flow.base) >>> 0;
      if (offset >= INSPECT_LIMIT) return undefined;
      flow.pending.set(offset, Buffer.from(t.payload)); // the capture buffer is reused
      // put contiguous data back in order; a retransmission overlapping what we have adds its tail
      for (let progressed = true; progressed; ) {
        progressed = false;
        for (const [off, data] of flow.pending) {
          if (off > flow.stream.length) continue;
          flow.pending.delete(off);
          const tail = data.subarray(flow.stream.length - off);
          if (tail.length) flow.stream = Buffer.concat([flow.stream, tail]).subarray(0, INSPECT_LIMIT);
          progressed = true;
        }
      }
      const verdict = inspectClientBytes(flow.stream);
      if (verdict.kind === 'more') return undefined;
      flow.inspected = verdict;
      flow.pending.clear();
      return verdict;
    },
    forget(flow) {
      flows.delete(flow.key);
    },
    size: () => flows.size,
  };
}
