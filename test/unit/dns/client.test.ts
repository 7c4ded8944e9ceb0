// The one DNS client: only the answer that matches the server, the ID and the question is taken
// (RFC 5452 §9.1), TC=1 moves the question to TCP (RFC 7766 §5), and every failure is a
// DnsClientError with its reason.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  answersQuery,
  buildQuery,
  DnsClientError,
  type DnsQueryOptions,
  queryDns,
} from '../../../services/common/dns/client.js';
import {
  type Answer,
  decodeMessage,
  encodeMessage,
  findOpt,
  frameTcp,
  makeFlags,
  type Packet,
  TcpDeframer,
} from '../../../services/common/dns/codec.js';

const HOST = '127.0.0.1';
const opened: (UdpSocket | Server)[] = [];
const conns: Socket[] = [];

afterEach(() => {
  for (const c of conns.splice(0)) c.destroy();
  for (const s of opened.splice(0)) s.close();
});

/** A response to `q`, or with one of its parts changed (ID, name, type) to be a wrong one. */
function answer(
  q: Packet,
  o: { tc?: boolean; address?: string; id?: number; name?: string; type?: 'A' | 'AAAA' } = {},
): Buffer {
  const name = q.questions?.[0].name ?? '';
  return encodeMessage({
    id: o.id ?? q.id,
    type: 'response',
    flags: makeFlags({ aa: true, tc: o.tc }),
    questions: [{ name: o.name ?? name, type: o.type ?? 'A', class: 'IN' }],
    answers: o.address ? [{ name, type: 'A', class: 'IN', ttl: 60, data: o.address } as Answer] : [],
  });
}

/** A UDP server on a free port; `onQuery` gets each query, who sent it, and the socket to answer from. */
async function udpServer(
  onQuery: (q: Packet, from: { port: number }, sock: UdpSocket) => void,
): Promise<number> {
  const sock = createSocket('udp4');
  opened.push(sock);
  sock.on('message', (msg, rinfo) => onQuery(decodeMessage(msg), rinfo, sock));
  await new Promise<void>((r) => sock.bind(0, HOST, () => r()));
  return sock.address().port;
}

/** A TCP server on `port`; `onQuery` answers each framed query on its connection. */
async function tcpServer(port: number, onQuery: (q: Packet, conn: Socket) => void): Promise<number> {
  const server = createServer((conn) => {
    conns.push(conn);
    const d = new TcpDeframer();
    conn.on('data', (c) => {
      for (const m of d.push(c)) onQuery(decodeMessage(m), conn);
    });
  });
  opened.push(server);
  await new Promise<void>((r) => server.listen(port, HOST, () => r()));
  return (server.address() as { port: number }).port;
}

/** A port nothing listens on (UDP and TCP): bound, read, closed. */
async function deadPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, HOST, () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const opts = (port: number, extra: Partial<DnsQueryOptions> = {}): DnsQueryOptions => ({
  server: HOST,
  port,
  source: HOST,
  timeoutMs: 1000,
  ...extra,
});

async function failure(p: Promise<unknown>): Promise<DnsClientError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DnsClientError);
    return err as DnsClientError;
  }
  throw new Error('it did not fail');
}

