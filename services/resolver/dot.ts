// DNS over TLS (RFC 7858): the resolver's own handler behind TLS on port 853, messages framed with a
// two-byte length as on TCP (RFC 7858 §3.3, RFC 1035 §4.2.2), several queries a connection.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer, type SecureContextOptions, type Server, type TLSSocket } from 'node:tls';
import { frameTcp, TcpDeframer } from '../common/dns/codec.js';
import type { EncryptedHandler } from './encrypted.js';

const IDLE_MS = 10_000; // RFC 7858 §3.4: keep idle connections open a while, then close them
const MAX_CONNECTIONS = 256;

export async function startDot(
  address: string,
  port: number,
  tls: SecureContextOptions,
  handle: EncryptedHandler,
  onError: (where: string, err: unknown) => void,
): Promise<Server> {
  // RFC 7858 §3.2: ALPN "dot" (RFC 7301 registry) is offered; clients that send none are served too
  const server = createServer({ ...tls, ALPNProtocols: ['dot'] }, (sock: TLSSocket) => serve(sock));
  server.maxConnections = MAX_CONNECTIONS;
  server.on('tlsClientError', (err) => onError('dot handshake', err));

  function serve(sock: TLSSocket) {
    const deframer = new TcpDeframer();
    sock.setTimeout(IDLE_MS, () => sock.end());
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      for (const msg of deframer.push(chunk)) {
        // answers go back as they are ready, each with its own length (RFC 7766 §7: out of order is fine)
        Promise.resolve(
          handle(msg, { address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0, transport: 'dot' }),
        )
          .then((out) => {
            if (out && !sock.destroyed) sock.write(frameTcp(out));
          })
          .catch((err) => onError('dot query', err));
      }
    });
  }

  server.listen(port, address);
  await once(server, 'listening'); // rejects on 'error' (EADDRINUSE …)
  return server;
}

export const listeningOf = (s: Server, what: string) => {
  const a = s.address() as AddressInfo;
  return `${what} ${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
};
