// The CA's HTTP answer to a body over its limit (RFC 9110 §15.5.14): a TooLarge refusal, then a
// lingering close, so that the client reads the 413 instead of a reset (issue 23, item 5).
import type { Socket } from 'node:net';

const LINGER_MS = 2_000;

export class TooLarge extends Error {
  constructor(limit: number) {
    super(`the body is larger than ${limit} bytes`);
  }
}

/** After the answer: FIN, keep reading (and dropping) until the client closes or LINGER_MS, then close. */
export function lingeringClose(sock: Socket): void {
  sock.destroySoon = () => {
    sock.end();
    sock.resume();
    const timer = setTimeout(() => sock.destroy(), LINGER_MS);
    sock.once('end', () => {
      clearTimeout(timer);
      sock.destroy();
    });
  };
}
