// The browser's network stack for one origin at a time: name resolution, connections (a pool of at
// most six for HTTP/1.1, one for h2), TLS, and requests. Every step emits its event.
import { createHash } from 'node:crypto';
import { Agent, request as h1Request } from 'node:http';
import { type ClientHttp2Session, connect as h2Connect, constants as h2constants } from 'node:http2';
import { isIP, isIPv6, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { Emitter } from '../common/events.js';
import {
  checkRevocation,
  happyEyeballs,
  NetError,
  sortAddresses,
  type TlsResult,
  tlsHandshake,
} from './connect.js';
import type { BrowserEvent } from './events.js';
import { wasReset } from './peer-reset.js';
import {
  addressesOf,
  candidates,
  DnsError,
  describeAnswer,
  type ResolvConf,
  readHostsFile,
  stubQuery,
} from './resolve.js';
import { RESOLVER_TLS_NAME, type SecureDns, type SecureDnsMode } from './secure-dns.js';

export const MAX_H1_CONNECTIONS = 6; // per origin, as Chrome
const DNS_CACHE_CAP_S = 60; // Chrome's host cache caps TTLs at a minute
const RESOLUTION_DELAY_MS = 50; // RFC 8305 §3
/** silence while waiting for response headers or the next bytes of a body: then ERR_TIMED_OUT */
export const RESPONSE_IDLE_TIMEOUT_MS = 30_000;

export interface EngineConfig {
  events: Emitter<BrowserEvent>;
  hostsPath: string;
  resolvConf: () => ResolvConf;
  dnsPort: number;
  /** the browser's own address of a family (outgoing sockets bind to it) */
  source(family: 4 | 6): string | undefined;
  caPem: () => Promise<string>;
  keylog(line: Buffer): void;
  fetchOcsp(url: string, body: Buffer): Promise<Buffer>;
  hardFailRevocation: boolean;
  http1Only: boolean;
  /** secure DNS: questions to the resolver over DoT or DoH, on this port (default: UDP, as resolv.conf says) */
  secureDns?: { mode: SecureDnsMode; port: number };
  /** deadlines of the network steps (tests make them short) */
  timeouts?: { tlsMs?: number; responseIdleMs?: number };
}

export interface Resolved {
  addresses: string[];
  source: 'cache' | 'hosts' | 'dns' | 'literal';
  ms: number;
}

export interface ConnInfo {
  id: string;
  local: string;
  remote: string;
  alpn: string;
  dns: number;
  connect: number;
  ssl: number;
  used: boolean;
}

interface Origin {
  key: string;
  scheme: 'http:' | 'https:';
  host: string;
  port: number;
  agent?: Agent;
  session?: Promise<{ session: ClientHttp2Session; conn: ConnInfo; socket?: Socket }>;
  first?: Promise<{ socket: Socket; conn: ConnInfo }>;
  sockets: Set<Socket>;
  /** HTTP/1.1: requests in flight, and those waiting for one of the six connections */
  active: number;
  waiting: (() => void)[];
}

export interface Response {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  rawHeaders: [string, string][];
  body: Buffer;
  httpVersion: string;
  conn: ConnInfo;
  send: number;
  wait: number;
  receive: number;
}

const dnsCache = new Map<string, { addresses: string[]; expires: number }>();
let connCounter = 0;

export class Engine {
  private readonly origins = new Map<string, Origin>();
  private readonly revocations = new Map<string, Awaited<ReturnType<typeof checkRevocation>>>();
  constructor(private readonly c: EngineConfig) {}

  /** JOURNEY 5–7: browser DNS cache → hosts file → stub resolver (A and AAAA in parallel). */
  async resolve(host: string, trace?: string): Promise<Resolved> {
    const ev = this.c.events;
    const t0 = performance.now();
    if (isIP(host)) return { addresses: [host], source: 'literal', ms: 0 };
    const cached = dnsCache.get(host);
    if (cached && cached.expires > Date.now()) {
      ev.emit({
        kind: 'dns.cache',
        trace,
        summary: `${host} is in the browser's DNS cache: ${cached.addresses.join(', ')}`,
        data: {
          name: host,
          addresses: cached.addresses,
          ttl: Math.round((cached.expires - Date.now()) / 1000),
        },
      });
      return { addresses: cached.addresses, source: 'cache', ms: performance.now() - t0 };
    }
    const hosts = readHostsFile(this.c.hostsPath).get(host.toLowerCase());
    if (hosts?.length) {
      ev.emit({
        kind: 'dns.hosts',
        trace,
        summary: `${host} is in the hosts file: ${hosts.join(', ')} (no DNS query)`,
        data: { name: host, addresses: hosts, file: this.c.hostsPath },
      });
      return { addresses: hosts, source: 'hosts', ms: performance.now() - t0 };
    }
    const conf = this.c.resolvConf();
    const secure: SecureDns | undefined = this.c.secureDns && {
      ...this.c.secureDns,
      servername: RESOLVER_TLS_NAME,
      ca: await this.c.caPem(),
      keylog: (line: Buffer) => this.c.keylog(line),
    };
    const sourceFor = (server: string) =>
      this.c.source(isIPv6(server) ? 6 : 4) ?? (isIPv6(server) ? '::' : '0.0.0.0');
    for (const name of candidates(host, conf)) {
      const ask = (type: 'A' | 'AAAA') =>
        stubQuery(conf, this.c.dnsPort, sourceFor, name, type, secure).then((a) => {
          const got = addressesOf(a.records, type);
          ev.emit({
            kind: 'dns.stub',
            trace,
            peer: `${a.server}:${secure?.port ?? this.c.dnsPort}`,
            summary: `asks ${a.server} (from resolv.conf) for ${name} ${type}: ${a.rcode === 3 ? 'NXDOMAIN' : got.addresses.join(', ') || 'no address'}${got.chain.length ? ` via ${got.chain.join(', ')}` : ''} in ${a.ms.toFixed(1)} ms`,
            data: {
              name,
              type,
              server: a.server,
              local: a.local,
              transport: a.transport,
              rcode: a.rcode,
              addresses: got.addresses,
              cname: got.chain,
              ttl: got.ttl,
              ms: Math.round(a.ms * 100) / 100,
            },
          });
          return { ...got, rcode: a.rcode };
        });
      const v4 = ask('A');
      const v6 = this.c.source(6)
        ? ask('AAAA')
        : Promise.resolve({ addresses: [] as string[], ttl: 0, chain: [], rcode: 0 });
      let a4: Awaited<typeof v4> | undefined;
      let a6: Awaited<typeof v6> | undefined;
      let failed4: DnsError | undefined;
      try {
        a4 = await v4;
      } catch (err) {
        if (!(err instanceof DnsError)) throw err;
        failed4 = err;
      }
      // RFC 8305 §3: once A is in, wait up to 50 ms more for AAAA
      a6 = await Promise.race([
        v6.catch(() => undefined),
        new Promise<undefined>((r) => setTimeout(r, a4 ? RESOLUTION_DELAY_MS : 10_000)),
      ]);
      const addresses = sortAddresses(a6?.addresses ?? [], a4?.addresses ?? []);
      if (addresses.length) {
        const ttl = Math.min(
          ...[a4, a6].filter((x) => x?.addresses.length).map((x) => x?.ttl ?? 0),
          DNS_CACHE_CAP_S,
        );
        if (ttl > 0) dnsCache.set(host, { addresses, expires: Date.now() + ttl * 1000 });
        return { addresses, source: 'dns', ms: performance.now() - t0 };
      }
      // no A answer, and no AAAA answer either (or none asked): the resolver failed us
      if (!a4 && (!a6 || !this.c.source(6))) {
        // it did answer, with an error: say which, with its EDE text (as net-internals does)
        const failed6 = a6
          ? undefined
          : await v6.then(
              () => undefined,
              (e: unknown) => e,
            );
        const failed = [failed4, failed6].find((e): e is DnsError => e instanceof DnsError && !!e.answered);
        if (failed?.answered)
          throw new NetError(
            'ERR_NAME_NOT_RESOLVED',
            `the resolver ${failed.answered.server} answered ${describeAnswer(failed.answered)} for ${name}`,
            'dns',
          );
        throw new NetError('ERR_NAME_NOT_RESOLVED', `the resolver did not answer for ${host}`, 'dns');
      }
    }
    throw new NetError('ERR_NAME_NOT_RESOLVED', `${host} does not exist (NXDOMAIN or no address)`, 'dns');
  }

  /** JOURNEY 13–15, 19–21: a new connection to an origin, TLS checked, revocation asked. */
  private async open(
    o: Origin,
    trace?: string,
    alpn = ['h2', 'http/1.1'],
  ): Promise<{ socket: Socket; conn: ConnInfo }> {
    const ev = this.c.events;
    const resolved = await this.resolve(o.host, trace);
    const t1 = performance.now();
    const { socket } = await happyEyeballs(
      resolved.addresses,
      o.port,
      (a) => this.c.source(isIPv6(a) ? 6 : 4),
      (a) =>
        ev.emit({
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
        }),
    );
    const connectMs = performance.now() - t1;
    const id = String(++connCounter);
    const local = `${socket.localAddress}:${socket.localPort}`;
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    ev.emit({
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
      ev.emit({
        kind: 'tcp.close',
        peer: remote,
        summary: `connection ${id} ${local} → ${remote} closed${hadError ? ' with an error' : ' (FIN)'}`,
        data: { connection: id, src: local, dst: remote, error: hadError },
      }),
    );
    const conn: ConnInfo = {
      id,
      local,
      remote,
      alpn: 'http/1.1',
      dns: resolved.source === 'dns' ? resolved.ms : 0,
      connect: connectMs,
      ssl: -1,
      used: false,
    };
    if (o.scheme === 'http:') return { socket, conn };
    let tls: TlsResult;
    try {
      tls = await tlsHandshake(socket, o.host, {
        ca: await this.c.caPem(),
        alpn: this.c.http1Only ? ['http/1.1'] : alpn,
        onKeylog: this.c.keylog,
        timeoutMs: this.c.timeouts?.tlsMs,
      });
    } catch (err) {
      socket.destroy();
      const e = err as NetError;
      ev.emit({
        kind: 'tls.handshake',
        trace,
        peer: remote,
        summary: `TLS with ${o.host} failed: ${e.code} (${e.message})`,
        data: { connection: id, sni: o.host, error: e.code, detail: e.message },
      });
      throw err;
    }
    conn.ssl = tls.ms;
    conn.connect += tls.ms;
    conn.alpn = tls.alpn;
    ev.emit({
      kind: 'tls.handshake',
      trace,
      peer: remote,
      summary: `TLS ${tls.version} with ${o.host} on connection ${id}: ${tls.cipher}, ALPN ${tls.alpn}, certificate for ${tls.peer.subjectaltname} from ${tls.peer.issuer?.CN}${tls.stapled ? ', OCSP stapled' : ''}`,
      data: {
        connection: id,
        sni: o.host,
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
    // one answer per certificate and page load, as browsers cache OCSP responses
    const fp = tls.peer.fingerprint256;
    const tRev = performance.now();
    // a stapled answer already verified (same certificate, same bytes) is not verified again
    const stapleKey = tls.stapled && `${fp}/${createHash('sha256').update(tls.stapled).digest('hex')}`;
    let rev =
      this.revocations.get(fp) ?? (stapleKey ? verifiedStaples.get(stapleKey, Date.now()) : undefined);
    if (!rev) {
      rev = await checkRevocation(tls, this.c.fetchOcsp);
      if (stapleKey && rev.source === 'stapled') verifiedStaples.set(stapleKey, rev, Date.now());
    }
    this.revocations.set(fp, rev);
    // certificate verification is part of DevTools' "ssl" phase
    const revMs = performance.now() - tRev;
    conn.ssl += revMs;
    conn.connect += revMs;
    ev.emit({
      kind: 'ocsp.check',
      trace,
      summary: `revocation of ${o.host}'s certificate: ${rev.status} (${rev.source}; ${rev.detail})`,
      data: { host: o.host, status: rev.status, source: rev.source, detail: rev.detail },
    });
    if (rev.status === 'revoked' || (this.c.hardFailRevocation && rev.status !== 'good')) {
      tls.socket.destroy();
      throw new NetError(
        rev.status === 'revoked' ? 'ERR_CERT_REVOKED' : 'ERR_CERT_UNABLE_TO_CHECK_REVOCATION',
        `${o.host}: ${rev.detail}`,
        'ocsp.check',
      );
    }
    return { socket: tls.socket, conn };
  }

  private origin(u: URL): Origin {
    const key = `${u.protocol}//${u.host}`;
    let o = this.origins.get(key);
    if (!o) {
      o = {
        key,
        scheme: u.protocol as Origin['scheme'],
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
        sockets: new Set(),
        active: 0,
        waiting: [],
      };
      this.origins.set(key, o);
    }
    return o;
  }

  /** One HTTP request: h2 when the origin's first connection negotiated it, else the HTTP/1.1 pool. */
  async request(
    u: URL,
    method: string,
    headers: Record<string, string>,
    trace?: string,
    onSend: () => void = () => {},
  ): Promise<Response> {
    const o = this.origin(u);
    if (!o.first && !o.agent && !o.session) o.first = this.open(o, trace);
    if (o.first) {
      const first = await o.first;
      if (first.conn.alpn === 'h2') {
        o.session ??= Promise.resolve(this.h2Session(o, first));
        o.first = undefined;
      } else if (!o.agent) {
        o.agent = this.h1Agent(o, first, trace);
        o.first = undefined;
      }
    }
    if (o.session) return this.h2Request(await o.session, u, method, headers, onSend);
    // JOURNEY 16: at most six connections per origin; a seventh request queues for a free one
    if (o.active >= MAX_H1_CONNECTIONS) await new Promise<void>((r) => o.waiting.push(r));
    o.active++;
    try {
      return await this.h1Request(o, u, method, headers, onSend);
    } finally {
      o.active--;
      o.waiting.shift()?.();
    }
  }

  private h2Session(o: Origin, first: { socket: Socket; conn: ConnInfo }) {
    const session = h2Connect(`${o.scheme}//${o.host}:${o.port}`, {
      createConnection: () => first.socket as TLSSocket,
    });
    // a reset (e.g. a censor's forged RST) after the handshake: remembered, so requests fail with it
    session.on('error', (err: NodeJS.ErrnoException) => sessionErrors.set(session, err));
    first.socket.on('error', (err: NodeJS.ErrnoException) => sessionErrors.set(session, err));
    o.sockets.add(first.socket);
    return { session, conn: first.conn, socket: first.socket };
  }

  private h1Agent(o: Origin, first: { socket: Socket; conn: ConnInfo }, trace?: string): Agent {
    let spare: { socket: Socket; conn: ConnInfo } | undefined = first;
    const conns = new WeakMap<Socket, ConnInfo>();
    const agent = new Agent({
      keepAlive: true,
      maxSockets: MAX_H1_CONNECTIONS,
      maxFreeSockets: MAX_H1_CONNECTIONS,
      scheduling: 'fifo',
    });
    // the pool opens its own connections: DNS (cached by now), happy eyeballs, TLS — up to six
    (
      agent as unknown as {
        createConnection: (opts: unknown, cb: (err: Error | null, s?: Socket) => void) => undefined;
      }
    ).createConnection = (_opts, cb) => {
      const take = spare ? Promise.resolve(spare) : this.open(o, trace, ['http/1.1']);
      spare = undefined;
      take.then(
        (c) => {
          conns.set(c.socket, c.conn);
          o.sockets.add(c.socket);
          cb(null, c.socket);
        },
        (err) => cb(err),
      );
      return undefined;
    };
    (agent as unknown as { connOf: WeakMap<Socket, ConnInfo> }).connOf = conns;
    return agent;
  }

  private h1Request(
    o: Origin,
    u: URL,
    method: string,
    headers: Record<string, string>,
    onSend: () => void,
  ): Promise<Response> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      let tSent = 0;
      let tFirst = 0;
      const req = h1Request({
        host: o.host,
        port: o.port,
        method,
        path: `${u.pathname}${u.search}`,
        headers: { host: u.host, ...headers },
        agent: o.agent,
      });
      // the socket is assigned once the connection (TCP, TLS, revocation check) is up: now it is sent
      req.once('socket', () => onSend());
      // no bytes for this long, waiting for the headers or inside the body: give up as Chrome does
      const idleMs = this.c.timeouts?.responseIdleMs ?? RESPONSE_IDLE_TIMEOUT_MS;
      let timedOut: NetError | undefined;
      req.setTimeout(idleMs, () => {
        timedOut = new NetError(
          'ERR_TIMED_OUT',
          `no ${tFirst ? 'more of the body' : 'response'} from ${u.host} in ${idleMs} ms`,
          'http.response',
        );
        reject(timedOut);
        req.destroy(timedOut);
      });
      req.once('finish', () => {
        tSent = performance.now();
      });
      req.on('response', (res) => {
        tFirst = performance.now();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new NetError('ERR_CONNECTION_RESET', err.message, 'http.response')));
        res.on('aborted', () =>
          reject(
            timedOut ??
              new NetError('ERR_CONTENT_LENGTH_MISMATCH', 'the response was cut short', 'http.response'),
          ),
        );
        res.on('end', () => {
          const conn = (o.agent as unknown as { connOf: WeakMap<Socket, ConnInfo> }).connOf.get(
            req.socket as Socket,
          ) as ConnInfo;
          const fresh = !conn.used;
          conn.used = true;
          const raw: [string, string][] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2)
            raw.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            headers: flatten(res.headers),
            rawHeaders: raw,
            body: decode(Buffer.concat(chunks), res.headers['content-encoding']),
            httpVersion: `HTTP/${res.httpVersion}`,
            conn: fresh ? conn : { ...conn, dns: -1, connect: -1, ssl: -1 },
            send: Math.max(0, (tSent || tFirst) - t0),
            wait: Math.max(0, tFirst - (tSent || t0)),
            receive: performance.now() - tFirst,
          });
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(
          err instanceof NetError
            ? err
            : new NetError(
                h1ErrorCode(err.code),
                err.message,
                err.code?.startsWith('HPE_') ? 'http.response' : 'http.request',
              ),
        ),
      );
      req.end();
    });
  }

  private h2Request(
    s: { session: ClientHttp2Session; conn: ConnInfo; socket?: Socket },
    u: URL,
    method: string,
    headers: Record<string, string>,
    onSend: () => void,
  ): Promise<Response> {
    return new Promise((resolve, reject) => {
      const gone = () => {
        const err =
          sessionErrors.get(s.session) ?? (s.socket?.errored as NodeJS.ErrnoException | null) ?? undefined;
        return new NetError(
          err?.code === 'ECONNRESET' || wasReset(s.socket) ? 'ERR_CONNECTION_RESET' : 'ERR_CONNECTION_CLOSED',
          `the HTTP/2 connection ended before the response${err ? ` (${err.code ?? err.message})` : wasReset(s.socket) ? ' (reset by the peer)' : ''}`,
          'http.response',
        );
      };
      if (s.session.destroyed || s.session.closed || s.socket?.destroyed) return reject(gone());
      onSend();
      const t0 = performance.now();
      const fresh = !s.conn.used;
      s.conn.used = true;
      const stream = s.session.request({
        ':method': method,
        ':path': `${u.pathname}${u.search}`,
        ':authority': u.host,
        ':scheme': u.protocol.replace(':', ''),
        ...headers,
      });
      let tFirst = 0;
      const chunks: Buffer[] = [];
      let head: Record<string, string | string[] | number | undefined> = {};
      // no frame on this stream for this long: cancel it (RST_STREAM, RFC 9113 §8.4) and give up
      const idleMs = this.c.timeouts?.responseIdleMs ?? RESPONSE_IDLE_TIMEOUT_MS;
      stream.setTimeout(idleMs, () => {
        reject(
          new NetError(
            'ERR_TIMED_OUT',
            `no ${tFirst ? 'more of the body' : 'response'} from ${u.host} in ${idleMs} ms`,
            'http.response',
          ),
        );
        stream.close(h2constants.NGHTTP2_CANCEL);
      });
      stream.on('response', (h) => {
        tFirst = performance.now();
        head = h as typeof head;
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (err) =>
        reject(
          sessionErrors.has(s.session)
            ? gone()
            : new NetError('ERR_HTTP2_PROTOCOL_ERROR', err.message, 'http.response'),
        ),
      );
      stream.on('close', () => {
        if (!tFirst) reject(gone()); // closed with no response: the session died under it
      });
      stream.on('end', () => {
        const status = Number(head[':status'] ?? 0);
        const h: Record<string, string> = {};
        const raw: [string, string][] = [];
        for (const [k, v] of Object.entries(head)) {
          if (k.startsWith(':') || v === undefined) continue;
          h[k] = Array.isArray(v) ? (k === 'set-cookie' ? v.join('\n') : v.join(', ')) : String(v);
          for (const one of Array.isArray(v) ? v : [String(v)]) raw.push([k, one]);
        }
        resolve({
          status,
          statusText: '',
          headers: h,
          rawHeaders: raw,
          body: decode(Buffer.concat(chunks), h['content-encoding']),
          httpVersion: 'HTTP/2',
          conn: fresh ? s.conn : { ...s.conn, dns: -1, connect: -1, ssl: -1 },
          send: 0,
          wait: tFirst - t0,
          receive: performance.now() - tFirst,
        });
      });
      stream.end();
    });
  }

  /** JOURNEY 36: close every connection: TLS close_notify and FIN, or GOAWAY for h2. */
  async closeAll(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const o of this.origins.values()) {
      if (o.session) {
        const { session } = await o.session.catch(() => ({ session: undefined }));
        if (session && !session.closed)
          waits.push(
            new Promise((r) => {
              session.close(() => r());
              // a stream still open (a stalled response) must not keep the page from ending
              setTimeout(() => {
                session.destroy();
                r();
              }, 2000).unref();
            }),
          );
      }
      for (const s of o.sockets) {
        if (s.destroyed) continue;
        waits.push(
          new Promise((r) => {
            s.once('close', () => r());
            s.end();
            setTimeout(() => {
              s.destroy();
              r();
            }, 2000).unref();
          }),
        );
      }
      o.agent?.destroy();
    }
    const first = [...this.origins.values()].map((o) => o.first).filter(Boolean);
    for (const f of first)
      await f?.then(
        (c) => c.socket.end(),
        () => {},
      );
    this.origins.clear();
    await Promise.all(waits);
  }
}

