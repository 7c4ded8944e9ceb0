// The one wrapper of dns-packet that the nameserver, the resolver and the browser's stub share.
// A decoding failure is one typed error (DnsDecodeError), never a crash; a hostile header with huge
// section counts is refused before dns-packet spends time on it (docs/LIBRARIES.md).
import type { OptAnswer, PacketOpt } from 'dns-packet';
import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet';
import { compressNames } from './compress.js';

export type { Answer, Packet, Question };

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  NOTAUTH: 9,
  BADVERS: 16,
  BADCOOKIE: 23,
} as const;

export const RCODE_NAME: Record<number, string> = Object.fromEntries(
  Object.entries(RCODE).map(([k, v]) => [v, k]),
);

export const OPCODE_QUERY = 0;
/** RFC 8914 Extended DNS Error option code */
export const EDNS_OPTION_EDE = 15;
/** the EDNS buffer size we advertise (DNS flag day 2020) */
export const EDNS_UDP_SIZE = 1232;

export interface HeaderFields {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export class DnsDecodeError extends Error {
  readonly code = 'ERR_DNS_DECODE';
  constructor(
    message: string,
    /** the header, when its 12 bytes could be read (a server answers FORMERR then) */
    readonly header?: HeaderFields,
  ) {
    super(message);
  }
  /** whether the 12-byte header was readable: answer FORMERR then, else stay silent (RFC 1035 §4.1.1) */
  get headerReadable(): boolean {
    return this.header !== undefined;
  }
}

export function readHeader(buf: Uint8Array): HeaderFields | undefined {
  if (buf.length < 12) return undefined;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const flags = b.readUInt16BE(2);
  return {
    id: b.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x400) !== 0,
    tc: (flags & 0x200) !== 0,
    rd: (flags & 0x100) !== 0,
    ra: (flags & 0x80) !== 0,
    ad: (flags & 0x20) !== 0,
    cd: (flags & 0x10) !== 0,
    rcode: flags & 0xf,
    qdcount: b.readUInt16BE(4),
    ancount: b.readUInt16BE(6),
    nscount: b.readUInt16BE(8),
    arcount: b.readUInt16BE(10),
  };
}

/** Smallest wire sizes: a question is a root name + type + class; a record adds TTL and RDLENGTH. */
const MIN_QUESTION = 5;
const MIN_RECORD = 11;

export function decodeMessage(buf: Uint8Array): Packet & { flag_tc?: boolean } {
  const header = readHeader(buf);
  if (!header) throw new DnsDecodeError(`a DNS message has a 12-byte header; got ${buf.length} bytes`);
  const minimum =
    12 + header.qdcount * MIN_QUESTION + (header.ancount + header.nscount + header.arcount) * MIN_RECORD;
  if (minimum > buf.length) {
    throw new DnsDecodeError(
      `section counts need at least ${minimum} bytes; the message has ${buf.length}`,
      header,
    );
  }
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  scanMessage(bytes, header); // RFC 6891 §6.1.1: one OPT, owned by the root, its options inside it
  let p: Packet;
  try {
    p = dnsPacket.decode(bytes);
  } catch (err) {
    throw new DnsDecodeError(`malformed DNS message: ${(err as Error).message}`, header);
  }
  const q = p.questions?.[0];
  if (q && !questionRoundTrips(bytes, q.name)) {
    throw new DnsDecodeError(
      `the question name has a label this server cannot echo (a dot inside a label, or bytes that are not UTF-8)`,
      header,
    );
  }
  return p;
}

/**
 * dns-packet turns label bytes into a string: a "." inside a label or bytes that are not UTF-8 would
 * come back as other labels or other bytes, and the echoed question would not be the one asked.
 * The first question starts at byte 12; a name with a compression pointer is not compared.
 */
/** dns-packet's name codec: exported by the library, missing from its type declarations */
declare module 'dns-packet' {
  export const name: { encode(n: string): Buffer };
}
const nameCodec = dnsPacket.name;

function questionRoundTrips(bytes: Buffer, name: string): boolean {
  const wire = nameCodec.encode(name);
  if (bytes.length >= 12 + wire.length && bytes.compare(wire, 0, wire.length, 12, 12 + wire.length) === 0)
    return true;
  for (let i = 12; i < bytes.length; ) {
    const len = bytes[i];
    if (len === 0) return false;
    if ((len & 0xc0) === 0xc0) return true; // compressed: dns-packet followed it; not ours to judge
    i += len + 1;
  }
  return false;
}

/** An OPT record as it sits in a message's bytes (RFC 6891 §6.1.2). */
export interface WireOpt {
  /** offset of the record's first byte (its owner name, the root) */
  start: number;
  /** offset of its TYPE field */
  fixed: number;
  /** offset just past its RDATA */
  end: number;
  udpPayloadSize: number;
  version: number;
  do: boolean;
  options: { code: number; data: Buffer }[];
}

export interface WireShape {
  /** offset just past the question section */
  questionEnd: number;
  opt?: WireOpt;
}

