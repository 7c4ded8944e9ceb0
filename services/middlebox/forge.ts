// The forgeries, built from the segment that triggered them (JOURNEY 17). Linux follows RFC 5961 §3:
// a RST resets only when its sequence number is exactly the receiver's RCV.NXT (any other in-window
// RST earns a challenge ACK), so each RST's seq comes from what the trigger says the receiver expects:
// the sender's side expects trigger.ack next, the receiver's side trigger.seq + its length.
import { encodeMessage, makeFlags, type Packet } from '../common/dns/codec.js';
import { type Endpoint, segmentLength } from './flows.js';
import { type DecodedFrame, seqAdd, TCP_FLAGS, tcpFrame, udpFrame } from './packets.js';

/**
 * What makes the censor's packets recognisable in Wireshark: an odd TTL no Linux, Windows or macOS
 * host starts from (they use 64, 128, 255), and one IP-ID for every forgery.
 * Filter: tcp.flags.reset == 1 && ip.ttl == 47 (IPv6: ipv6.hlim == 47).
 */
export const FINGERPRINT = { ttl: 47, ipId: 0xbeef } as const;

export interface ForgedPacket {
  to: 'client' | 'server';
  src: string;
  sport: number;
  dst: string;
  dport: number;
  flags: string;
  seq: number;
  ack: number;
  ttl: number;
  ipId?: number;
  frame: Buffer;
}

export interface RstPlan {
  rstAck: boolean;
  offsets: number[];
}

/** Is this one of ours (seen again on the wire)? Never react to our own forgeries. */
export function isForged(f: DecodedFrame): boolean {
  return f.ip.ttl === FINGERPRINT.ttl && (f.ip.version === 6 || f.ip.id === FINGERPRINT.ipId);
}

/**
 * RSTs to both ends for a trigger segment of a flow. To the receiver of the trigger, spoofed from its
 * sender: seq = trigger.seq + length. To the sender, spoofed from the receiver: seq = trigger.ack.
 * A SYN's sender is in SYN-SENT: RFC 793 §3.9 accepts a RST there only with an acceptable ACK.
 */
export function forgeRsts(
  trigger: DecodedFrame,
  fromClient: boolean,
  plan: RstPlan,
  client: Endpoint,
  server: Endpoint,
): ForgedPacket[] {
  const t = trigger.tcp as NonNullable<DecodedFrame['tcp']>;
  const sender = fromClient ? client : server;
  const receiver = fromClient ? server : client;
  const senderRole = fromClient ? 'client' : 'server';
  const receiverRole = fromClient ? 'server' : 'client';
  const nextFromSender = seqAdd(t.seq, segmentLength(trigger));
  const hasAck = !!(t.flags & TCP_FLAGS.ACK);
  const out: ForgedPacket[] = [];
  const one = (
    to: 'client' | 'server',
    from: Endpoint,
    dest: Endpoint,
    seq: number,
    ack: number,
    withAck: boolean,
    // a reply frame swaps the trigger's MACs; a frame "from the sender" keeps them (docker: it is routed on)
    towardsSender: boolean,
  ) => {
    const flags = TCP_FLAGS.RST | (withAck ? TCP_FLAGS.ACK : 0);
    const frame = tcpFrame({
      src: from.address,
      dst: dest.address,
      sport: from.port,
      dport: dest.port,
      seq,
      ack: withAck ? ack : 0,
      flags,
      ttl: FINGERPRINT.ttl,
      id: FINGERPRINT.ipId,
      srcMac: towardsSender ? trigger.dstMac : trigger.srcMac,
      dstMac: towardsSender ? trigger.srcMac : trigger.dstMac,
    });
    out.push({
      to,
      src: from.address,
      sport: from.port,
      dst: dest.address,
      dport: dest.port,
      flags: withAck ? 'RST,ACK' : 'RST',
      seq,
      ack: withAck ? ack : 0,
      ttl: FINGERPRINT.ttl,
      ipId: trigger.ip.version === 4 ? FINGERPRINT.ipId : undefined,
      frame,
    });
  };
  // first the receiver, so it does not answer; each end gets its exact copy first, then the offsets
  for (const off of plan.offsets)
    one(receiverRole, sender, receiver, seqAdd(nextFromSender, off), t.ack, plan.rstAck && hasAck, false);
  const synSent = t.flags & TCP_FLAGS.SYN && !hasAck;
  if (synSent) {
    one(senderRole, receiver, sender, 0, nextFromSender, true, true);
  } else if (hasAck) {
    for (const off of plan.offsets)
      one(senderRole, receiver, sender, seqAdd(t.ack, off), nextFromSender, plan.rstAck, true);
  }
  return out;
}

export interface ForgedAnswer {
  src: string;
  dst: string;
  id: number;
  name: string;
  type: string;
  answer?: string;
  ttl: number;
  ipId?: number;
  frame: Buffer;
}

/** The forged answer's record TTL: short, so a browser forgets it soon after a workshop. */
export const FORGED_RECORD_TTL = 30;

/**
 * A DNS answer racing the real one (as the GFW's injectors do): same ID, same question, spoofed from
 * the server the query went to, arriving first. The address is a lab address (never the internet's).
 */
export function forgeDnsAnswer(
  query: DecodedFrame,
  q: { id: number; name: string; type: string; rd: boolean },
  address: string | undefined,
): ForgedAnswer {
  const u = query.udp as NonNullable<DecodedFrame['udp']>;
  const p: Packet = {
    id: q.id,
    type: 'response',
    flags: makeFlags({ rd: q.rd, ra: true }),
    questions: [{ name: q.name, type: q.type as 'A', class: 'IN' }],
    answers: address
      ? [{ name: q.name, type: q.type as 'A', class: 'IN', ttl: FORGED_RECORD_TTL, data: address }]
      : [],
  };
  const frame = udpFrame({
    src: query.ip.dst,
    dst: query.ip.src,
    sport: u.dport,
    dport: u.sport,
    payload: encodeMessage(p),
    ttl: FINGERPRINT.ttl,
    id: FINGERPRINT.ipId,
    srcMac: query.dstMac,
    dstMac: query.srcMac,
  });
  return {
    src: query.ip.dst,
    dst: query.ip.src,
    id: q.id,
    name: q.name,
    type: q.type,
    answer: address,
    ttl: FINGERPRINT.ttl,
    ipId: query.ip.version === 4 ? FINGERPRINT.ipId : undefined,
    frame,
  };
}
