// The backend: the app server, over a keep-alive connection pool, with timeouts and a health probe
// (Varnish's .probe). The proxy's outgoing sockets come from its own backend address.
import { Agent, request } from 'node:http';

export interface BackendReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  ms: number;
}

export interface Backend {
  fetch(req: {
    method: string;
    url: string;
    headers: Record<string, string>;
    body?: Buffer;
  }): Promise<BackendReply>;
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

export function endToEnd(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || k.startsWith(':')) continue;
    out[k] = Array.isArray(v) ? (k === 'set-cookie' ? v.join('\n') : v.join(', ')) : v;
  }
  return out;
}

export function createBackend(opts: {
  host: string;
  port: number;
  localAddress: string;
  timeoutMs: number;
  probe: { path: string; host: string; intervalMs: number };
  onHealth(healthy: boolean, why: string): void;
}): Backend {
  const agent = new Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: opts.timeoutMs });
  let healthy = true;
  const fetch = (req: { method: string; url: string; headers: Record<string, string>; body?: Buffer }) =>
    new Promise<BackendReply>((resolve, reject) => {
      const t0 = performance.now();
      const r = request(
        {
          host: opts.host,
          port: opts.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent,
          localAddress: opts.localAddress,
          timeout: opts.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 502,
              headers: endToEnd(res.headers),
              body: Buffer.concat(chunks),
              ms: performance.now() - t0,
            }),
          );
          res.on('error', reject);
        },
      );
      r.on('timeout', () => r.destroy(new Error(`the backend did not answer in ${opts.timeoutMs} ms`)));
      r.on('error', reject);
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
        headers: { host: opts.probe.host, 'user-agent': 'proxy-probe' },
      });
      setHealth(r.status < 500, `probe answered ${r.status}`);
    } catch (err) {
      setHealth(false, (err as Error).message);
    }
  };
  const timer = setInterval(() => void probe(), opts.probe.intervalMs);
  timer.unref();
  return {
    fetch: async (req) => {
      try {
        const r = await fetch(req);
        if (r.status < 500) setHealth(true, 'a fetch succeeded');
        return r;
      } catch (err) {
        setHealth(false, (err as Error).message);
        throw err;
      }
    },
    healthy: () => healthy,
    close: () => {
      clearInterval(timer);
      agent.destroy();
    },
  };
}
