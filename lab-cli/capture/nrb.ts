// The pcapng blocks the lab writes by hand (draft-ietf-opsawg-pcapng): the Name Resolution Block
// (§4.5; tshark 4.0's `-H hosts -W n -w` writes none, while an NRB near the start of the section makes
// `tshark -N n` and Wireshark show lab host names instead of 127.60.2.11), and the Decryption Secrets
// Block (§4.7, what `editcap --inject-secrets` writes), so the run's TLS key log is in the file before
// sharkd first reads it, with no editcap pass in between.
// Written by hand because no npm package writes pcapng blocks, and each block is a few 32-bit fields (§3.1).
import { isIPv4, isIPv6 } from 'node:net';
import { CaptureError } from './dumpcap.js';

const SHB_TYPE = 0x0a0d0d0a;
const NRB_TYPE = 0x00000004;
const IDB_TYPE = 0x00000001;
const DSB_TYPE = 0x0000000a;
// what dumpcap and editcap write before the first packet
const HEADER_BLOCKS = new Set([IDB_TYPE, DSB_TYPE]);
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const NRB_RECORD_END = 0;
const NRB_RECORD_IPV4 = 1;
const NRB_RECORD_IPV6 = 2;
const SECRETS_TLS_KEY_LOG = 0x544c534b; // "TLSK": an NSS key log (§4.7)

export interface NameRecord {
  address: string;
  /** the first name is the one Wireshark shows */
  names: string[];
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

/** 16 bytes of an IPv6 address, "::" expanded. */
export function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return out;
}

/** One NRB with a record per address, in the section's byte order ('LE' or 'BE'). */
export function encodeNameResolutionBlock(records: NameRecord[], order: 'LE' | 'BE' = 'LE'): Buffer {
  const u16 = (n: number) => {
    const b = Buffer.alloc(2);
    order === 'LE' ? b.writeUInt16LE(n) : b.writeUInt16BE(n);
    return b;
  };
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    order === 'LE' ? b.writeUInt32LE(n) : b.writeUInt32BE(n);
    return b;
  };
  const parts: Buffer[] = [];
  for (const r of records) {
    if (!r.names.length) continue;
    const ip = isIPv4(r.address)
      ? Buffer.from(r.address.split('.').map(Number))
      : isIPv6(r.address)
        ? ipv6Bytes(r.address)
        : undefined;
    if (!ip) throw new Error(`not an IP address: ${r.address}`);
    // the value is the address, then each name NUL-terminated; padding is not counted in its length
    const value = Buffer.concat([ip, ...r.names.map((n) => Buffer.from(`${n}\0`, 'utf8'))]);
    parts.push(u16(ip.length === 4 ? NRB_RECORD_IPV4 : NRB_RECORD_IPV6), u16(value.length), value);
    parts.push(Buffer.alloc(pad4(value.length)));
  }
  parts.push(u16(NRB_RECORD_END), u16(0));
  const body = Buffer.concat(parts);
  const total = 12 + body.length;
  return Buffer.concat([u32(NRB_TYPE), u32(total), body, u32(total)]);
}

/** One DSB holding an NSS key log (SSLKEYLOGFILE format), in the section's byte order. */
export function encodeDecryptionSecretsBlock(keylog: Buffer, order: 'LE' | 'BE' = 'LE'): Buffer {
  const total = 20 + keylog.length + pad4(keylog.length);
  const head = Buffer.alloc(16);
  const tail = Buffer.alloc(4 + pad4(keylog.length));
  const w = (b: Buffer, at: number, n: number) =>
    order === 'LE' ? b.writeUInt32LE(n, at) : b.writeUInt32BE(n, at);
  w(head, 0, DSB_TYPE);
  w(head, 4, total);
  w(head, 8, SECRETS_TLS_KEY_LOG);
  w(head, 12, keylog.length);
  w(tail, tail.length - 4, total);
  return Buffer.concat([head, keylog, tail]);
}

