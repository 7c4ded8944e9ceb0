// Capture files for the dry-run and the tests: read classic pcap and pcapng (what dumpcap writes),
// write classic pcap. Only Ethernet (LINKTYPE_ETHERNET = 1) frames are returned; others are counted.
// Written by hand: npm's pcap-parser reads classic pcap only, and dumpcap writes pcapng.
export interface CapturedFrame {
  /** microseconds since the epoch */
  ts: number;
  data: Buffer;
}

export interface CaptureFile {
  frames: CapturedFrame[];
  /** frames of another link type (e.g. Linux cooked capture from `-i any`) */
  otherLinkTypes: number;
}

export class CaptureFileError extends Error {
  readonly code = 'ERR_BAD_CAPTURE';
}

const LINKTYPE_ETHERNET = 1;

export function readCaptureFile(buf: Buffer): CaptureFile {
  if (buf.length < 24) throw new CaptureFileError('not a capture file: shorter than a pcap header');
  const magic = buf.readUInt32LE(0);
  if (magic === 0x0a0d0d0a) return readPcapng(buf);
  return readPcap(buf);
}

function readPcap(buf: Buffer): CaptureFile {
  const m = buf.readUInt32LE(0);
  const le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
  const be = buf.readUInt32BE(0) === 0xa1b2c3d4 || buf.readUInt32BE(0) === 0xa1b23c4d;
  if (!le && !be) throw new CaptureFileError('not a pcap or pcapng file (unknown magic number)');
  const nanos = (le ? buf.readUInt32LE(0) : buf.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (at: number) => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const linkType = u32(20) & 0xffff;
  const out: CaptureFile = { frames: [], otherLinkTypes: 0 };
  for (let at = 24; at + 16 <= buf.length; ) {
    const sec = u32(at);
    const frac = u32(at + 4);
    const incl = u32(at + 8);
    if (at + 16 + incl > buf.length) break; // a truncated last record
    const data = buf.subarray(at + 16, at + 16 + incl);
    if (linkType === LINKTYPE_ETHERNET)
      out.frames.push({ ts: sec * 1e6 + (nanos ? Math.floor(frac / 1000) : frac), data });
    else out.otherLinkTypes++;
    at += 16 + incl;
  }
  return out;
}

function readPcapng(buf: Buffer): CaptureFile {
  const out: CaptureFile = { frames: [], otherLinkTypes: 0 };
  let le = true;
  let interfaces: { linkType: number; unitsPerSec: number }[] = [];
  for (let at = 0; at + 12 <= buf.length; ) {
    if (buf.readUInt32LE(at) === 0x0a0d0d0a) {
      le = buf.readUInt32LE(at + 8) === 0x1a2b3c4d;
      interfaces = [];
    }
    const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
    const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
    const type = u32(at);
    const len = u32(at + 4);
    if (len < 12 || at + len > buf.length) break;
    if (type === 1) {
      // Interface Description Block: link type, then options (if_tsresol = 9)
      let unitsPerSec = 1e6;
      for (let o = at + 16; o + 4 <= at + len - 4; ) {
        const code = u16(o);
        const olen = u16(o + 2);
        if (code === 0) break;
        if (code === 9 && olen >= 1) {
          const r = buf[o + 4];
          unitsPerSec = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
        }
        o += 4 + Math.ceil(olen / 4) * 4;
      }
      interfaces.push({ linkType: u16(at + 8), unitsPerSec });
    } else if (type === 6) {
      // Enhanced Packet Block
      const iface = interfaces[u32(at + 8)];
      const units = u32(at + 12) * 2 ** 32 + u32(at + 16);
      const caplen = u32(at + 20);
      const data = buf.subarray(at + 28, at + 28 + caplen);
      if (iface?.linkType === LINKTYPE_ETHERNET)
        out.frames.push({ ts: Math.floor((units / iface.unitsPerSec) * 1e6), data });
      else out.otherLinkTypes++;
    }
    at += len;
  }
  return out;
}

/** A classic little-endian pcap with microsecond timestamps and Ethernet frames. */
export function writePcap(frames: CapturedFrame[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65_535, 16);
  head.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  const parts: Buffer[] = [head];
  for (const f of frames) {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(f.ts / 1e6), 0);
    rec.writeUInt32LE(Math.floor(f.ts % 1e6), 4);
    rec.writeUInt32LE(f.data.length, 8);
    rec.writeUInt32LE(f.data.length, 12);
    parts.push(rec, f.data);
  }
  return Buffer.concat(parts);
}
