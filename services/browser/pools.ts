// One page load's connections (as Chromium's socket pools, per origin): the first connection to an
// origin is opened by the connect job offering h2 and http/1.1, and its ALPN answer is the one switch
// between the two protocols — one h2 session, or a pool of up to six HTTP/1.1 connections. When the
// page has loaded, every connection is closed (JOURNEY 36).
import type { Socket } from 'node:net';
import { type Connected, type ConnectJobDeps, connectJob, type Origin } from './connect-job.js';
import { decode, type HttpConnection, type Response } from './http-stream.js';
import { connectH1 } from './http1.js';
import { connectH2 } from './http2.js';

export interface PoolsConfig extends ConnectJobDeps<Socket> {
  /** offer only http/1.1 in ALPN (lab browse --http1) */
  http1Only: boolean;
  /** deadline of a response's silence (tests make it short) */
  responseIdleMs?: number;
}

interface OriginState extends Origin {
  /** the first connection, while the request that opened it waits for its ALPN answer */
  first?: Promise<Connected<Socket>>;
  http?: HttpConnection;
}

export class ConnectionPools {
  private readonly origins = new Map<string, OriginState>();
  constructor(private readonly c: PoolsConfig) {}

  /** One HTTP request: h2 when the origin's first connection negotiated it, else the HTTP/1.1 pool. */
  async request(
    u: URL,
    method: string,
    headers: Record<string, string>,
    trace?: string,
    onSend: () => void = () => {},
  ): Promise<Response> {
    const o = this.origin(u);
    if (!o.http) {
      // concurrent requests to a new origin wait for the same first connection (and its failure)
      o.first ??= this.open(o, ['h2', 'http/1.1'], trace);
      const first = await o.first;
      // ALPN chose: one switch, as undici's connectH1 / connectH2
      o.http ??=
        first.conn.alpn === 'h2'
          ? connectH2(o, first, this.c.responseIdleMs)
          : connectH1(o, first, () => this.open(o, ['http/1.1'], trace), this.c.responseIdleMs);
      o.first = undefined;
    }
    const res = await o.http.request(u, method, headers, onSend);
    // the body as the page sees it, whichever protocol carried it
    return { ...res, body: decode(res.body, res.headers['content-encoding']) };
  }

  /** JOURNEY 36: close every connection: TLS close_notify and FIN, or GOAWAY for h2. */
  async closeAll(): Promise<void> {
    const origins = [...this.origins.values()];
    const waits = origins.map((o) => o.http?.close());
    for (const o of origins)
      await o.first?.then(
        (c) => c.socket.end(),
        () => {},
      );
    this.origins.clear();
    await Promise.all(waits);
  }

  private open(o: Origin, alpn: string[], trace?: string): Promise<Connected<Socket>> {
    return connectJob(this.c, o, this.c.http1Only ? ['http/1.1'] : alpn, trace);
  }

  private origin(u: URL): OriginState {
    const key = `${u.protocol}//${u.host}`;
    let o = this.origins.get(key);
    if (!o) {
      o = {
        scheme: u.protocol === 'https:' ? 'https:' : 'http:',
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
      };
      this.origins.set(key, o);
    }
    return o;
  }
}
