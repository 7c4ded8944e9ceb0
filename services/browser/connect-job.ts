// JOURNEY 13–15, 19–21: the connect job (as Chromium's ConnectJob): one new connection to an origin —
// its name resolved, happy eyeballs → TCP, then TLS, then the certificate's revocation checked —
// each step an event. The sockets come from an injected connector (connect.ts's `socketConnector`,
// or a test's), so the job's logic runs without a network.
import { isIPv6 } from 'node:net';
import type { Emitter } from '../common/events.js';
import { type Attempt, type Dialled, happyEyeballs, NetError, type TlsResult } from './connect.js';
import type { BrowserEvent } from './events.js';
import type { Resolved } from './host-resolver.js';
import type { Presented, Revocation } from './revocation.js';

/** What the job needs of a socket: its two ends, its close, and to drop it. */
export interface JobSocket extends Dialled {
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  once(event: 'connect', listener: () => void): this;
  once(event: 'error', listener: (err: NodeJS.ErrnoException) => void): this;
  once(event: 'close', listener: (hadError: boolean) => void): this;
}

/** Where the sockets come from: one TCP attempt per address, then TLS over the winner. */
export interface Connector<S extends JobSocket> {
  dial(address: string, port: number): S;
  tls(socket: S, host: string, alpn: string[]): Promise<TlsResult<S>>;
}

export interface ConnectJobDeps<S extends JobSocket> {
  events: Emitter<BrowserEvent>;
  connector: Connector<S>;
  resolve(host: string, trace?: string): Promise<Resolved>;
  checkRevocation(t: Presented): Promise<Revocation>;
  /** a connection number, unique in the browser process (the timeline's "connection 3") */
  nextConnectionId(): string;
  /** a certificate whose revocation cannot be checked fails too (Chrome's policy for EV, or an enterprise's) */
  hardFailRevocation: boolean;
}

export interface Origin {
  scheme: 'http:' | 'https:';
  host: string;
  port: number;
}

/** A connection as DevTools times it (ms; -1: this request did not open it) and the HAR names it. */
export interface ConnInfo {
  id: string;
  local: string;
  remote: string;
  alpn: string;
  dns: number;
  connect: number;
  ssl: number;
  used: boolean;
  /** the TCP ports, read at connect: a socket reset later no longer knows them (peer-reset.ts) */
  ports: { local?: number; remote?: number };
}

export interface Connected<S> {
  socket: S;
  conn: ConnInfo;
}

/** Open one connection to the origin, offering these ALPN protocols; every step emits its event. */
export async function connectJob<S extends JobSocket>(
  d: ConnectJobDeps<S>,
  o: Origin,
  alpn: string[],
  trace?: string,
): Promise<Connected<S>> {
  const resolved = await d.resolve(o.host, trace);
  const t1 = performance.now();
  const { socket } = await happyEyeballs(
    resolved.addresses,
    o.port,
    (address, port) => d.connector.dial(address, port),
    (a) => emitAttempt(d.events, a, trace),
  );
  const connectMs = performance.now() - t1;
  const conn = tcpConnected(d, socket, connectMs, trace);
  conn.dns = resolved.source === 'dns' ? resolved.ms : 0;
  if (o.scheme === 'http:') return { socket, conn };
  const tls = await handshake(d, socket, o.host, alpn, conn, trace);
  conn.ssl = tls.ms;
  conn.connect += tls.ms;
  conn.alpn = tls.alpn;
  // certificate verification is part of DevTools' "ssl" phase
  const tRev = performance.now();
  const rev = await d.checkRevocation(tls);
  const revMs = performance.now() - tRev;
  conn.ssl += revMs;
  conn.connect += revMs;
  d.events.emit({
    kind: 'ocsp.check',
    trace,
    summary: `revocation of ${o.host}'s certificate: ${rev.status} (${rev.source}; ${rev.detail})`,
    data: { host: o.host, status: rev.status, source: rev.source, detail: rev.detail },
  });
  if (rev.status === 'revoked' || (d.hardFailRevocation && rev.status !== 'good')) {
    tls.socket.destroy();
    throw new NetError(
      rev.status === 'revoked' ? 'ERR_CERT_REVOKED' : 'ERR_CERT_UNABLE_TO_CHECK_REVOCATION',
      `${o.host}: ${rev.detail}`,
      'ocsp.check',
    );
  }
  return { socket: tls.socket, conn };
}

