// The shared DNS server's TCP slot table (RFC 7766 §6.2.2, §6.2.3): idle and half-closed connections
// are reclaimed, and no client can hold every slot.
import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeMessage,
  frameTcp,
  makeFlags,
  TcpDeframer,
} from '../../../services/common/dns/codec.js';
import { type DnsServer, startDnsServer, type TcpLimits } from '../../../services/common/dns/server.js';

const HOST = '127.0.0.1';
let server: DnsServer | undefined;
const held: Socket[] = [];

afterEach(async () => {
  for (const s of held.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, HOST, () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A server whose handler answers every query with NOERROR and no records. */
async function start(limits: TcpLimits): Promise<number> {
  const port = await freePort();
  server = await startDnsServer(
    [HOST],
    port,
    (msg) => {
      const q = decodeMessage(msg);
      return encodeMessage({ id: q.id, type: 'response', flags: makeFlags({}), questions: q.questions });
    },
    () => {},
    { tcp: limits },
  );
  return port;
}

/** An idle client that never sends and never closes its side, even after the server's FIN. */
function holdIdle(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: HOST, port, allowHalfOpen: true }, () => resolve(s));
    s.on('error', () => {}); // a reclaimed connection may be reset
    s.once('error', reject);
    held.push(s);
  });
}

/** One query over a fresh TCP connection; resolves with the answer's ID. */
function tcpQuery(port: number, id: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: HOST, port }, () => {
      s.write(
        frameTcp(
          encodeMessage({
            id,
            type: 'query',
            flags: makeFlags({ rd: true }),
            questions: [{ name: 'x.test', type: 'A' }],
          }),
        ),
      );
    });
    const deframer = new TcpDeframer();
    s.on('data', (c: Buffer) => {
      for (const m of deframer.push(c)) {
        s.destroy();
        resolve(m.readUInt16BE(0));
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error('closed without an answer')));
  });
}

describe('TCP slots (RFC 7766 §6.2.3)', () => {
  it('answers over TCP while 300 idle connections are held open (more than the 256 slots)', async () => {
    const port = await start({ idleMs: 60_000, graceMs: 1_000, max: 256, perClient: 64 });
    for (let i = 0; i < 300; i++) await holdIdle(port);
    await expect(tcpQuery(port, 4242)).resolves.toBe(4242);
    expect(server?.tcpConnections()).toBeLessThanOrEqual(256);
  });

  it('one client address holds at most its share of the slots', async () => {
    const port = await start({ idleMs: 60_000, graceMs: 1_000, max: 256, perClient: 8 });
    for (let i = 0; i < 20; i++) await holdIdle(port);
    await new Promise((r) => setTimeout(r, 50));
    expect(server?.tcpConnections()).toBe(8);
  });

  it('frees the slot of an idle client that never closes after our FIN (no FIN-WAIT-2 leak)', async () => {
    const port = await start({ idleMs: 200, graceMs: 200, max: 4, perClient: 4 });
    const s = await holdIdle(port);
    const gotFin = new Promise<void>((r) => s.once('end', () => r()));
    expect(server?.tcpConnections()).toBe(1);
    await gotFin; // the server half-closed; this client keeps its side open
    expect(server?.tcpConnections()).toBe(0);
    for (let i = 0; i < 4; i++) await holdIdle(port);
    await expect(tcpQuery(port, 7)).resolves.toBe(7);
  });
});
