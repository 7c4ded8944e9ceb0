// DNS over UDP and TCP on node:dgram / node:net (RFC 1035 §4.2, RFC 7766): one handler for both,
// TCP with length framing, several queries a connection, an idle timeout and a connection cap that
// no client can exhaust: a full table makes room by closing the connection idle longest.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { hostAt, settingsFromEnv } from '../settings.js';
import {
  decodeMessage,
  encodeMessage,
  finishOpt,
  frameTcp,
  makeFlags,
  makeOpt,
  RCODE,
  scanMessage,
  TcpDeframer,
  truncateMessage,
  type WireOpt,
} from './codec.js';
import { type CookieCheck, CookieJar, EDNS_OPTION_COOKIE } from './cookies.js';

export interface DnsRequestMeta {
  address: string;
  port: number;
  transport: 'udp' | 'tcp';
}

/** Returns the answer's bytes, or undefined to stay silent. Must not throw; errors are the caller's to log. */
export type DnsHandler = (
  msg: Buffer,
  meta: DnsRequestMeta,
) => Promise<Buffer | undefined> | Buffer | undefined;

export interface DnsServer {
  listening: string[];
  /** TCP connections holding a slot now */
  tcpConnections(): number;
  close(): Promise<void>;
}

export interface TcpLimits {
  /** a connection with no query for this long is closed (RFC 7766 §6.2.3 suggests seconds, not minutes) */
  idleMs: number;
  /** after our FIN, how long a client may take to close its side before the socket is destroyed */
  graceMs: number;
  /** slots in all */
  max: number;
  /** slots one client address may hold (RFC 7766 §6.2.2: servers may limit per client) */
  perClient: number;
}

export interface DnsServerOptions {
  tcp?: TcpLimits;
  /** what NSID names (RFC 5001); by default the lab host at the first address */
  nsid?: string;
  cookies?: CookieJar;
  /** an answer the shared code gave without asking the handler (a bad COOKIE option) */
  onOwnAnswer?: (meta: DnsRequestMeta, rcode: number, why: string) => void;
}

/** RFC 5001 §2.3: the NSID option's code */
export const EDNS_OPTION_NSID = 3;

export const TCP_LIMITS: TcpLimits = { idleMs: 10_000, graceMs: 2_000, max: 256, perClient: 64 };
const MAX_TCP_MESSAGE = 65535;

/**
 * The TCP slot table. A connection is counted from accept until it is closed or reclaimed; when the
 * table (or one client's share) is full, the connection idle longest is closed to make room, so idle
 * or half-closed connections never lock out a new query (RFC 7766 §6.2.3: close idle connections
 * under resource pressure; NSD and unbound do the same).
 */
class TcpSlots {
  private readonly lastActive = new Map<Socket, number>();
  private readonly perClient = new Map<string, number>();

  constructor(private readonly limits: TcpLimits) {}

  get size(): number {
    return this.lastActive.size;
  }

  admit(sock: Socket, client: string): void {
    if (this.lastActive.size >= this.limits.max) this.reclaimOldest();
    if ((this.perClient.get(client) ?? 0) >= this.limits.perClient) this.reclaimOldest(client);
    this.lastActive.set(sock, performance.now());
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
  }

  touch(sock: Socket): void {
    if (this.lastActive.has(sock)) this.lastActive.set(sock, performance.now());
  }

  /** Frees the slot (once); the socket itself is closed by the caller. */
  release(sock: Socket): void {
    if (!this.lastActive.delete(sock)) return;
    const client = sock.remoteAddress ?? '';
    const n = (this.perClient.get(client) ?? 1) - 1;
    if (n > 0) this.perClient.set(client, n);
    else this.perClient.delete(client);
  }

  sockets(): Socket[] {
    return [...this.lastActive.keys()];
  }

  private reclaimOldest(client?: string): void {
    let oldest: Socket | undefined;
    let oldestAt = Infinity;
    for (const [s, at] of this.lastActive) {
      if (client !== undefined && s.remoteAddress !== client) continue;
      if (at < oldestAt) [oldest, oldestAt] = [s, at];
    }
    if (!oldest) return;
    this.release(oldest);
    oldest.destroy();
  }
}

