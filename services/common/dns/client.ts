// One DNS question to one server, asked the same way by every client in the lab: the resolver's
// queries to the authorities, the browser's stub, the CLI's `dns.query` and the benches.
// Over UDP from the host's own address, on a fresh socket (a random source port) with a random ID
// (RFC 5452 §9.2, §10); only an answer that comes from the server's address and port and carries the
// query's ID and question is accepted (RFC 5452 §9.1), anything else is counted and ignored while
// the real answer may still come. A truncated answer (TC=1) is asked again over TCP (RFC 7766 §5,
// RFC 1035 §4.2.2). Every failure is one error type, DnsClientError, with its `reason`.
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
} from './codec.js';

export interface DnsQuestion {
  name: string;
  /** a type mnemonic: A, AAAA, NS, TXT, … */
  type: string;
}

export interface DnsQueryOptions {
  server: string;
  port: number;
  /** the asking host's own address, of the server's family: every socket is bound to it */
  source: string;
  /** per transport: the UDP question and, after TC=1, the TCP one each get this long */
  timeoutMs: number;
  /** RD=1: a stub asking a resolver; left out, RD=0 (a resolver iterating, `dig +norec`) */
  rd?: boolean;
  /** an OPT record with the lab's UDP payload size (RFC 6891); default true */
  edns?: boolean;
  /** 'tcp': TCP only (`dig +tcp`); default UDP, then TCP when the answer is truncated */
  transport?: 'udp' | 'tcp';
  signal?: AbortSignal;
}

export interface DnsReply {
  response: Packet;
  /** the transport that brought the accepted answer */
  transport: 'udp' | 'tcp';
  /** the UDP answer had TC=1, so this one came over TCP */
  truncatedFirst: boolean;
  /** milliseconds from the first send to the accepted answer, both transports together */
  rtt: number;
  /** datagrams ignored while waiting: from elsewhere, unreadable, or another ID or question */
  dropped: number;
  /** the local end of the first socket, "address:port" */
  local: string;
}

export type DnsFailure =
  /** no matching answer in time */
  | 'timeout'
  /** nothing listens: ICMP port unreachable (UDP) or a RST (TCP) */
  | 'refused'
  /** an answer that cannot be decoded on a TCP connection (on UDP it is only dropped) */
  | 'malformed'
  /** any other socket error (no route, address not available, connection reset) */
  | 'network'
  /** the caller's AbortSignal fired */
  | 'aborted';

export class DnsClientError extends Error {
  constructor(
    readonly server: string,
    readonly reason: DnsFailure,
    /** what happened, without the server's address (the message has both) */
    readonly detail: string,
    /** the transport that failed ('tcp' after a truncated UDP answer) */
    readonly transport: 'udp' | 'tcp',
    readonly rtt: number,
    readonly dropped: number,
  ) {
    super(`${server}: ${detail}`);
    this.name = 'DnsClientError';
  }
}

/** A query message with a fresh random ID (RFC 5452 §10): for UDP, TCP, and the DoT/DoH transports. */
export function buildQuery(
  q: DnsQuestion,
  o: { rd?: boolean; edns?: boolean } = {},
): { id: number; bytes: Buffer } {
  const id = randomInt(65536);
  const bytes = encodeMessage({
    id,
    type: 'query',
    flags: makeFlags({ rd: !!o.rd }),
    questions: [{ name: q.name, type: q.type.toUpperCase() as 'A', class: 'IN' }],
    answers: [],
    authorities: [],
    additionals: o.edns === false ? [] : [makeOpt()],
  });
  return { id, bytes };
}

/** RFC 5452 §9.1: a response, with the query's ID and the same question (names compare case-insensitively). */
export function answersQuery(resp: Packet, id: number, q: DnsQuestion): boolean {
  const rq = resp.questions?.[0];
  return (
    resp.type === 'response' &&
    resp.id === id &&
    !!rq &&
    canonicalName(rq.name) === canonicalName(q.name) &&
    rq.type === q.type.toUpperCase()
  );
}

/** The question over UDP, then over TCP when the answer is truncated; a DnsClientError when it fails. */
export async function queryDns(q: DnsQuestion, o: DnsQueryOptions): Promise<DnsReply> {
  if (o.transport === 'tcp') return overTcp(q, o, { rtt: 0, dropped: 0, local: undefined });
  const first = await overUdp(q, o);
  if (((first.response.flags ?? 0) & 0x200) === 0) return first;
  // RFC 7766 §5: truncated over UDP, ask again over TCP (with a new ID)
  return overTcp(q, o, first);
}

interface Attempt {
  /** settles the attempt once: clears the timer and the abort listener, closes the socket */
  finish(outcome: DnsReply | DnsClientError): void;
  /** milliseconds since the question left (or since the attempt began, before it did) */
  elapsed(): number;
  /** the question leaves now: the round trip is counted from here */
  sent(): void;
}