const TYPE_OPT = 41;

/** Offset just past the name at `off` (a pointer ends it); throws on a name running off the end. */
function skipName(buf: Buffer, off: number, fail: (why: string) => never): number {
  for (;;) {
    if (off >= buf.length) fail('a name runs past the end of the message');
    const len = buf[off];
    if ((len & 0xc0) === 0xc0) return off + 2;
    if (len & 0xc0) fail('a label type other than a length or a pointer (RFC 6891 §5)');
    if (len === 0) return off + 1;
    off += len + 1;
  }
}

/**
 * Walks a message's records without decoding their data: where the question ends and where the OPT
 * record is, if any. Throws DnsDecodeError for what RFC 6891 §6.1.1 makes a FORMERR: a second OPT,
 * an OPT whose owner is not the root, an OPT outside the additional section, an option running past
 * the end of its record.
 */
export function scanMessage(buf: Buffer, header = readHeader(buf)): WireShape {
  if (!header) throw new DnsDecodeError(`a DNS message has a 12-byte header; got ${buf.length} bytes`);
  const fail = (why: string): never => {
    throw new DnsDecodeError(why, header);
  };
  let off = 12;
  for (let i = 0; i < header.qdcount; i++) off = skipName(buf, off, fail) + 4;
  if (off > buf.length) fail('the question runs past the end of the message');
  const questionEnd = off;
  let opt: WireOpt | undefined;
  const records = header.ancount + header.nscount + header.arcount;
  for (let i = 0; i < records; i++) {
    const start = off;
    const fixed = skipName(buf, off, fail);
    if (fixed + 10 > buf.length) fail('a record runs past the end of the message');
    const rdlength = buf.readUInt16BE(fixed + 8);
    off = fixed + 10 + rdlength;
    if (off > buf.length) fail('a record runs past the end of the message');
    if (buf.readUInt16BE(fixed) !== TYPE_OPT) continue;
    if (i < header.ancount + header.nscount) fail('an OPT record outside the additional section');
    if (opt) fail('two OPT records (RFC 6891 §6.1.1)');
    if (fixed !== start + 1 || buf[start] !== 0) fail('an OPT record whose owner is not the root');
    opt = {
      start,
      fixed,
      end: off,
      udpPayloadSize: buf.readUInt16BE(fixed + 2),
      version: buf[fixed + 5],
      do: (buf.readUInt16BE(fixed + 6) & 0x8000) !== 0,
      options: readOptions(buf.subarray(fixed + 10, off), fail),
    };
  }
  return { questionEnd, opt };
}

/** RFC 6891 §6.1.2: {code, length, data} options filling the RDATA exactly. */
function readOptions(rdata: Buffer, fail: (why: string) => never): WireOpt['options'] {
  const out: WireOpt['options'] = [];
  for (let off = 0; off < rdata.length; ) {
    if (off + 4 > rdata.length) fail('an EDNS option header runs past the end of the OPT record');
    const len = rdata.readUInt16BE(off + 2);
    if (off + 4 + len > rdata.length) fail('an EDNS option runs past the end of the OPT record');
    out.push({ code: rdata.readUInt16BE(off), data: rdata.subarray(off + 4, off + 4 + len) });
    off += 4 + len;
  }
  return out;
}

/** The options' wire form, to append to an OPT record's RDATA. */
function encodeOptions(options: { code: number; data: Buffer }[]): Buffer {
  return Buffer.concat(
    options.flatMap((o) => {
      const head = Buffer.alloc(4);
      head.writeUInt16BE(o.code, 0);
      head.writeUInt16BE(o.data.length, 2);
      return [head, o.data];
    }),
  );
}

/**
 * Finishes an encoded response's OPT record: the DO bit copied from the query (RFC 3225 §3) and
 * options appended (NSID, COOKIE). A response without OPT is returned as it is.
 */
export function finishOpt(
  response: Buffer,
  add: { do: boolean; options: { code: number; data: Buffer }[] },
): Buffer {
  const opt = scanMessage(response).opt;
  if (!opt || (!add.do && !add.options.length)) return response;
  const extra = encodeOptions(add.options);
  const out = Buffer.concat([response.subarray(0, opt.end), extra, response.subarray(opt.end)]);
  out.writeUInt16BE(out.readUInt16BE(opt.fixed + 8) + extra.length, opt.fixed + 8);
  if (add.do) out.writeUInt16BE(out.readUInt16BE(opt.fixed + 6) | 0x8000, opt.fixed + 6);
  return out;
}

/** TC=1 with the question and the OPT record only (RFC 1035 §4.2.1, RFC 6891 §7), from the bytes. */
export function truncateMessage(response: Buffer): Buffer {
  const shape = scanMessage(response);
  const opt = shape.opt ? response.subarray(shape.opt.start, shape.opt.end) : Buffer.alloc(0);
  const out = Buffer.concat([response.subarray(0, shape.questionEnd), opt]);
  out.writeUInt16BE(out.readUInt16BE(2) | 0x200, 2);
  out.writeUInt32BE(0, 6); // ANCOUNT, NSCOUNT
  out.writeUInt16BE(shape.opt ? 1 : 0, 10);
  return out;
}