/** The query's OPT record; undefined without one, or with a malformed one (the handler answers FORMERR). */
function queryOpt(msg: Buffer): WireOpt | undefined {
  try {
    return scanMessage(msg).opt;
  } catch {
    return undefined;
  }
}

/** What a query's OPT asks of every lab DNS server, whatever its handler does. */
interface EdnsAsk {
  opt: WireOpt;
  /** RFC 5001 §2.1: NSID only to a client that sent an (empty) NSID option */
  nsid: boolean;
  cookie: CookieCheck;
}

/** A name for this server: the lab host at its address, else the machine's name. */
function defaultNsid(addresses: string[]): string {
  try {
    return hostAt(addresses[0], settingsFromEnv()) ?? hostname();
  } catch {
    return hostname();
  }
}

/** An error answer with the question and an OPT record, for the few the shared code gives itself. */
function errorAnswer(msg: Buffer, rcode: number): Buffer | undefined {
  let q: ReturnType<typeof decodeMessage>;
  try {
    q = decodeMessage(msg);
  } catch {
    return undefined; // the handler answers what cannot be decoded
  }
  const flags = q.flags ?? 0;
  return encodeMessage({
    id: q.id,
    type: 'response',
    flags: makeFlags({ opcode: (flags >> 11) & 0xf, rd: (flags & 0x100) !== 0, rcode }),
    questions: q.questions,
    additionals: [makeOpt({ rcode })],
  });
}

