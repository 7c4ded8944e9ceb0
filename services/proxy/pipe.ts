// vcl_pipe: what the cache must not touch (unknown methods, Upgrade: websocket) is streamed to the
// app as is, both ways, by http-proxy-3. The outgoing socket comes from the proxy's backend address.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';

export interface Pipe {
  web(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): Promise<number>;
  ws(req: IncomingMessage, socket: Duplex, head: Buffer, headers: Record<string, string>): void;
  close(): void;
}

export function createPipe(opts: {
  host: string;
  port: number;
  localAddress: string;
  timeoutMs: number;
}): Pipe {
  const proxy = createProxyServer({
    target: { host: opts.host, port: opts.port },
    localAddress: opts.localAddress,
    proxyTimeout: opts.timeoutMs,
    ws: true,
  });
  proxy.on('error', () => {}); // handled per call below
  return {
    web: (req, res, headers) =>
      new Promise((resolve) => {
        res.once('finish', () => resolve(res.statusCode));
        proxy.web(req, res, { headers }, (err: Error) => {
          if (!res.headersSent) {
            res.writeHead(503, { 'content-type': 'text/plain', 'x-cache': 'PIPE' });
            res.end(`pipe to the app failed: ${err.message}\n`);
          } else res.destroy();
        });
      }),
    ws: (req, socket, head, headers) => {
      proxy.ws(req, socket, head, { headers }, () => socket.destroy());
    },
    close: () => proxy.close(),
  };
}