describe('queryDns', () => {
  it('drops what does not answer the query (ID, question, type, QR, garbage, another port) and takes the real answer', async () => {
    const other = createSocket('udp4');
    opened.push(other);
    await new Promise<void>((r) => other.bind(0, HOST, () => r()));
    let client = 0;
    const port = await udpServer((q, from, sock) => {
      client = from.port;
      const to = (b: Buffer, s = sock) => s.send(b, from.port, HOST);
      to(answer(q, { id: (q.id ?? 0) ^ 1, address: '192.0.2.1' })); // another ID
      to(answer(q, { name: `x.${q.questions?.[0].name}`, address: '192.0.2.2' })); // another question
      to(answer(q, { type: 'AAAA', address: '192.0.2.4' })); // another type
      to(encodeMessage({ id: q.id, type: 'query', flags: 0, questions: q.questions })); // a query, not a response
      to(Buffer.from('not dns at all'));
      to(answer(q, { address: '192.0.2.3' }), other); // right ID and question, from another port
      setTimeout(() => to(answer(q, { address: '172.28.2.80' })), 20);
    });
    const r = await queryDns({ name: 'WWW.Example.TEST', type: 'a' }, opts(port, { rd: true }));
    expect(r.transport).toBe('udp');
    expect(r.truncatedFirst).toBe(false);
    // the socket is connected: the kernel never delivers the one from another port, so 5 are counted
    expect(r.dropped).toBe(5);
    expect(r.response.answers?.map((a) => (a as { data: string }).data)).toEqual(['172.28.2.80']);
    expect(r.local).toBe(`${HOST}:${client}`);
    expect(r.rtt).toBeGreaterThanOrEqual(15);
  });

  it('asks again over TCP when the UDP answer is truncated, and skips a TCP message for another ID', async () => {
    const port = await udpServer((q, from, sock) => sock.send(answer(q, { tc: true }), from.port, HOST));
    await tcpServer(port, (q, conn) => {
      conn.write(frameTcp(answer(q, { id: (q.id ?? 0) ^ 1, address: '192.0.2.1' })));
      conn.write(frameTcp(answer(q, { address: '172.28.2.80' })));
    });
    const r = await queryDns({ name: 'big.example.test', type: 'A' }, opts(port));
    expect(r.transport).toBe('tcp');
    expect(r.truncatedFirst).toBe(true);
    expect(r.dropped).toBe(1);
    expect(r.response.answers?.map((a) => (a as { data: string }).data)).toEqual(['172.28.2.80']);
  });

  it('fails with timeout when nothing matching comes, saying which transport waited', async () => {
    const port = await udpServer(() => {});
    const e = await failure(
      queryDns({ name: 'www.example.test', type: 'A' }, opts(port, { timeoutMs: 100 })),
    );
    expect(e.reason).toBe('timeout');
    expect(e.transport).toBe('udp');
    expect(e.message).toBe(`${HOST}: no answer in 100 ms`);
    expect(e.rtt).toBeGreaterThanOrEqual(90);
  });

  it('fails with refused when nothing listens, over UDP (ICMP port unreachable) and TCP (RST)', async () => {
    const port = await deadPort();
    const udp = await failure(queryDns({ name: 'www.example.test', type: 'A' }, opts(port)));
    expect([udp.reason, udp.transport]).toEqual(['refused', 'udp']);
    const tcp = await failure(
      queryDns({ name: 'www.example.test', type: 'A' }, opts(port, { transport: 'tcp' })),
    );
    expect([tcp.reason, tcp.transport]).toEqual(['refused', 'tcp']);
  });

  it('fails with malformed when the TCP answer cannot be decoded', async () => {
    const port = await tcpServer(0, (_q, conn) => conn.write(frameTcp(Buffer.from([0, 1, 0x81]))));
    const e = await failure(
      queryDns({ name: 'www.example.test', type: 'A' }, opts(port, { transport: 'tcp' })),
    );
    expect([e.reason, e.transport]).toEqual(['malformed', 'tcp']);
  });

  it('fails with network when the source address is not the host’s', async () => {
    const port = await udpServer(() => {});
    const e = await failure(
      queryDns({ name: 'www.example.test', type: 'A' }, opts(port, { source: '192.0.2.9' })),
    );
    expect(e.reason).toBe('network');
  });

  it('stops waiting when the caller aborts', async () => {
    const port = await udpServer(() => {});
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const e = await failure(
      queryDns({ name: 'www.example.test', type: 'A' }, opts(port, { signal: ac.signal })),
    );
    expect(e.reason).toBe('aborted');
    expect(e.rtt).toBeLessThan(500);
  });
});

describe('buildQuery and answersQuery', () => {
  it('sets RD only when asked, adds OPT unless told not to, and draws a fresh ID', () => {
    const a = decodeMessage(buildQuery({ name: 'www.example.test', type: 'aaaa' }, { rd: true }).bytes);
    expect(a.questions?.[0]).toMatchObject({ name: 'www.example.test', type: 'AAAA', class: 'IN' });
    expect((a.flags ?? 0) & 0x100).toBe(0x100);
    expect(findOpt(a)).toBeDefined();
    const b = decodeMessage(buildQuery({ name: 'www.example.test', type: 'A' }, { edns: false }).bytes);
    expect((b.flags ?? 0) & 0x100).toBe(0);
    expect(findOpt(b)).toBeUndefined();
    const ids = new Set(Array.from({ length: 50 }, () => buildQuery({ name: 'x.test', type: 'A' }).id));
    expect(ids.size).toBeGreaterThan(40);
  });

  it('matches the ID and the question, names case-insensitively (RFC 4343)', () => {
    const { id, bytes } = buildQuery({ name: 'www.example.test', type: 'A' });
    const resp = decodeMessage(answer(decodeMessage(bytes), { name: 'WWW.EXAMPLE.TEST.' }));
    expect(answersQuery(resp, id, { name: 'www.example.test', type: 'A' })).toBe(true);
    expect(answersQuery(resp, id ^ 1, { name: 'www.example.test', type: 'A' })).toBe(false);
    expect(answersQuery(resp, id, { name: 'www.example.test', type: 'AAAA' })).toBe(false);
    expect(answersQuery(resp, id, { name: 'example.test', type: 'A' })).toBe(false);
  });
});
