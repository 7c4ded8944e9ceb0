// The backend: the app server, over a keep-alive connection pool, with timeouts and a health probe
// (Varnish's .probe). The proxy's outgoing sockets come from its own backend address.
import { Agent, request } from 'node:http';
import { PROBE_USER_AGENT } from '../common/event-output.js';

export interface BackendReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  ms: number;
}

export interface BackendRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** a 1xx interim response from the app (102, 103 Early Hints), as it arrives */
  onInformational?(status: number, headers: Record<string, string>): void;
}

export interface Backend {
  fetch(req: BackendRequest): Promise<BackendReply>;
  healthy(): boolean;
  close(): void;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** The header names a Connection field lists: hop-by-hop too (RFC 9110 §7.6.1). */
export function connectionOptions(connection: string | string[] | undefined): Set<string> {
  const v = Array.isArray(connection) ? connection.join(',') : (connection ?? '');
  return new Set(
    v
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** RFC 9110 §7.6.1: what a proxy forwards, the hop-by-hop fields and those Connection names removed. */
export function endToEnd(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  const named = connectionOptions(headers.connection);
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || named.has(k) || k.startsWith(':')) continue;
    out[k] = Array.isArray(v) ? (k === 'set-cookie' ? v.join('\n') : v.join(', ')) : v;
  }
  return out;
}

/** RFC 9112 §6.3: bytes after the Content-Length's end are not a next response: this fetch fails. */
function malformed(err: NodeJS.ErrnoException, framed: boolean): Error {
  if (!err.code?.startsWith('HPE_')) return err;
  return new Error(
    framed
      ? `the app's body was longer than its Content-Length (${err.message})`
      : `the app's response is malformed (${err.message})`,
  );
}

/** Varnish's backend timeouts, in ms, read for every fetch (they are run-time parameters). */
export interface BackendTimeouts {
  /** connect_timeout: the TCP connection is up */
  connectMs: number;
  /** first_byte_timeout: the response head has arrived after the request was sent */
  firstByteMs: number;
  /** between_bytes_timeout: the longest pause inside the body */
  betweenBytesMs: number;
}

export function createBackend(opts: {
  host: string;
  port: number;
  localAddress: string;
  timeouts(): BackendTimeouts;
  probe: { path: string; host: string; intervalMs: number };
  onHealth(healthy: boolean, why: string): void;
}): Backend {
  // idle keep-alive connections are closed after 5 s; busy ones follow the timeouts below
  const agent = new Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: 5000 });
  let healthy = true;
  const fetch = (req: BackendRequest) =>
    new Promise<BackendReply>((resolve, reject) => {
      const t0 = performance.now();
      const limits = opts.timeouts();
      let timer: NodeJS.Timeout | undefined;
      const deadline = (ms: number, what: string) => {
        clearTimeout(timer);
        timer = setTimeout(() => r.destroy(new Error(`${what} (${ms} ms)`)), ms);
      };
      const done = () => clearTimeout(timer);
      let framed = false; // the response head said Content-Length
      const r = request(
        {
          host: opts.host,
          port: opts.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent,
          localAddress: opts.localAddress,
        },
        (res) => {
          framed = res.headers['content-length'] !== undefined;
          const chunks: Buffer[] = [];
          deadline(limits.betweenBytesMs, 'between_bytes_timeout: the body stalled');
          res.on('data', (c: Buffer) => {
            chunks.push(c);
            deadline(limits.betweenBytesMs, 'between_bytes_timeout: the body stalled');
          });
          res.on('end', () => {
            done();
            resolve({
              status: res.statusCode ?? 502,
              headers: endToEnd(res.headers),
              body: Buffer.concat(chunks),
              ms: performance.now() - t0,
            });
          });
          res.on('error', (err) => {
            done();
            reject(err);
          });
        },
      );
      // RFC 9110 §15.2: interim responses go on to the client as they come (never stored)
      r.on('information', (info) => {
        if (info.statusCode !== 100) req.onInformational?.(info.statusCode, endToEnd(info.headers));
      });
      r.on('socket', (socket) => {
        if (!socket.connecting) return deadline(limits.firstByteMs, 'first_byte_timeout: no answer');
        deadline(limits.connectMs, 'connect_timeout: no connection');
        socket.once('connect', () => deadline(limits.firstByteMs, 'first_byte_timeout: no answer'));
      });
      r.on('error', (err: NodeJS.ErrnoException) => {
        done();
        reject(malformed(err, framed));
      });
      r.end(req.body);
    });
  // Varnish's probe: one state change, one event
  const setHealth = (now: boolean, why: string) => {
    if (now === healthy) return;
    healthy = now;
    opts.onHealth(now, why);
  };
  const probe = async () => {
    try {
      const r = await fetch({
        method: 'HEAD',
        url: opts.probe.path,
        // the app marks the events of this request as a probe's (event-output.ts)
        headers: { host: opts.probe.host, 'user-agent': PROBE_USER_AGENT },
      });
      setHealth(r.status < 500, `probe answered ${r.status}`);
    } catch (err) {
      setHealth(false, (err as Error).message);
    }
  };
  const timer = setInterval(() => void probe(), opts.probe.intervalMs);
  timer.unref();
  return {
    // as Varnish: health is the probe's alone; a failed fetch is a 503 for that fetch only
    fetch,
    healthy: () => healthy,
    close: () => {
      clearInterval(timer);
      agent.destroy();
    },
  };
}
