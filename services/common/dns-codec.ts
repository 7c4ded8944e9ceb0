// The one wrapper of dns-packet that the nameserver, the resolver and the browser's stub share.
// A decoding failure is one typed error (DnsDecodeError), never a crash; a hostile header with huge
// section counts is refused before dns-packet spends time on it (docs/LIBRARIES.md).
import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet';

export type { Answer, Packet, Question };

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
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
/** dns-packet's name codec (exported, not in its type declarations) */
const nameCodec = (dnsPacket as unknown as { name: { encode(n: string): Buffer } }).name;

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

export function encodeMessage(p: Packet): Buffer {
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
  return (p.additionals ?? []).find((a) => a.type === 'OPT') as unknown as OptRecord | undefined;
}

export function makeOpt(
  o: { udpPayloadSize?: number; rcode?: number; do?: boolean; options?: OptRecord['options'] } = {},
): Answer {
  const rec: OptRecord = {
    type: 'OPT',
    name: '.',
    udpPayloadSize: o.udpPayloadSize ?? EDNS_UDP_SIZE,
    extendedRcode: (o.rcode ?? 0) >> 4,
    ednsVersion: 0,
    flags: o.do ? 0x8000 : 0,
    options: o.options ?? [],
  };
  return rec as unknown as Answer;
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

/** A one-line text of a record, like dig prints it. */
export function recordText(a: Answer): string {
  const d = (a as { data?: unknown }).data;
  let rdata: string;
  switch (a.type) {
    case 'SOA': {
      const s = d as {
        mname: string;
        rname: string;
        serial: number;
        refresh: number;
        retry: number;
        expire: number;
        minimum: number;
      };
      rdata = `${s.mname}. ${s.rname}. ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
      break;
    }
    case 'MX': {
      const m = d as { preference: number; exchange: string };
      rdata = `${m.preference} ${m.exchange}.`;
      break;
    }
    case 'SRV': {
      const s = d as { priority: number; weight: number; port: number; target: string };
      rdata = `${s.priority} ${s.weight} ${s.port} ${s.target}.`;
      break;
    }
    case 'TXT': {
      const parts = (Array.isArray(d) ? d : [d]) as (Buffer | string)[];
      rdata = parts.map((p) => JSON.stringify(p.toString())).join(' ');
      break;
    }
    case 'CAA': {
      const c = d as { flags: number; tag: string; value: string };
      rdata = `${c.flags ?? 0} ${c.tag} ${JSON.stringify(c.value)}`;
      break;
    }
    case 'NS':
    case 'CNAME':
    case 'PTR':
      rdata = `${d}.`;
      break;
    default:
      rdata = Buffer.isBuffer(d) ? d.toString('hex') : typeof d === 'object' ? JSON.stringify(d) : String(d);
  }
  return `${a.name}. ${(a as { ttl?: number }).ttl ?? 0} IN ${a.type} ${rdata}`;
}