export async function startDnsServer(
  addresses: string[],
  port: number,
  handler: DnsHandler,
  onError: (where: string, err: unknown) => void,
  options: DnsServerOptions = {},
): Promise<DnsServer> {
  const limits = options.tcp ?? TCP_LIMITS;
  const nsid = Buffer.from(options.nsid ?? defaultNsid(addresses), 'utf8');
  const cookies = options.cookies ?? new CookieJar();
  const udps: UdpSocket[] = [];
  const tcps: Server[] = [];
  const slots = new TcpSlots(limits);
  const listening: string[] = [];
  const fail = (meta: DnsRequestMeta, err: unknown) => {
    onError(`dns ${meta.transport} from ${meta.address}`, err);
    return undefined;
  };
  const ednsAsk = (msg: Buffer, meta: DnsRequestMeta): EdnsAsk | undefined => {
    const opt = queryOpt(msg);
    if (!opt) return undefined;
    const cookie = opt.options.find((o) => o.code === EDNS_OPTION_COOKIE)?.data;
    return {
      opt,
      nsid: opt.options.some((o) => o.code === EDNS_OPTION_NSID),
      cookie: cookies.check(cookie, meta.address),
    };
  };

  /**
   * What every lab DNS server adds to an answer's OPT record: the DO bit copied from the query
   * (RFC 3225 §3), NSID if asked (RFC 5001), the client's cookie with a fresh server cookie
   * (RFC 7873 §5.2.3). Over UDP the result still fits the client's buffer, else it goes out
   * truncated (RFC 6891 §7).
   */
  const finishEdns = (out: Buffer, ask: EdnsAsk, meta: DnsRequestMeta): Buffer => {
    const options: { code: number; data: Buffer }[] = [];
    if (ask.nsid) options.push({ code: EDNS_OPTION_NSID, data: nsid });
    if ('client' in ask.cookie)
      options.push({ code: EDNS_OPTION_COOKIE, data: cookies.option(ask.cookie.client, meta.address) });
    const add = { do: ask.opt.do, options };
    const done = finishOpt(out, add);
    const limit = Math.min(Math.max(ask.opt.udpPayloadSize, 512), 4096);
    if (meta.transport === 'tcp' || done.length <= limit) return done;
    return finishOpt(truncateMessage(out), add);
  };

  /** RFC 7873 §5.2.2: a malformed COOKIE is a FORMERR; §5.2.4: a bad server cookie over UDP, BADCOOKIE. */
  const cookieRefusal = (msg: Buffer, ask: EdnsAsk, meta: DnsRequestMeta): Buffer | undefined => {
    const refuse = (rcode: number, why: string) => {
      const out = errorAnswer(msg, rcode);
      if (out) options.onOwnAnswer?.(meta, rcode, why);
      return out;
    };
    if (ask.cookie.kind === 'malformed')
      return refuse(RCODE.FORMERR, 'a COOKIE option of a length no cookie has');
    // over TCP the address is proven by the handshake: answered, with a fresh cookie (as BIND)
    if (ask.cookie.kind === 'invalid' && meta.transport === 'udp')
      return refuse(RCODE.BADCOOKIE, 'a server cookie this server did not make, or older than an hour');
    return undefined;
  };

  // a synchronous handler's answer is sent at once: no promise per packet on the hot path
  const reply = (msg: Buffer, meta: DnsRequestMeta, send: (out: Buffer) => void): void => {
    const ask = ednsAsk(msg, meta);
    const finish = (o: Buffer) => send(ask ? finishEdns(o, ask, meta) : o);
    const refusal = ask && cookieRefusal(msg, ask, meta);
    if (refusal) {
      finish(refusal);
      return;
    }
    let out: ReturnType<DnsHandler>;
    try {
      out = handler(msg, meta);
    } catch (err) {
      fail(meta, err);
      return;
    }
    if (out instanceof Promise) {
      out.then(
        (o) => o && finish(o),
        (err) => fail(meta, err),
      );
    } else if (out) finish(out);
  };
  for (const address of addresses) {
    const udp = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    udp.on('message', (msg, rinfo) => {
      reply(msg, { address: rinfo.address, port: rinfo.port, transport: 'udp' }, (out) =>
        udp.send(out, rinfo.port, rinfo.address),
      );
    });
    udp.on('error', (err) => onError('udp socket', err));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind({ address, port, exclusive: true }, () => {
        udp.off('error', reject);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      throw Object.assign(err, { address, port });
    });
    udps.push(udp);
    listening.push(`udp ${address.includes(':') ? `[${address}]` : address}:${port}`);

    const tcp = createServer((sock) => {
      if (!sock.remoteAddress) {
        sock.destroy(); // already gone
        return;
      }
      slots.admit(sock, sock.remoteAddress);
      const deframer = new TcpDeframer();
      // idle: send our FIN, free the slot, and destroy the socket if the client never closes its side
      // (a client that ignores the FIN would otherwise hold the slot forever in FIN-WAIT-2)
      sock.setTimeout(limits.idleMs, () => {
        slots.release(sock);
        sock.end();
        setTimeout(() => sock.destroy(), limits.graceMs).unref();
      });
      sock.on('close', () => slots.release(sock));
      sock.on('error', () => sock.destroy());
      sock.on('data', (chunk: Buffer) => {
        slots.touch(sock);
        for (const msg of deframer.push(chunk)) {
          reply(
            msg,
            { address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0, transport: 'tcp' },
            (out) => {
              if (!sock.destroyed && out.length <= MAX_TCP_MESSAGE) sock.write(frameTcp(out));
            },
          );
        }
        if (deframer.pending > MAX_TCP_MESSAGE + 2) sock.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', (err: NodeJS.ErrnoException) => reject(Object.assign(err, { address, port })));
      tcp.listen({ host: address, port, exclusive: true }, () => resolve());
    });
    tcp.on('error', (err) => onError('tcp server', err));
    tcps.push(tcp);
    listening.push(`tcp ${address.includes(':') ? `[${address}]` : address}:${port}`);
  }
  return {
    listening,
    tcpConnections: () => slots.size,
    close: async () => {
      const conns = slots.sockets();
      for (const c of conns) c.end();
      await Promise.all([
        ...udps.map((u) => new Promise<void>((r) => u.close(() => r()))),
        ...tcps.map(
          (t) =>
            new Promise<void>((r) => {
              t.close(() => r());
              setTimeout(() => {
                for (const c of conns) c.destroy();
              }, 1000).unref();
            }),
        ),
      ]);
    },
  };
}