function flatten(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h))
    if (v !== undefined) out[k] = Array.isArray(v) ? (k === 'set-cookie' ? v.join('\n') : v.join(', ')) : v;
  return out;
}

function decode(body: Buffer, encoding: string | string[] | undefined): Buffer {
  try {
    if (encoding === 'gzip') return gunzipSync(body);
    if (encoding === 'br') return brotliDecompressSync(body);
    if (encoding === 'deflate') return inflateSync(body);
  } catch {
    throw new NetError(
      'ERR_CONTENT_DECODING_FAILED',
      `the ${encoding} body does not decode`,
      'http.response',
    );
  }
  return body;
}

/** Stapled OCSP verdicts already checked, for a few minutes (browsers cache OCSP answers too). */
const verifiedStaples = {
  entries: new Map<string, { rev: Awaited<ReturnType<typeof checkRevocation>>; until: number }>(),
  get(key: string, now: number) {
    const e = this.entries.get(key);
    return e && e.until > now ? e.rev : undefined;
  },
  set(key: string, rev: Awaited<ReturnType<typeof checkRevocation>>, now: number) {
    if (this.entries.size >= 100) this.entries.clear(); // bounded
    this.entries.set(key, { rev, until: now + 300_000 });
  },
};

export function clearVerifiedStaples(): void {
  verifiedStaples.entries.clear();
}

const sessionErrors = new WeakMap<ClientHttp2Session, NodeJS.ErrnoException>();

/** node's socket and llhttp parser codes → Chrome's net error names */
export function h1ErrorCode(code: string | undefined): string {
  if (code === 'ECONNRESET') return 'ERR_CONNECTION_RESET';
  if (code === 'HPE_INVALID_CHUNK_SIZE') return 'ERR_INVALID_CHUNKED_ENCODING';
  if (code?.startsWith('HPE_')) return 'ERR_INVALID_HTTP_RESPONSE';
  return 'ERR_FAILED';
}

export function clearDnsCache(): number {
  const n = dnsCache.size;
  dnsCache.clear();
  return n;
}
