// Ethernet, IPv4, IPv6, TCP and UDP as symmetric pure functions over bytes: decode what libpcap
// hands us, encode what we inject. On Linux `lo` is DLT_EN10MB with zero MACs; in docker it is real
// Ethernet, so a frame keeps the MAC addresses it is given.
// Written by hand: cap's decoders only decode and npm's ip-packet is IPv4 only; a forgery needs both ways.
import { isIPv6 } from 'node:net';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;

export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

export interface IpInfo {
  version: 4 | 6;
  src: string;
  dst: string;
  /** TTL (IPv4) or hop limit (IPv6) */
  ttl: number;
  /** IPv4 Identification; IPv6 has none outside a fragment header */
  id?: number;
}

export interface TcpInfo {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  payload: Buffer;
}

export interface UdpInfo {
  sport: number;
  dport: number;
  payload: Buffer;
}

export interface DecodedFrame {
  srcMac: Buffer;
  dstMac: Buffer;
  ip: IpInfo;
  tcp?: TcpInfo;
  udp?: UdpInfo;
}

/** Why a frame was skipped: counted by the middlebox, never thrown. */
export type SkipReason = 'truncated' | 'malformed' | 'fragment' | 'not-ip' | 'other-protocol';

export type DecodeResult = { ok: true; frame: DecodedFrame } | { ok: false; reason: SkipReason };

/** RFC 1071: the Internet checksum, one's complement of the one's complement sum of 16-bit words. */
export function internetChecksum(...parts: Buffer[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const buf of parts) {
    let i = 0;
    if (odd !== undefined && buf.length) {
      sum += (odd << 8) | buf[0];
      odd = undefined;
      i = 1;
    }
    for (; i + 1 < buf.length; i += 2) sum += (buf[i] << 8) | buf[i + 1];
    if (i < buf.length) odd = buf[i];
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function ipv4Bytes(a: string): Buffer {
  const parts = a.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new Error(`"${a}" is not an IPv4 address`);
  return Buffer.from(parts);
}

export function ipv6Bytes(a: string): Buffer {
  const [head, tail, extra] = a.split('::');
  if (extra !== undefined) throw new Error(`"${a}" is not an IPv6 address`);
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  const zeros = tail === undefined ? 0 : 8 - h.length - t.length;
  const groups = [...h, ...Array(zeros).fill('0'), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g)))
    throw new Error(`"${a}" is not an IPv6 address`);
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  return out;
}

