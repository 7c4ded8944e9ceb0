// The backend client on real sockets (127.0.0.1, ephemeral ports): Varnish's timeouts, and health that
// only the probe decides (one failed fetch is that fetch's 503, not a sick backend).
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, createBackend } from '../../../services/proxy/backend.js';

let app: Server;
let raw: TcpServer;
const backends: Backend[] = [];
const port = (s: Server | TcpServer) => (s.address() as AddressInfo).port;

beforeAll(async () => {
  app = createServer((req, res) => {
    if (req.url === '/slow-head') return setTimeout(() => res.end('late'), 2000);
    if (req.url === '/stall') {
      res.writeHead(200, { 'content-length': '10' });
      res.write('01234');
      return; // the rest never comes
    }
    res.end('ok');
  });
  // answers more body than its Content-Length says
  raw = createTcpServer((s) =>
    s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n0123456789')),
  );
  await Promise.all([app, raw].map((s) => new Promise<void>((ok) => s.listen(0, '127.0.0.1', () => ok()))));
});

afterAll(async () => {
  for (const b of backends) b.close();
  await Promise.all([app, raw].map((s) => new Promise((ok) => s.close(ok))));
});

function backendTo(p: number) {
  const b = createBackend({
    host: '127.0.0.1',
    port: p,
    localAddress: '127.0.0.1',
    timeouts: () => ({ connectMs: 1000, firstByteMs: 300, betweenBytesMs: 300 }),
    probe: { path: '/', host: 'www.example.test', intervalMs: 60_000 },
    onHealth: () => {},
  });
  backends.push(b);
  return b;
}
const get = (b: Backend, url: string) =>
  b.fetch({ method: 'GET', url, headers: { host: 'www.example.test' } });

describe('the backend client', () => {
  it('fails one fetch after first_byte_timeout, and stays healthy (only the probe decides)', async () => {
    const b = backendTo(port(app));
    await expect(get(b, '/slow-head')).rejects.toThrow(/first_byte_timeout/);
    expect(b.healthy()).toBe(true);
    expect((await get(b, '/')).body.toString()).toBe('ok');
  });
  it('fails a body that stalls after between_bytes_timeout', async () => {
    await expect(get(backendTo(port(app)), '/stall')).rejects.toThrow(/between_bytes_timeout/);
  });
  it('calls a body longer than its Content-Length a backend error', async () => {
    const b = backendTo(port(raw));
    await expect(get(b, '/')).rejects.toThrow(/longer than its Content-Length/);
    expect(b.healthy()).toBe(true);
  });
});
