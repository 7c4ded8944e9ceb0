// Encoded answers kept by the exact bytes of the question that produced them. Two queries that differ
// only in their ID get the same answer but for the ID, so the hot path neither decodes nor encodes.
// The key is every byte after the ID (flags, question with its letter case, OPT), plus the transport
// (UDP answers may be truncated). Any zone change clears it.

export interface CachedAnswer<T> {
  bytes: Buffer;
  /** what the events of this answer say (replayed on a hit) */
  meta: T;
}

const MAX_KEY_BYTES = 300; // a query with a long name and an OPT fits; anything larger is not cached

export class AnswerCache<T> {
  private readonly map = new Map<string, CachedAnswer<T>>();

  constructor(private readonly maxEntries = 4096) {}

  static key(msg: Buffer, transport: 'udp' | 'tcp'): string | undefined {
    if (msg.length < 17 || msg.length > MAX_KEY_BYTES) return undefined;
    return `${transport}${msg.toString('latin1', 2)}`;
  }

  /** The cached answer with the asker's ID written in; a fresh buffer each time (sends are async). */
  get(key: string, id: number): { bytes: Buffer; meta: T } | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    const bytes = Buffer.from(hit.bytes);
    bytes.writeUInt16BE(id, 0);
    return { bytes, meta: hit.meta };
  }

  set(key: string, bytes: Buffer, meta: T): void {
    if (this.map.size >= this.maxEntries) this.map.clear(); // bounded: random names cannot grow it
    this.map.set(key, { bytes: Buffer.from(bytes), meta });
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
