// One question to one authoritative server: a fresh UDP socket on a random port with a random id
// (RFC 5452), only the answer that matches address, port, id and question accepted; TCP when TC=1.
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import {
  canonicalName,
  decodeMessage,
  encodeMessage,
  frameTcp,
  makeFlags,
  makeOpt,
  type Packet,
  TcpDeframer,
} from '../common/dns/codec.js';

export type UpstreamFailure = 'timeout' | 'refused' | 'mismatch' | 'malformed' | 'network';

export interface UpstreamAnswer {
  ok: true;
  response: Packet;
  rtt: number;
  transport: 'udp' | 'tcp';
  truncatedFirst: boolean;
  /** forged or stray answers dropped while waiting */
  dropped: number;
}
export interface UpstreamError {
  ok: false;
  failure: UpstreamFailure;
  detail: string;
  rtt: number;
  dropped: number;
}

export interface UpstreamOptions {
  /** the resolver's own address of the same family, to bind to */
  source: string;
  timeoutMs: number;
}

function buildQuery(name: string, type: string): { id: number; bytes: Buffer } {
  const id = randomInt(65536);
  const bytes = encodeMessage({
    id,
    type: 'query',
    flags: makeFlags({}), // RD=0: we iterate ourselves
    questions: [{ name, type: type as never, class: 'IN' }],
    answers: [],
    authorities: [],
    additionals: [makeOpt()],
  });
  return { id, bytes };
}

function matches(resp: Packet, id: number, name: string, type: string): boolean {
  const q = resp.questions?.[0];
  return (
    resp.type === 'response' &&
    resp.id === id &&
    !!q &&
    canonicalName(q.name) === canonicalName(name) &&
    q.type === type
  );
}

function udpQuery(
  server: string,
  port: number,
  name: string,
  type: string,
  opts: UpstreamOptions,
): Promise<UpstreamAnswer | UpstreamError> {
  const { id, bytes } = buildQuery(name, type);
  const t0 = performance.now();
  const sock = createSocket({ type: isIPv6(server) ? 'udp6' : 'udp4' });
  let dropped = 0;
  return new Promise((resolve) => {
    const done = (r: UpstreamAnswer | UpstreamError) => {
      clearTimeout(timer);
      sock.close();
      resolve(r);
    };
    const timer = setTimeout(
      () =>
        done({
          ok: false,
          failure: 'timeout',
          detail: `no answer in ${opts.timeoutMs} ms`,
          rtt: opts.timeoutMs,
          dropped,
        }),
      opts.timeoutMs,
    );
    sock.on('error', (err: NodeJS.ErrnoException) =>
      done({
        ok: false,
        failure: err.code === 'ECONNREFUSED' ? 'refused' : 'network',
        detail: err.code === 'ECONNREFUSED' ? 'port unreachable (nothing listens)' : err.message,
        rtt: performance.now() - t0,
        dropped,
      }),
    );
    sock.on('message', (msg, rinfo) => {
      // a connected socket only delivers datagrams from the server's address and port
      if (rinfo.address !== server || rinfo.port !== port) {
        dropped++;
        return;
      }
      let resp: Packet;
      try {
        resp = decodeMessage(msg);
      } catch {
        dropped++;
        return;
      }
      if (!matches(resp, id, name, type)) {
        dropped++; // a forged or stale answer: keep waiting for the real one
        return;
      }
      done({
        ok: true,
        response: resp,
        rtt: performance.now() - t0,
        transport: 'udp',
        truncatedFirst: false,
        dropped,
      });
    });
    sock.bind({ address: opts.source, port: 0 }, () => {
      sock.connect(port, server, () => sock.send(bytes));
    });
  });
}

function tcpQuery(
  server: string,
  port: number,
  name: string,
  type: string,
  opts: UpstreamOptions,
): Promise<UpstreamAnswer | UpstreamError> {
  const { id, bytes } = buildQuery(name, type);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const sock = connect({ host: server, port, localAddress: opts.source });
    const deframer = new TcpDeframer();
    const done = (r: UpstreamAnswer | UpstreamError) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () =>
        done({
          ok: false,
          failure: 'timeout',
          detail: `no TCP answer in ${opts.timeoutMs} ms`,
          rtt: opts.timeoutMs,
          dropped: 0,
        }),
      opts.timeoutMs,
    );
    sock.on('connect', () => sock.write(frameTcp(bytes)));
    sock.on('error', (err: NodeJS.ErrnoException) =>
      done({
        ok: false,
        failure: err.code === 'ECONNREFUSED' ? 'refused' : 'network',
        detail: err.message,
        rtt: performance.now() - t0,
        dropped: 0,
      }),
    );
    sock.on('data', (chunk: Buffer) => {
      for (const msg of deframer.push(chunk)) {
        try {
          const resp = decodeMessage(msg);
          if (matches(resp, id, name, type)) {
            return done({
              ok: true,
              response: resp,
              rtt: performance.now() - t0,
              transport: 'tcp',
              truncatedFirst: true,
              dropped: 0,
            });
          }
        } catch {
          return done({
            ok: false,
            failure: 'malformed',
            detail: 'malformed TCP answer',
            rtt: performance.now() - t0,
            dropped: 0,
          });
        }
      }
    });
  });
}

export async function askServer(
  server: string,
  port: number,
  name: string,
  type: string,
  opts: UpstreamOptions,
): Promise<UpstreamAnswer | UpstreamError> {
  const first = await udpQuery(server, port, name, type, opts);
  if (!first.ok || ((first.response.flags ?? 0) & 0x200) === 0) return first;
  // RFC 7766 §5: truncated over UDP, ask again over TCP
  const second = await tcpQuery(server, port, name, type, opts);
  return second.ok ? { ...second, rtt: second.rtt + first.rtt, dropped: first.dropped } : second;
}
