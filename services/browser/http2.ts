// HTTP/2 to one origin (RFC 9113): one session over the connection whose ALPN chose h2, every
// request a stream on it (JOURNEY 16: one connection for h2). A reset of the connection (a censor's forged RST) after the
// handshake is remembered, so the requests on it fail with ERR_CONNECTION_RESET, as Chrome says.
import { type ClientHttp2Session, connect as h2Connect, constants as h2constants } from 'node:http2';
import type { Socket } from 'node:net';
import { NetError } from './connect.js';
import type { Connected, ConnInfo, Origin } from './connect-job.js';
import {
  connOfRequest,
  endSocket,
  flatten,
  type HttpConnection,
  idleTimeout,
  RESPONSE_IDLE_TIMEOUT_MS,
  type Response,
} from './http-stream.js';
import { closedByReset } from './peer-reset.js';

/** One h2 session and what ended it, if something did. */
interface Session {
  session: ClientHttp2Session;
  socket: Socket;
  conn: ConnInfo;
  failure?: NodeJS.ErrnoException;
}

/** The h2 side of the ALPN switch (pools.ts). */
export function connectH2(
  o: Origin,
  first: Connected<Socket>,
  responseIdleMs = RESPONSE_IDLE_TIMEOUT_MS,
): HttpConnection {
  const s: Session = {
    session: h2Connect(`${o.scheme}//${o.host}:${o.port}`, { createConnection: () => first.socket }),
    socket: first.socket,
    conn: first.conn,
  };
  // a reset (e.g. a censor's forged RST) after the handshake: remembered, so requests fail with it
  s.session.on('error', (err: NodeJS.ErrnoException) => {
    s.failure = err;
  });
  first.socket.on('error', (err: NodeJS.ErrnoException) => {
    s.failure = err;
  });
  return {
    request: (u, method, headers, onSend) => stream(s, u, method, headers, onSend, responseIdleMs),
    close: () => Promise.all([goaway(s.session), endSocket(s.socket)]).then(() => undefined),
  };
}

/** GOAWAY, then the end of the session; a stream still open (a stalled response) is cut after 2 s. */
function goaway(session: ClientHttp2Session): Promise<void> {
  if (session.closed) return Promise.resolve();
  return new Promise((r) => {
    session.close(() => r());
    setTimeout(() => {
      session.destroy();
      r();
    }, 2000).unref();
  });
}

/** Why the session can carry no more: reset by the peer (the kernel says so), or closed. */
function gone(s: Session): NetError {
  const err = s.failure ?? (s.socket.errored as NodeJS.ErrnoException | null) ?? undefined;
  const reset = closedByReset(s.conn.ports.local, s.conn.ports.remote);
  return new NetError(
    err?.code === 'ECONNRESET' || reset ? 'ERR_CONNECTION_RESET' : 'ERR_CONNECTION_CLOSED',
    `the HTTP/2 connection ended before the response${err ? ` (${err.code ?? err.message})` : reset ? ' (reset by the peer)' : ''}`,
    'http.response',
  );
}

/** One request as one stream, and its whole response. */
function stream(
  s: Session,
  u: URL,
  method: string,
  headers: Record<string, string>,
  onSend: () => void,
  idleMs: number,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    if (s.session.destroyed || s.session.closed || s.socket.destroyed) return reject(gone(s));
    onSend();
    const t0 = performance.now();
    const conn = connOfRequest(s.conn);
    const req = s.session.request({
      ':method': method,
      ':path': `${u.pathname}${u.search}`,
      ':authority': u.host,
      ':scheme': u.protocol.replace(':', ''),
      ...headers,
    });
    let tFirst = 0;
    const chunks: Buffer[] = [];
    let head: Record<string, string | string[] | number | undefined> = {};
    // no frame on this stream for this long: cancel it (RST_STREAM, RFC 9113 §8.4) and give up
    req.setTimeout(idleMs, () => {
      reject(idleTimeout(u.host, tFirst > 0, idleMs));
      req.close(h2constants.NGHTTP2_CANCEL);
    });
    req.on('response', (h) => {
      tFirst = performance.now();
      head = h;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', (err) =>
      reject(s.failure ? gone(s) : new NetError('ERR_HTTP2_PROTOCOL_ERROR', err.message, 'http.response')),
    );
    req.on('close', () => {
      if (!tFirst) reject(gone(s)); // closed with no response: the session died under it
    });
    req.on('end', () => {
      const fields = Object.entries(head).filter(([k, v]) => !k.startsWith(':') && v !== undefined);
      const raw: [string, string][] = [];
      for (const [k, v] of fields) for (const one of Array.isArray(v) ? v : [String(v)]) raw.push([k, one]);
      resolve({
        status: Number(head[':status'] ?? 0),
        statusText: '',
        headers: flatten(Object.fromEntries(fields)),
        rawHeaders: raw,
        body: Buffer.concat(chunks),
        httpVersion: 'HTTP/2',
        conn,
        send: 0,
        wait: tFirst - t0,
        receive: performance.now() - tFirst,
      });
    });
    req.end();
  });
}
