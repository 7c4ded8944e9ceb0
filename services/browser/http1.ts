// HTTP/1.1 to one origin (RFC 9112): a pool of at most six keep-alive connections, as Chrome keeps
// per origin; a seventh request waits for a free one (JOURNEY 16). Node's http.Agent does the keeping
// alive and the queueing; its connections come from the connect job (DNS, happy eyeballs, TLS,
// revocation), the first one being the connection whose ALPN chose HTTP/1.1.
import { Agent, type ClientRequestArgs, request as h1Request } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
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

export const MAX_H1_CONNECTIONS = 6; // per origin, as Chrome

type OnCreate = (err: Error | null, stream?: Duplex) => void;

/** An http.Agent whose sockets are the connect job's: the first one given, the next ones opened. */
class PoolAgent extends Agent {
  /** which connection each socket is, for the timings of the requests on it */
  readonly conns = new WeakMap<Duplex, ConnInfo>();
  /** every socket it was given, to close them at the end of the page */
  readonly opened = new Set<Socket>();
  constructor(
    private spare: Connected<Socket> | undefined,
    private readonly open: () => Promise<Connected<Socket>>,
  ) {
    super({
      keepAlive: true,
      maxSockets: MAX_H1_CONNECTIONS,
      maxFreeSockets: MAX_H1_CONNECTIONS,
      scheduling: 'fifo',
    });
  }

  override createConnection(
    _options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): undefined {
    if (!callback) throw new Error('the pool opens its connections asynchronously: a callback is needed');
    const take = this.spare ? Promise.resolve(this.spare) : this.open();
    this.spare = undefined;
    take.then(
      (c) => {
        this.conns.set(c.socket, c.conn);
        this.opened.add(c.socket);
        callback(null, c.socket);
      },
      // node calls back with the error alone (lib/_http_agent.js, oncreate(err)): the request fails with it
      (err: Error) => (callback as OnCreate)(err),
    );
    return undefined;
  }
}

/** The HTTP/1.1 side of the ALPN switch (pools.ts). */
export function connectH1(
  o: Origin,
  first: Connected<Socket>,
  open: () => Promise<Connected<Socket>>,
  responseIdleMs = RESPONSE_IDLE_TIMEOUT_MS,
): HttpConnection {
  const agent = new PoolAgent(first, open);
  /** requests in flight, and those waiting for one of the six connections */
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    async request(u, method, headers, onSend) {
      // JOURNEY 16: at most six connections per origin; a seventh request queues for a free one
      if (active >= MAX_H1_CONNECTIONS) await new Promise<void>((r) => waiting.push(r));
      active++;
      try {
        return await exchange(agent, o, u, method, headers, onSend, responseIdleMs);
      } finally {
        active--;
        waiting.shift()?.();
      }
    },
    async close() {
      const waits = [...agent.opened].map(endSocket);
      agent.destroy();
      await Promise.all(waits);
    },
  };
}

/** One request and its whole response on a connection of the pool. */
function exchange(
  agent: PoolAgent,
  o: Origin,
  u: URL,
  method: string,
  headers: Record<string, string>,
  onSend: () => void,
  idleMs: number,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let tSent = 0;
    let tFirst = 0;
    const req = h1Request({
      host: o.host,
      port: o.port,
      method,
      path: `${u.pathname}${u.search}`,
      headers: { host: u.host, ...headers },
      agent,
    });
    // the socket is assigned once the connection (TCP, TLS, revocation check) is up: now it is sent
    req.once('socket', () => onSend());
    // no bytes for this long, waiting for the headers or inside the body: give up as Chrome does
    let timedOut: NetError | undefined;
    req.setTimeout(idleMs, () => {
      timedOut = idleTimeout(u.host, tFirst > 0, idleMs);
      reject(timedOut);
      req.destroy(timedOut);
    });
    req.once('finish', () => {
      tSent = performance.now();
    });
    req.on('response', (res) => {
      tFirst = performance.now();
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(new NetError('ERR_CONNECTION_RESET', err.message, 'http.response')));
      res.on('aborted', () =>
        reject(
          timedOut ??
            new NetError('ERR_CONTENT_LENGTH_MISMATCH', 'the response was cut short', 'http.response'),
        ),
      );
      res.on('end', () => {
        const conn = agent.conns.get(req.socket as Duplex);
        if (!conn)
          return reject(new NetError('ERR_FAILED', 'a response on no known connection', 'http.response'));
        const raw: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2)
          raw.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers: flatten(res.headers),
          rawHeaders: raw,
          body: Buffer.concat(chunks),
          httpVersion: `HTTP/${res.httpVersion}`,
          conn: connOfRequest(conn),
          send: Math.max(0, (tSent || tFirst) - t0),
          wait: Math.max(0, tFirst - (tSent || t0)),
          receive: performance.now() - tFirst,
        });
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        err instanceof NetError
          ? err
          : new NetError(
              h1ErrorCode(err.code),
              err.message,
              err.code?.startsWith('HPE_') ? 'http.response' : 'http.request',
            ),
      ),
    );
    req.end();
  });
}

/** node's socket and llhttp parser codes → Chrome's net error names */
export function h1ErrorCode(code: string | undefined): string {
  if (code === 'ECONNRESET') return 'ERR_CONNECTION_RESET';
  if (code === 'HPE_INVALID_CHUNK_SIZE') return 'ERR_INVALID_CHUNKED_ENCODING';
  if (code?.startsWith('HPE_')) return 'ERR_INVALID_HTTP_RESPONSE';
  return 'ERR_FAILED';
}