/** The byte order and length of the Section Header Block at the start of a pcapng file. */
export function readSectionHeader(file: Buffer): { order: 'LE' | 'BE'; length: number } {
  if (file.length < 28 || file.readUInt32LE(0) !== SHB_TYPE)
    throw new CaptureError(
      'ERR_CAPTURE_BROKEN',
      'the file is not pcapng (no Section Header Block at its start)',
      'take a new capture: lab run <scenario> --capture',
    );
  const order =
    file.readUInt32LE(8) === BYTE_ORDER_MAGIC
      ? 'LE'
      : file.readUInt32BE(8) === BYTE_ORDER_MAGIC
        ? 'BE'
        : undefined;
  if (!order)
    throw new CaptureError(
      'ERR_CAPTURE_BROKEN',
      'the Section Header Block has no byte-order magic',
      'take a new capture',
    );
  const length = order === 'LE' ? file.readUInt32LE(4) : file.readUInt32BE(4);
  const trailer =
    length <= file.length
      ? order === 'LE'
        ? file.readUInt32LE(length - 4)
        : file.readUInt32BE(length - 4)
      : -1;
  if (length < 28 || length % 4 !== 0 || trailer !== length)
    throw new CaptureError(
      'ERR_CAPTURE_BROKEN',
      `the Section Header Block's length (${length}) is wrong`,
      'take a new capture',
    );
  return { order, length };
}

/**
 * The file with an NRB just before its first packet, and the Interface Description Blocks first:
 * Wireshark 4.0 learns the link type from the IDBs that come before any other block, so editcap and
 * mergecap refuse a file with an NRB, or a Decryption Secrets Block (as editcap itself writes it),
 * ahead of them ("can't be written as a pcapng file"). tshark -N n shows the names either way.
 */
export function withNameResolution(file: Buffer, records: NameRecord[]): Buffer {
  return withBlocksBeforePackets(file, (order) => [encodeNameResolutionBlock(records, order)]);
}

/** The file with the run's TLS key log as a DSB before its first packet (where editcap puts it). */
export function withDecryptionSecrets(file: Buffer, keylog: Buffer): Buffer {
  return withBlocksBeforePackets(file, (order) => [encodeDecryptionSecretsBlock(keylog, order)]);
}

/** Inserts blocks after the SHB, the IDBs and any DSB, just before the first packet (see above). */
function withBlocksBeforePackets(file: Buffer, make: (order: 'LE' | 'BE') => Buffer[]): Buffer {
  const shb = readSectionHeader(file);
  const u32 = (at: number) => (shb.order === 'LE' ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const idbs: Buffer[] = [];
  const others: Buffer[] = [];
  let at = shb.length;
  while (at + 8 <= file.length && HEADER_BLOCKS.has(u32(at))) {
    const block = file.subarray(at, at + u32(at + 4));
    (u32(at) === IDB_TYPE ? idbs : others).push(block);
    at += block.length;
  }
  return Buffer.concat([
    file.subarray(0, shb.length),
    ...idbs,
    ...others,
    ...make(shb.order),
    file.subarray(at),
  ]);
}

/**
 * Walks every block of a pcapng file and checks each length against its trailing copy, so a file cut
 * short or overwritten is reported as broken before any tool counts packets in it.
 */
export function checkPcapngBlocks(file: Buffer): { blocks: number; packets: number } {
  const { order } = readSectionHeader(file);
  const u32 = (at: number) => (order === 'LE' ? file.readUInt32LE(at) : file.readUInt32BE(at));
  let at = 0;
  let blocks = 0;
  let packets = 0;
  while (at < file.length) {
    if (file.length - at < 12)
      throw new CaptureError(
        'ERR_CAPTURE_BROKEN',
        `the file is cut short at byte ${at}`,
        'take a new capture',
      );
    const type = file.readUInt32LE(at) === SHB_TYPE ? SHB_TYPE : u32(at);
    const length = u32(at + 4);
    if (length < 12 || length % 4 !== 0 || at + length > file.length || u32(at + length - 4) !== length)
      throw new CaptureError(
        'ERR_CAPTURE_BROKEN',
        `block ${blocks + 1} at byte ${at} is ${at + length > file.length ? 'cut short' : 'damaged'}`,
        'take a new capture',
      );
    if (type === 6 || type === 3) packets++; // Enhanced / Simple Packet Block
    blocks++;
    at += length;
  }
  return { blocks, packets };
}