function emitAttempt(events: Emitter<BrowserEvent>, a: Attempt, trace?: string): void {
  events.emit({
    kind: 'happy-eyeballs.attempt',
    trace,
    summary: `connection attempt to ${a.address}: ${a.outcome}${a.error ? ` (${a.error})` : ''}`,
    data: {
      address: a.address,
      family: isIPv6(a.address) ? 6 : 4,
      outcome: a.outcome,
      error: a.error,
      startedAt: a.startedAt,
    },
  });
}

/** JOURNEY 14: the three-way handshake is done; its close (JOURNEY 36) will be told too. */
function tcpConnected<S extends JobSocket>(
  d: ConnectJobDeps<S>,
  socket: S,
  connectMs: number,
  trace?: string,
): ConnInfo {
  const id = d.nextConnectionId();
  const local = `${socket.localAddress}:${socket.localPort}`;
  const remote = `${socket.remoteAddress}:${socket.remotePort}`;
  d.events.emit({
    kind: 'tcp.connect',
    trace,
    peer: remote,
    summary: `TCP connection ${id}: ${local} → ${remote} (three-way handshake in ${connectMs.toFixed(1)} ms)`,
    data: {
      connection: id,
      src: socket.localAddress,
      sport: socket.localPort,
      dst: socket.remoteAddress,
      dport: socket.remotePort,
      ms: Math.round(connectMs * 100) / 100,
    },
  });
  socket.once('close', (hadError) =>
    d.events.emit({
      kind: 'tcp.close',
      peer: remote,
      summary: `connection ${id} ${local} → ${remote} closed${hadError ? ' with an error' : ' (FIN)'}`,
      data: { connection: id, src: local, dst: remote, error: hadError },
    }),
  );
  return {
    id,
    local,
    remote,
    alpn: 'http/1.1',
    dns: 0,
    connect: connectMs,
    ssl: -1,
    used: false,
    ports: { local: socket.localPort, remote: socket.remotePort },
  };
}

/** JOURNEY 19–20: TLS over the connected socket; a failure is told, and the socket dropped. */
async function handshake<S extends JobSocket>(
  d: ConnectJobDeps<S>,
  socket: S,
  host: string,
  alpn: string[],
  conn: ConnInfo,
  trace?: string,
): Promise<TlsResult<S>> {
  let tls: TlsResult<S>;
  try {
    tls = await d.connector.tls(socket, host, alpn);
  } catch (err) {
    socket.destroy();
    const e = err as NetError;
    d.events.emit({
      kind: 'tls.handshake',
      trace,
      peer: conn.remote,
      summary: `TLS with ${host} failed: ${e.code} (${e.message})`,
      data: { connection: conn.id, sni: host, error: e.code, detail: e.message },
    });
    throw err;
  }
  d.events.emit({
    kind: 'tls.handshake',
    trace,
    peer: conn.remote,
    summary: `TLS ${tls.version} with ${host} on connection ${conn.id}: ${tls.cipher}, ALPN ${tls.alpn}, certificate for ${tls.peer.subjectaltname} from ${tls.peer.issuer?.CN}${tls.stapled ? ', OCSP stapled' : ''}`,
    data: {
      connection: conn.id,
      sni: host,
      version: tls.version,
      cipher: tls.cipher,
      alpn: tls.alpn,
      stapled: !!tls.stapled,
      subject: tls.peer.subjectaltname,
      issuer: tls.peer.issuer?.CN,
      validTo: tls.peer.valid_to,
      ms: Math.round(tls.ms * 100) / 100,
    },
  });
  return tls;
}
