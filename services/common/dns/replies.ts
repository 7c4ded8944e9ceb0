// The two replies every DNS server of the lab builds without its handler: FORMERR for a query that
// cannot be read, and the truncated answer (TC=1) that sends a client to TCP. The nameserver and the
// resolver both answer with them.
import { type Packet, RCODE, readHeader } from './codec.js';

/** FORMERR for a query whose header could be read but whose body could not (RFC 1035 §4.1.1). */
export function formErrFor(raw: Uint8Array): Buffer | undefined {
  const h = readHeader(raw);
  if (!h || h.qr) return undefined; // never answer a response: no loops
  const out = Buffer.alloc(12);
  out.writeUInt16BE(h.id, 0);
  out.writeUInt16BE(0x8000 | (h.opcode << 11) | (h.rd ? 0x100 : 0) | RCODE.FORMERR, 2);
  return out;
}

/** TC=1 with the question (and OPT) only, when the answer is larger than the client can take. */
export function truncated(response: Packet): Packet {
  return {
    ...response,
    flags: (response.flags ?? 0) | 0x200,
    answers: [],
    authorities: [],
    additionals: (response.additionals ?? []).filter((a) => a.type === 'OPT'),
  };
}