export interface FlagFields {
  opcode?: number;
  aa?: boolean;
  tc?: boolean;
  rd?: boolean;
  ra?: boolean;
  ad?: boolean;
  cd?: boolean;
  /** the low 4 bits go in the header; the rest in the OPT record (RFC 6891 §6.1.3) */
  rcode?: number;
}

export function makeFlags(f: FlagFields): number {
  return (
    ((f.opcode ?? 0) << 11) |
    (f.aa ? 0x400 : 0) |
    (f.tc ? 0x200 : 0) |
    (f.rd ? 0x100 : 0) |
    (f.ra ? 0x80 : 0) |
    (f.ad ? 0x20 : 0) |
    (f.cd ? 0x10 : 0) |
    ((f.rcode ?? 0) & 0xf)
  );
}

export function rcodeOf(p: Packet): number {
  const low = (p.flags ?? 0) & 0xf;
  const opt = findOpt(p);
  return opt ? (((opt as { extendedRcode?: number }).extendedRcode ?? 0) << 4) | low : low;
}

/** Encodes a message with its names compressed (RFC 1035 §4.1.4); dns-packet writes every name in full. */
export function encodeMessage(p: Packet): Buffer {
  return compressNames(dnsPacket.encode(p));
}

/** The message as dns-packet writes it, every name in full: for comparisons and the codec bench. */
export function encodeUncompressed(p: Packet): Buffer {
  return dnsPacket.encode(p);
}

export interface OptRecord {
  type: 'OPT';
  name: '.';
  udpPayloadSize: number;
  extendedRcode: number;
  ednsVersion: number;
  flags: number;
  options: { code: number; data: Buffer }[];
}

export function findOpt(p: Packet): OptRecord | undefined {
  // dns-packet decodes every EDNS option with its raw bytes in `data` (its types leave `data` optional)
  return (p.additionals ?? []).find((a): a is OptAnswer & OptRecord => a.type === 'OPT');
}

export function makeOpt(
  o: { udpPayloadSize?: number; rcode?: number; do?: boolean; options?: OptRecord['options'] } = {},
): Answer {
  const rec: OptAnswer = {
    type: 'OPT',
    name: '.',
    udpPayloadSize: o.udpPayloadSize ?? EDNS_UDP_SIZE,
    extendedRcode: (o.rcode ?? 0) >> 4,
    ednsVersion: 0,
    flags: o.do ? 0x8000 : 0,
    flag_do: o.do === true, // what dns-packet's decoder derives from `flags`; its encoder reads `flags` only
    // dns-packet's types name only four option codes; its encoder writes any code with its `data` bytes
    options: (o.options ?? []) as PacketOpt[],
  };
  return rec;
}

/** RFC 8914: INFO-CODE (2 bytes) then UTF-8 EXTRA-TEXT. */
export function edeOption(infoCode: number, text = ''): { code: number; data: Buffer } {
  const t = Buffer.from(text, 'utf8');
  const data = Buffer.alloc(2 + t.length);
  data.writeUInt16BE(infoCode, 0);
  t.copy(data, 2);
  return { code: EDNS_OPTION_EDE, data };
}

export function readEde(p: Packet): { infoCode: number; text: string }[] {
  const opt = findOpt(p);
  return (opt?.options ?? [])
    .filter((o) => o.code === EDNS_OPTION_EDE && o.data && o.data.length >= 2)
    .map((o) => ({ infoCode: o.data.readUInt16BE(0), text: o.data.subarray(2).toString('utf8') }));
}

/** RFC 1035 §4.2.2: a message over TCP is preceded by its length in two bytes. */
export function frameTcp(msg: Uint8Array): Buffer {
  const out = Buffer.alloc(msg.length + 2);
  out.writeUInt16BE(msg.length, 0);
  Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength).copy(out, 2);
  return out;
}

/** Splits a TCP byte stream into DNS messages. */
export class TcpDeframer {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.buf.length >= 2) {
      const len = this.buf.readUInt16BE(0);
      if (this.buf.length < len + 2) break;
      out.push(this.buf.subarray(2, 2 + len));
      this.buf = this.buf.subarray(2 + len);
    }
    return out;
  }
  get pending(): number {
    return this.buf.length;
  }
}

/** Names compare case-insensitively and without the trailing dot (RFC 4343). */
export function canonicalName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') && n.length > 1 ? n.slice(0, -1) : n === '.' ? '' : n;
}

/** Is `name` equal to or below `zone` ("" is the root)? */
export function inBailiwick(name: string, zone: string): boolean {
  const n = canonicalName(name);
  const z = canonicalName(zone);
  return z === '' || n === z || n.endsWith(`.${z}`);
}
