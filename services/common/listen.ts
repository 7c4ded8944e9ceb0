// One server on a host's IPv6 address as well as its IPv4 one: what DNS publishes (an AAAA beside the
// A) must answer. A Node server listens on one address, so a second listener hands its connections
// to the same server (an HTTP or TLS server treats them as its own: the same handlers, the same limits).
import { createServer, type Server } from 'node:net';

/** Listens on address:port for `server` too; resolves with the extra listener (close it with the server). */
export function alsoListen(server: Server, port: number, address: string): Promise<Server> {
  const extra = createServer({ pauseOnConnect: false }, (sock) => server.emit('connection', sock));
  return new Promise((resolve, reject) => {
    extra.once('error', (err: NodeJS.ErrnoException) => reject(Object.assign(err, { address, port })));
    extra.listen(port, address, () => resolve(extra));
  });
}

/** Closes listeners made by alsoListen (their connections belong to the main server, which closes them). */
export function closeAll(servers: Server[]): Promise<void> {
  return Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
}
