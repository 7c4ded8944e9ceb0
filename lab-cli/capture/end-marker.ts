// The end of a capture, proven rather than waited for. The kernel hands dumpcap packets in blocks
// that retire on dumpcap's 250 ms read timeout, and SIGINT loses whatever dumpcap has not read yet.
// So once the run is over the lab sends itself one UDP datagram with a fresh nonce, from an address of
// its block that no host has (the local runtime only: on docker the bridges are not ours to send on);
// dumpcap writes to a pipe, flushing every packet, so when the nonce comes out of that pipe every
// earlier packet has too, and dumpcap may stop. It typically takes ~125 ms, never more than ~250 ms.
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

/** Sends the marker datagram from the address to itself (no ICMP answer, one packet). */
export async function sendEndMarker(address: string, payload: Buffer): Promise<void> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    await new Promise<void>((resolve, reject) =>
      socket.send(payload, socket.address().port, address, (err) => (err ? reject(err) : resolve())),
    );
  } finally {
    socket.close();
  }
}

/** Watches a byte stream for a needle that may be split across chunks. */
export function needleWatcher(): { feed(chunk: Buffer): void; until(needle: Buffer): Promise<void> } {
  let tail = Buffer.alloc(0);
  let wanted: { needle: Buffer; found(): void } | undefined;
  return {
    feed(chunk) {
      if (!wanted) return;
      const window = Buffer.concat([tail, chunk]);
      if (window.includes(wanted.needle)) {
        wanted.found();
        wanted = undefined;
        return;
      }
      tail = window.subarray(Math.max(0, window.length - wanted.needle.length + 1));
    },
    until(needle) {
      tail = Buffer.alloc(0);
      return new Promise<void>((found) => {
        wanted = { needle, found };
      });
    },
  };
}
