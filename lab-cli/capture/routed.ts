// A docker capture records every lab bridge, so a packet the middlebox routes from lab-home to
// lab-internet (or back) is in the file twice: once as its sender put it on the wire, once more as
// the router forwarded it, one hop later (TTL / hop limit one lower, other MAC addresses). Wireshark
// takes the second copy for a TCP retransmission, and the bridges' packets come out of dumpcap in
// per-interface batches, so frames are not in time order. This pass keeps each packet once, as its
// sender sent it (on the sender's own network), and sorts the frames by time. A packet the router
// drops has no second copy, so the packet-loss scenario still shows its one real retransmission;
// a forgery the middlebox injects on one leg has no twin either, and stays.
import { createHash } from 'node:crypto';
import { readSectionHeader } from './nrb.js';

const EPB_TYPE = 0x00000006;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERNET_HEADER = 14;
// a routed copy follows its original within microseconds; well past that, the same bytes are news
const COPY_WINDOW_US = 1_000_000n;

interface PacketBlock {
  block: Buffer;
  /** position in the file, so equal timestamps keep dumpcap's order */
  index: number;
  iface: number;
  ts: bigint;
  /** the IP packet without what a router changes (TTL / hop limit, IPv4 header checksum) */
  key?: string;
  hops?: number;
}

/** What routing changes in an IP packet (RFC 791 §3.2 TTL and checksum, RFC 8200 §3 hop limit), zeroed. */
export function routingInvariantKey(frame: Buffer): { key: string; hops: number } | undefined {
  if (frame.length < ETHERNET_HEADER + 20) return undefined;
  const type = frame.readUInt16BE(12);
  const ip = Buffer.from(frame.subarray(ETHERNET_HEADER));
  let hops: number;
  if (type === ETHERTYPE_IPV4 && ip[0] >> 4 === 4) {
    hops = ip[8];
    ip[8] = 0;
    ip.writeUInt16BE(0, 10);
  } else if (type === ETHERTYPE_IPV6 && ip[0] >> 4 === 6 && ip.length >= 40) {
    hops = ip[7];
    ip[7] = 0;
  } else return undefined;
  return { key: createHash('sha1').update(ip).digest('base64'), hops };
}

/**
 * The capture with each routed packet kept once, from the network of its sender, and every frame in
 * time order. Returns the new file and how many copies it left out.
 */
export function keepSendersCopy(file: Buffer): { file: Buffer; copies: number } {
  const { order, length: shbLength } = readSectionHeader(file);
  const u32 = (at: number) => (order === 'LE' ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const head: Buffer[] = [file.subarray(0, shbLength)];
  const tail: Buffer[] = [];
  const packets: PacketBlock[] = [];
  for (let at = shbLength; at + 12 <= file.length; ) {
    const type = u32(at);
    const block = file.subarray(at, at + u32(at + 4));
    if (type === EPB_TYPE) {
      const ts = (BigInt(u32(at + 12)) << 32n) | BigInt(u32(at + 16));
      const captured = u32(at + 20);
      const frame = block.subarray(28, 28 + captured);
      packets.push({ block, index: packets.length, iface: u32(at + 8), ts, ...routingInvariantKey(frame) });
    } else (packets.length ? tail : head).push(block); // IDBs and DSBs before, statistics after
    at += block.length;
  }
  const copies = routedCopies(packets);
  const kept = packets
    .filter((p) => !copies.has(p))
    .sort((a, b) => (a.ts === b.ts ? a.index - b.index : a.ts < b.ts ? -1 : 1));
  return { file: Buffer.concat([...head, ...kept.map((p) => p.block), ...tail]), copies: copies.size };
}

/** Packets seen again on another bridge with one hop more spent, close in time: the router's copies. */
function routedCopies(packets: PacketBlock[]): Set<PacketBlock> {
  const byKey = new Map<string, PacketBlock[]>();
  for (const p of packets) {
    if (!p.key) continue;
    const same = byKey.get(p.key);
    if (same) same.push(p);
    else byKey.set(p.key, [p]);
  }
  const copies = new Set<PacketBlock>();
  for (const same of byKey.values()) {
    if (same.length < 2) continue;
    for (const p of same) {
      const original = same.find(
        (o) =>
          o.iface !== p.iface &&
          (o.hops ?? 0) > (p.hops ?? 0) &&
          (o.ts > p.ts ? o.ts - p.ts : p.ts - o.ts) <= COPY_WINDOW_US,
      );
      if (original) copies.add(p);
    }
  }
  return copies;
}
