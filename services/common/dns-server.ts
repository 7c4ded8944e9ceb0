// DNS over UDP and TCP on node:dgram / node:net (RFC 1035 §4.2, RFC 7766): one handler for both,
// TCP with length framing, several queries a connection, an idle timeout and a connection cap.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { frameTcp, TcpDeframer } from './dns-codec.js';

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
  close(): Promise<void>;
}

const TCP_IDLE_MS = 10_000; // RFC 7766 §6.2.3 suggests seconds, not minutes
const MAX_TCP_CONNECTIONS = 256;
const MAX_TCP_MESSAGE = 65535;

export async function startDnsServer(
  addresses: string[],
  port: number,
  handler: DnsHandler,
  onError: (where: string, err: unknown) => void,
): Promise<DnsServer> {
  const udps: UdpSocket[] = [];
  const tcps: Server[] = [];
  const conns = new Set<Socket>();
  const listening: string[] = [];
  const fail = (meta: DnsRequestMeta, err: unknown) => {
    onError(`dns ${meta.transport} from ${meta.address}`, err);
    return undefined;
  };
  // a synchronous handler's answer is sent at once: no promise per packet on the hot path
  const reply = (msg: Buffer, meta: DnsRequestMeta, send: (out: Buffer) => void): void => {
    let out: ReturnType<DnsHandler>;
    try {
      out = handler(msg, meta);
    } catch (err) {
      fail(meta, err);
      return;
    }
    if (out instanceof Promise) {
      out.then(
        (o) => o && send(o),
        (err) => fail(meta, err),
      );
    } else if (out) send(out);
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
      if (conns.size >= MAX_TCP_CONNECTIONS) {
        sock.destroy();
        return;
      }
      conns.add(sock);
      const deframer = new TcpDeframer();
      sock.setTimeout(TCP_IDLE_MS, () => sock.end());
      sock.on('close', () => conns.delete(sock));
      sock.on('error', () => sock.destroy());
      sock.on('data', (chunk: Buffer) => {
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
    close: async () => {
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