function ipv4Text(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** RFC 5952 §4: lower case, leading zeros dropped, the longest run of zero groups as "::". */
export function ipv6Text(b: Buffer, at: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(b.readUInt16BE(at + i * 2));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/**
 * Decodes one captured Ethernet frame of `len` bytes; anything odd is a reason, never an exception.
 * Payloads are views into `buf` (libpcap reuses it): copy what outlives the call.
 */
export function decodeFrame(buf: Buffer, len = buf.length): DecodeResult {
  if (len > buf.length) len = buf.length;
  if (len < 14) return { ok: false, reason: 'truncated' };
  const type = buf.readUInt16BE(12);
  const srcMac = buf.subarray(6, 12);
  const dstMac = buf.subarray(0, 6);
  let ip: IpInfo;
  let proto: number;
  let l4: number;
  let end: number;
  if (type === ETHERTYPE_IPV4) {
    if (len < 34) return { ok: false, reason: 'truncated' };
    const vihl = buf[14];
    const ihl = (vihl & 0x0f) * 4;
    if (vihl >> 4 !== 4 || ihl < 20) return { ok: false, reason: 'malformed' };
    const total = buf.readUInt16BE(16);
    if (total < ihl) return { ok: false, reason: 'malformed' };
    if (14 + total > len) return { ok: false, reason: 'truncated' };
    const frag = buf.readUInt16BE(20);
    // RFC 791: MF set or a non-zero offset is a fragment; the censor does not reassemble them
    if (frag & 0x2000 || frag & 0x1fff) return { ok: false, reason: 'fragment' };
    proto = buf[23];
    ip = {
      version: 4,
      src: ipv4Text(buf, 26),
      dst: ipv4Text(buf, 30),
      ttl: buf[22],
      id: buf.readUInt16BE(18),
    };
    l4 = 14 + ihl;
    end = 14 + total;
  } else if (type === ETHERTYPE_IPV6) {
    if (len < 54) return { ok: false, reason: 'truncated' };
    if (buf[14] >> 4 !== 6) return { ok: false, reason: 'malformed' };
    const payloadLen = buf.readUInt16BE(18);
    if (54 + payloadLen > len) return { ok: false, reason: 'truncated' };
    proto = buf[20];
    if (proto === 44) return { ok: false, reason: 'fragment' }; // RFC 8200 §4.5
    ip = { version: 6, src: ipv6Text(buf, 22), dst: ipv6Text(buf, 38), ttl: buf[21] };
    l4 = 54;
    end = 54 + payloadLen;
  } else {
    return { ok: false, reason: 'not-ip' };
  }
  const frame: DecodedFrame = { srcMac, dstMac, ip };
  if (proto === PROTO_TCP) {
    if (end - l4 < 20) return { ok: false, reason: 'truncated' };
    const off = (buf[l4 + 12] >> 4) * 4;
    if (off < 20 || l4 + off > end) return { ok: false, reason: 'malformed' };
    frame.tcp = {
      sport: buf.readUInt16BE(l4),
      dport: buf.readUInt16BE(l4 + 2),
      seq: buf.readUInt32BE(l4 + 4),
      ack: buf.readUInt32BE(l4 + 8),
      flags: buf[l4 + 13],
      window: buf.readUInt16BE(l4 + 14),
      payload: buf.subarray(l4 + off, end),
    };
    return { ok: true, frame };
  }
  if (proto === PROTO_UDP) {
    if (end - l4 < 8) return { ok: false, reason: 'truncated' };
    const ulen = buf.readUInt16BE(l4 + 4);
    if (ulen < 8 || l4 + ulen > end) return { ok: false, reason: 'malformed' };
    frame.udp = {
      sport: buf.readUInt16BE(l4),
      dport: buf.readUInt16BE(l4 + 2),
      payload: buf.subarray(l4 + 8, l4 + ulen),
    };
    return { ok: true, frame };
  }
  return { ok: false, reason: 'other-protocol' };
}

export interface IpFields {
  src: string;
  dst: string;
  /** TTL or hop limit: the forger's fingerprint, 64 otherwise */
  ttl?: number;
  /** IPv4 Identification (random if not given) */
  id?: number;
  srcMac?: Buffer;
  dstMac?: Buffer;
}

const ZERO_MAC = Buffer.alloc(6);

/** Ethernet + IPv4/IPv6 around a transport segment whose checksum field is at `csumAt`. */
function frameAround(f: IpFields, proto: number, l4: Buffer, csumAt: number, optionalCsum: boolean): Buffer {
  const v6 = isIPv6(f.src);
  if (v6 !== isIPv6(f.dst)) throw new Error(`${f.src} and ${f.dst} are not the same address family`);
  const src = v6 ? ipv6Bytes(f.src) : ipv4Bytes(f.src);
  const dst = v6 ? ipv6Bytes(f.dst) : ipv4Bytes(f.dst);
  // RFC 793 §3.1 / RFC 8200 §8.1: the checksum covers a pseudo-header of addresses, protocol, length
  const pseudo = Buffer.alloc(v6 ? 40 : 12);
  src.copy(pseudo, 0);
  dst.copy(pseudo, src.length);
  if (v6) {
    pseudo.writeUInt32BE(l4.length, 32);
    pseudo.writeUInt32BE(proto, 36);
  } else {
    pseudo.writeUInt8(proto, 9);
    pseudo.writeUInt16BE(l4.length, 10);
  }
  l4.writeUInt16BE(0, csumAt);
  const sum = internetChecksum(pseudo, l4);
  // RFC 768: a computed 0 is sent as 0xFFFF (0 means "no checksum", allowed for UDP over IPv4 only)
  l4.writeUInt16BE(sum === 0 && optionalCsum ? 0xffff : sum, csumAt);
  const eth = Buffer.alloc(14);
  (f.dstMac ?? ZERO_MAC).copy(eth, 0);
  (f.srcMac ?? ZERO_MAC).copy(eth, 6);
  eth.writeUInt16BE(v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, 12);
  const ttl = f.ttl ?? 64;
  if (v6) {
    const ip = Buffer.alloc(40);
    ip.writeUInt32BE(0x60000000, 0);
    ip.writeUInt16BE(l4.length, 4);
    ip.writeUInt8(proto, 6);
    ip.writeUInt8(ttl, 7);
    src.copy(ip, 8);
    dst.copy(ip, 24);
    return Buffer.concat([eth, ip, l4]);
  }
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + l4.length, 2);
  ip.writeUInt16BE(f.id ?? Math.floor(Math.random() * 65536), 4);
  ip.writeUInt16BE(0x4000, 6); // DF, as Linux sends
  ip.writeUInt8(ttl, 8);
  ip.writeUInt8(proto, 9);
  src.copy(ip, 12);
  dst.copy(ip, 16);
  ip.writeUInt16BE(internetChecksum(ip), 10);
  return Buffer.concat([eth, ip, l4]);
}

export interface TcpFields extends IpFields {
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  payload?: Buffer;
}

/** A TCP segment in an Ethernet frame, checksums computed (RFC 793 §3.1). */
export function tcpFrame(f: TcpFields): Buffer {
  const payload = f.payload ?? Buffer.alloc(0);
  const tcp = Buffer.alloc(20 + payload.length);
  tcp.writeUInt16BE(f.sport, 0);
  tcp.writeUInt16BE(f.dport, 2);
  tcp.writeUInt32BE(f.seq >>> 0, 4);
  tcp.writeUInt32BE((f.ack ?? 0) >>> 0, 8);
  tcp.writeUInt8(5 << 4, 12);
  tcp.writeUInt8(f.flags, 13);
  tcp.writeUInt16BE(f.window ?? 0, 14);
  payload.copy(tcp, 20);
  return frameAround(f, PROTO_TCP, tcp, 16, false);
}

export interface UdpFields extends IpFields {
  sport: number;
  dport: number;
  payload: Buffer;
}

/** A UDP datagram in an Ethernet frame; the checksum is always computed (IPv6 requires it). */
export function udpFrame(f: UdpFields): Buffer {
  const udp = Buffer.alloc(8 + f.payload.length);
  udp.writeUInt16BE(f.sport, 0);
  udp.writeUInt16BE(f.dport, 2);
  udp.writeUInt16BE(udp.length, 4);
  f.payload.copy(udp, 8);
  return frameAround(f, PROTO_UDP, udp, 6, true);
}

/** "SYN", "RST,ACK" … as Wireshark names them. */
export function flagNames(flags: number): string {
  return (Object.entries(TCP_FLAGS) as [string, number][])
    .filter(([, bit]) => flags & bit)
    .map(([n]) => n)
    .join(',');
}

/** Sequence-space arithmetic modulo 2^32 (RFC 793 §3.3). */
export function seqAdd(seq: number, n: number): number {
  return (seq + n) >>> 0;
}