/** The timer, the abort signal and the settling shared by both transports. */
function attempt(
  o: DnsQueryOptions,
  transport: 'udp' | 'tcp',
  before: { rtt: number; dropped: () => number },
  close: () => void,
  resolve: (r: DnsReply) => void,
  reject: (e: DnsClientError) => void,
): Attempt {
  let t0 = performance.now();
  let settled = false;
  const elapsed = () => before.rtt + performance.now() - t0;
  const fail = (reason: DnsFailure, detail: string) =>
    finish(new DnsClientError(o.server, reason, detail, transport, elapsed(), before.dropped()));
  const over = transport === 'tcp' ? ' over TCP' : '';
  const timer = setTimeout(() => fail('timeout', `no answer${over} in ${o.timeoutMs} ms`), o.timeoutMs);
  const onAbort = () => fail('aborted', 'the question was abandoned');
  o.signal?.addEventListener('abort', onAbort, { once: true });
  function finish(outcome: DnsReply | DnsClientError) {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
    close();
    if (outcome instanceof DnsClientError) reject(outcome);
    else resolve(outcome);
  }
  if (o.signal?.aborted) queueMicrotask(onAbort);
  return {
    finish,
    elapsed,
    sent: () => {
      t0 = performance.now();
    },
  };
}

function socketFailure(err: NodeJS.ErrnoException, transport: 'udp' | 'tcp'): [DnsFailure, string] {
  if (err.code !== 'ECONNREFUSED') return ['network', err.message];
  return [
    'refused',
    transport === 'udp' ? 'port unreachable (nothing listens)' : 'connection refused (nothing listens)',
  ];
}

function overUdp(q: DnsQuestion, o: DnsQueryOptions): Promise<DnsReply> {
  const { id, bytes } = buildQuery(q, o);
  const sock = createSocket({ type: isIPv6(o.server) ? 'udp6' : 'udp4' });
  let dropped = 0;
  let local = '';
  return new Promise((resolve, reject) => {
    const a = attempt(o, 'udp', { rtt: 0, dropped: () => dropped }, () => sock.close(), resolve, reject);
    sock.on('error', (err: NodeJS.ErrnoException) => {
      const [reason, detail] = socketFailure(err, 'udp');
      a.finish(new DnsClientError(o.server, reason, detail, 'udp', a.elapsed(), dropped));
    });
    sock.on('message', (msg, rinfo) => {
      // a connected socket only delivers datagrams from the server's address and port; checked anyway
      if (rinfo.address !== o.server || rinfo.port !== o.port) {
        dropped++;
        return;
      }
      let response: Packet;
      try {
        response = decodeMessage(msg);
      } catch {
        dropped++; // unreadable: the real answer may still come
        return;
      }
      if (!answersQuery(response, id, q)) {
        dropped++; // a forged or stale answer: keep waiting for the real one
        return;
      }
      a.finish({ response, transport: 'udp', truncatedFirst: false, rtt: a.elapsed(), dropped, local });
    });
    sock.bind({ address: o.source, port: 0 }, () => {
      const me = sock.address();
      local = `${me.address}:${me.port}`;
      sock.connect(o.port, o.server, () => {
        a.sent();
        sock.send(bytes);
      });
    });
  });
}

function overTcp(
  q: DnsQuestion,
  o: DnsQueryOptions,
  before: { rtt: number; dropped: number; local: string | undefined },
): Promise<DnsReply> {
  const { id, bytes } = buildQuery(q, o);
  const sock = connect({ host: o.server, port: o.port, localAddress: o.source });
  const deframer = new TcpDeframer();
  let dropped = before.dropped;
  return new Promise((resolve, reject) => {
    const a = attempt(
      o,
      'tcp',
      { rtt: before.rtt, dropped: () => dropped },
      () => sock.destroy(),
      resolve,
      reject,
    );
    const local = () => before.local ?? `${sock.localAddress}:${sock.localPort}`;
    sock.on('connect', () => sock.write(frameTcp(bytes)));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      const [reason, detail] = socketFailure(err, 'tcp');
      a.finish(new DnsClientError(o.server, reason, detail, 'tcp', a.elapsed(), dropped));
    });
    sock.on('data', (chunk: Buffer) => {
      for (const msg of deframer.push(chunk)) {
        let response: Packet;
        try {
          response = decodeMessage(msg);
        } catch {
          // on a connection only the server can speak: its answer is broken
          return a.finish(
            new DnsClientError(
              o.server,
              'malformed',
              'malformed answer over TCP',
              'tcp',
              a.elapsed(),
              dropped,
            ),
          );
        }
        if (!answersQuery(response, id, q)) {
          dropped++;
          continue;
        }
        const truncatedFirst = before.local !== undefined;
        return a.finish({
          response,
          transport: 'tcp',
          truncatedFirst,
          rtt: a.elapsed(),
          dropped,
          local: local(),
        });
      }
    });
  });
}
