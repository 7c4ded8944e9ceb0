// DNS cookies (RFC 7873) with server cookies in RFC 9018's interoperable layout: version 1, three
// reserved bytes, a timestamp, and an 8-byte hash of the client cookie, those fields and the client's
// address under a secret. RFC 9018 §4.4 hashes with SipHash-2-4, which node:crypto lacks; the lab
// uses HMAC-SHA-256 cut to 8 bytes (same layout and checks; only servers sharing a secret, as an
// anycast set, need the same hash).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** RFC 7873 §6: the COOKIE option's code */
export const EDNS_OPTION_COOKIE = 10;

const CLIENT_COOKIE = 8;
const SERVER_COOKIE_MIN = 8;
const SERVER_COOKIE_MAX = 32;
/** RFC 9018 §4.3: a server cookie is good for an hour, and up to 5 minutes from the future */
const VALID_PAST_S = 3600;
const VALID_FUTURE_S = 300;

export type CookieCheck =
  /** no COOKIE option: answered as ever (RFC 7873 §5.2.1) */
  | { kind: 'none' }
  /** RFC 7873 §5.2.2: a length no cookie has → FORMERR */
  | { kind: 'malformed' }
  /** a client cookie, with a server cookie we made (valid) or without one / with a stale or forged one */
  | { kind: 'valid' | 'client-only' | 'invalid'; client: Buffer };

export class CookieJar {
  constructor(private readonly secret: Buffer = randomBytes(16)) {}

  /** Reads a COOKIE option's data (RFC 7873 §4): 8 bytes of client cookie, then 8 to 32 of server cookie. */
  check(data: Buffer | undefined, clientAddress: string, nowS = Math.floor(Date.now() / 1000)): CookieCheck {
    if (data === undefined) return { kind: 'none' };
    const serverLength = data.length - CLIENT_COOKIE;
    if (serverLength !== 0 && (serverLength < SERVER_COOKIE_MIN || serverLength > SERVER_COOKIE_MAX))
      return { kind: 'malformed' };
    const client = data.subarray(0, CLIENT_COOKIE);
    if (serverLength === 0) return { kind: 'client-only', client };
    const server = data.subarray(CLIENT_COOKIE);
    return { kind: this.isOurs(client, server, clientAddress, nowS) ? 'valid' : 'invalid', client };
  }

  /** The COOKIE option of an answer: the client's cookie and a fresh server cookie (RFC 7873 §5.2.3). */
  option(client: Buffer, clientAddress: string, nowS = Math.floor(Date.now() / 1000)): Buffer {
    return Buffer.concat([client, this.serverCookie(client, clientAddress, nowS)]);
  }

  /** RFC 9018 §4.2: Version (1) | Reserved (3) | Timestamp (4) | Hash (8) */
  private serverCookie(client: Buffer, clientAddress: string, timestamp: number): Buffer {
    const head = Buffer.alloc(8);
    head[0] = 1; // version
    head.writeUInt32BE(timestamp >>> 0, 4);
    const hash = createHmac('sha256', this.secret)
      .update(client)
      .update(head)
      .update(clientAddress) // RFC 9018 §4.4: the client's address is part of what is hashed
      .digest()
      .subarray(0, 8);
    return Buffer.concat([head, hash]);
  }

  private isOurs(client: Buffer, server: Buffer, clientAddress: string, nowS: number): boolean {
    if (server.length !== 16 || server[0] !== 1) return false;
    const timestamp = server.readUInt32BE(4);
    if (timestamp < nowS - VALID_PAST_S || timestamp > nowS + VALID_FUTURE_S) return false;
    return timingSafeEqual(this.serverCookie(client, clientAddress, timestamp), server);
  }
}
