// What a request sees of a connection, whichever protocol ALPN chose: HTTP/1.1 (http1.ts, a pool of
// up to six connections) and HTTP/2 (http2.ts, one session) both are an `HttpConnection`; pools.ts
// picks one by ALPN, as undici's connectH1 / connectH2, and decodes the body they carried (`decode`).
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { NetError } from './connect.js';
import type { ConnInfo } from './connect-job.js';

/** silence while waiting for response headers or the next bytes of a body: then ERR_TIMED_OUT */
export const RESPONSE_IDLE_TIMEOUT_MS = 30_000;

export interface Response {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  rawHeaders: [string, string][];
  /** as it came (Content-Encoding still on) from a connection; decoded once out of the pools */
  body: Buffer;
  httpVersion: string;
  /** the connection it came on; its dns/connect/ssl are -1 when an earlier request opened it */
  conn: ConnInfo;
  send: number;
  wait: number;
  receive: number;
}

export interface HttpConnection {
  /** One request; `onSend` is called when it goes out (its connection is up). */
  request(u: URL, method: string, headers: Record<string, string>, onSend: () => void): Promise<Response>;
  /** TLS close_notify and FIN on every socket, or GOAWAY for h2 (pools.ts closes them all). */
  close(): Promise<void>;
}

/** No bytes for `idleMs`, waiting for the headers or inside the body: Chrome gives up. */
export function idleTimeout(host: string, gotHeaders: boolean, idleMs: number): NetError {
  return new NetError(
    'ERR_TIMED_OUT',
    `no ${gotHeaders ? 'more of the body' : 'response'} from ${host} in ${idleMs} ms`,
    'http.response',
  );
}

/** The first request on a connection carries its setup times; later ones did not wait for them. */
export function connOfRequest(conn: ConnInfo): ConnInfo {
  const fresh = !conn.used;
  conn.used = true;
  return fresh ? conn : { ...conn, dns: -1, connect: -1, ssl: -1 };
}

/** Header values as one string each (Set-Cookie lines kept apart by newlines). */
export function flatten(h: Record<string, string | string[] | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h))
    if (v !== undefined)
      out[k] = Array.isArray(v) ? (k === 'set-cookie' ? v.join('\n') : v.join(', ')) : String(v);
  return out;
}

/** Content-Encoding undone (RFC 9110 §8.4): gzip, br, deflate; a body that does not decode fails. */
export function decode(body: Buffer, encoding: string | string[] | undefined): Buffer {
  try {
    if (encoding === 'gzip') return gunzipSync(body);
    if (encoding === 'br') return brotliDecompressSync(body);
    if (encoding === 'deflate') return inflateSync(body);
  } catch {
    throw new NetError(
      'ERR_CONTENT_DECODING_FAILED',
      `the ${encoding} body does not decode`,
      'http.response',
    );
  }
  return body;
}

/** Closes a socket with a FIN, destroying it if it is not closed in 2 s. */
export function endSocket(s: {
  destroyed: boolean;
  once(e: 'close', l: () => void): unknown;
  end(): unknown;
  destroy(): unknown;
}): Promise<void> {
  if (s.destroyed) return Promise.resolve();
  return new Promise((r) => {
    s.once('close', () => r());
    s.end();
    setTimeout(() => {
      s.destroy();
      r();
    }, 2000).unref();
  });
}
