// The end of a capture, proven rather than waited for. The kernel hands dumpcap packets in blocks
// that retire when full or on dumpcap's 250 ms read timeout, and SIGINT loses whatever dumpcap has not
// read yet. So once the run is over the lab sends itself one UDP datagram with a fresh nonce, from an
// address of its block that no host has (the local runtime only: on docker the bridges are not ours
// to send on), then filler that overflows the block. dumpcap writes to a pipe, flushing every packet:
// when the nonce comes out of it, every earlier packet has too. The file ends with the marker's block
// (the filler, and anything later, is not part of the run), and dumpcap may stop: a few ms, not 250.
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { LabSettings } from '../../services/common/settings.js';

/** The lab's own address on the local runtime (127.B.0.1: on no lab network), or undefined on docker. */
export function endMarkerAddress(s: LabSettings): string | undefined {
  return s.runtime === 'local' ? `${s.block}.0.1` : undefined;
}

/** A fresh marker payload: the nonce makes it unique in any capture. */
export function endMarkerPayload(): Buffer {
  return Buffer.from(`enterlab: end of the run ${randomBytes(8).toString('hex')}`);
}

// the kernel retires a block (256 KiB with libpcap 1.10) as soon as a packet does not fit: five
// datagrams of this size after the marker overflow any block, so it is handed over at once
const FILL_BYTES = 65_000;
const FILL_DATAGRAMS = 5;

/**
 * Sends the marker datagram from the address to itself, then enough filler to overflow the kernel's
 * current block, whose timer would otherwise hold the marker for up to 250 ms. The filler comes after
 * the marker, so the capture is cut before it (pcapngCutter).
 */
export async function sendEndMarker(address: string, payload: Buffer): Promise<void> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    const send = (b: Buffer) =>
      new Promise<void>((resolve, reject) =>
        socket.send(b, socket.address().port, address, (err) => (err ? reject(err) : resolve())),
      );
    await send(payload);
    const fill = Buffer.alloc(FILL_BYTES);
    for (let i = 0; i < FILL_DATAGRAMS; i++) await send(fill);
  } finally {
    socket.close();
  }
}

/**
 * Follows dumpcap's pcapng stream block by block, and cuts it after the block holding a needle:
 * feed() returns the part of each chunk that belongs in the file; until() resolves with the file's
 * length and its packet count once the needle's block is complete.
 */
export function pcapngCutter(): {
  feed(chunk: Buffer): Buffer;
  until(needle: Buffer): Promise<{ bytes: number; packets: number }>;
} {
  let pending: Buffer = Buffer.alloc(0); // the stream from the start of the block not yet complete
  let start = 0; // offset of pending in the stream
  let seen = 0; // bytes fed so far
  let packets = 0;
  let le = true;
  let broken = false;
  let cut: number | undefined;
  let wanted: { needle: Buffer; found(at: { bytes: number; packets: number }): void } | undefined;
  return {
    feed(chunk) {
      const from = seen;
      seen += chunk.length;
      if (cut !== undefined) return chunk.subarray(0, Math.max(0, cut - from));
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (!broken && pending.length >= 12) {
        if (start === 0) le = pending.readUInt32LE(8) === 0x1a2b3c4d; // the SHB's byte-order magic
        const length = le ? pending.readUInt32LE(4) : pending.readUInt32BE(4);
        if (length < 12 || length % 4 !== 0) broken = true; // not pcapng as we know it: no cut
        if (broken || pending.length < length) break;
        const block = pending.subarray(0, length);
        const type = le ? block.readUInt32LE(0) : block.readUInt32BE(0);
        if (type === 6 || type === 3) packets++; // Enhanced / Simple Packet Block
        start += length;
        pending = pending.subarray(length);
        if (wanted && block.includes(wanted.needle)) {
          cut = start;
          wanted.found({ bytes: cut, packets });
          wanted = undefined;
          return chunk.subarray(0, Math.max(0, cut - from));
        }
      }
      return chunk;
    },
    until(needle) {
      return new Promise((found) => {
        wanted = { needle, found };
      });
    },
  };
}
