// Name compression (RFC 1035 §4.1.4) for the messages dns-packet encodes with every name in full:
// the codec's encodeMessage runs every message through it. Bytes in, bytes out.

/**
 * Where names sit in the RDATA of the types whose names may be compressed: the RFC 1035 types only
 * (RFC 3597 §4); a number is that many bytes copied as they are. Never SRV's target (RFC 2782).
 */
const RDATA_NAMES: Record<number, ('name' | number)[]> = {
  2: ['name'], // NS
  5: ['name'], // CNAME
  6: ['name', 'name', 20], // SOA: MNAME, RNAME, then five 32-bit numbers
  12: ['name'], // PTR
  15: [2, 'name'], // MX: PREFERENCE, EXCHANGE
};

/** Copies a message into `out`, replacing the repeated tail of each name by a pointer to its first copy. */
class NameCompressor {
  /** each name suffix written so far (its exact bytes) → its offset in `out` */
  private readonly written = new Map<string, number>();
  readonly out: Buffer;
  pos = 0;

  constructor(private readonly src: Buffer) {
    // compressing never makes a message longer; every byte up to `pos` is written before it is read
    this.out = Buffer.allocUnsafe(src.length);
  }

  copy(off: number, n: number): number {
    // byte by byte: most copies are a few bytes, where Buffer#copy costs more than the loop
    for (let i = 0; i < n; i++) this.out[this.pos + i] = this.src[off + i];
    this.pos += n;
    return off + n;
  }

  /** Writes the uncompressed name at src[off]; returns the offset after it in src. */
  name(off: number): number {
    const src = this.src;
    const labels: number[] = [];
    let end = off;
    while (src[end] !== 0) {
      if (src[end] & 0xc0) throw new Error('already compressed');
      labels.push(end);
      end += src[end] + 1;
    }
    end++;
    for (const label of labels) {
      const suffix = src.toString('latin1', label, end);
      const earlier = this.written.get(suffix);
      if (earlier !== undefined) {
        this.out.writeUInt16BE(0xc000 | earlier, this.pos); // RFC 1035 §4.1.4: a pointer
        this.pos += 2;
        return end;
      }
      if (this.pos < 0x4000) this.written.set(suffix, this.pos); // a pointer holds 14 bits
      this.copy(label, src[label] + 1);
    }
    this.out[this.pos++] = 0;
    return end;
  }
}

/**
 * Name compression (RFC 1035 §4.1.4) on an encoded message whose names are all written in full.
 * Names match byte for byte (letter case included), so every name reads back exactly as written.
 */
export function compressNames(msg: Buffer): Buffer {
  if (msg.length < 12) return msg;
  const questions = msg.readUInt16BE(4);
  const records = msg.readUInt16BE(6) + msg.readUInt16BE(8) + msg.readUInt16BE(10); // AN + NS + AR
  const c = new NameCompressor(msg);
  try {
    let off = c.copy(0, 12);
    for (let i = 0; i < questions; i++) off = c.copy(c.name(off), 4);
    for (let i = 0; i < records; i++) {
      off = c.name(off);
      const type = msg.readUInt16BE(off);
      off = c.copy(off, 8); // TYPE, CLASS, TTL
      const rdlength = msg.readUInt16BE(off);
      const rdataEnd = off + 2 + rdlength;
      const lengthAt = c.pos;
      off = c.copy(off, 2);
      for (const part of RDATA_NAMES[type] ?? []) off = part === 'name' ? c.name(off) : c.copy(off, part);
      if (off > rdataEnd) throw new Error('RDATA shorter than its type');
      off = c.copy(off, rdataEnd - off); // the rest of the RDATA as it is
      c.out.writeUInt16BE(c.pos - lengthAt - 2, lengthAt);
    }
  } catch {
    return msg; // not a message in dns-packet's own form: sent as it is
  }
  return c.out.subarray(0, c.pos);
}
