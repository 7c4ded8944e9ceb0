// The browser's "secure DNS" (as Chrome's setting): its questions to the resolver over TLS (DoT,
// RFC 7858) or HTTPS (DoH, RFC 8484, HTTP/2 POST), so a censor on the path sees only TLS to the
// resolver. The resolver's certificate must name resolver.test and chain to the lab root.
import { connect as h2connect } from 'node:http2';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { decodeMessage, frameTcp, type Packet, TcpDeframer } from '../common/dns/codec.js';
import { DnsError } from './resolve.js';

export type SecureDnsMode = 'dot' | 'doh';
/** the name on the resolver's certificate (services/resolver/encrypted.ts) */
export const RESOLVER_TLS_NAME = 'resolver.test';

export interface SecureDns {
  mode: SecureDnsMode;
  /** the TLS name the resolver's certificate carries */
  servername: string;
  port: number;
  ca: string;
  /** NSS key log lines, so Wireshark decrypts the DoT and DoH in the run's capture too */
  keylog?: (line: Buffer) => void;
}

/** One DNS message to `server` over DoT or DoH; the answer's packet, or a DnsError. */
export function secureExchange(
  s: SecureDns,
  server: string,
  source: string,
  bytes: Buffer,
  timeoutMs: number,
): Promise<Packet> {
  return s.mode === 'dot'
    ? dot(s, server, source, bytes, timeoutMs)
    : doh(s, server, source, bytes, timeoutMs);
}

/** TLS to the resolver from the browser's own address, with the session keys in the key log. */
function connectTls(s: SecureDns, server: string, source: string, alpn: string) {
  const sock = tlsConnect({
    host: server,
    port: s.port,
    localAddress: source,
    servername: s.servername,
    ca: s.ca,
    ALPNProtocols: [alpn],
  } as ConnectionOptions); // localAddress goes on to net.connect: the browser's own address
  if (s.keylog) sock.on('keylog', s.keylog);
  return sock;
}

function dot(
  s: SecureDns,
  server: string,
  source: string,
  bytes: Buffer,
  timeoutMs: number,
): Promise<Packet> {
  return new Promise((resolve, reject) => {
    const sock = connectTls(s, server, source, 'dot'); // RFC 7858 §3.2
    const d = new TcpDeframer();
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new DnsError(`no DoT answer from ${server} in ${timeoutMs} ms`, 'ERR_DNS_TIMED_OUT'));
    }, timeoutMs);
    sock.on('secureConnect', () => sock.write(frameTcp(bytes)));
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(new DnsError(`DoT to ${server}: ${err.message}`, 'ERR_NAME_NOT_RESOLVED'));
    });
    sock.on('data', (c: Buffer) => {
      for (const m of d.push(c)) {
        clearTimeout(timer);
        sock.end();
        resolve(decodeMessage(m));
      }
    });
  });
}

function doh(
  s: SecureDns,
  server: string,
  source: string,
  bytes: Buffer,
  timeoutMs: number,
): Promise<Packet> {
  return new Promise((resolve, reject) => {
    const authority = `https://${s.servername}:${s.port}`;
    // the resolver's address is known (resolv.conf): no DNS lookup for the DoH server itself
    const session = h2connect(authority, {
      createConnection: () => connectTls(s, server, source, 'h2'), // RFC 8484 §5.2: HTTP/2
    });
    const fail = (err: Error) => {
      clearTimeout(timer);
      session.destroy();
      reject(
        err instanceof DnsError
          ? err
          : new DnsError(`DoH to ${server}: ${err.message}`, 'ERR_NAME_NOT_RESOLVED'),
      );
    };
    const timer = setTimeout(
      () => fail(new DnsError(`no DoH answer from ${server} in ${timeoutMs} ms`, 'ERR_DNS_TIMED_OUT')),
      timeoutMs,
    );
    session.on('error', fail);
    // RFC 8484 §4.1: POST /dns-query, the message as an application/dns-message body
    const req = session.request({
      ':method': 'POST',
      ':path': '/dns-query',
      'content-type': 'application/dns-message',
      accept: 'application/dns-message',
      'content-length': bytes.length,
    });
    const chunks: Buffer[] = [];
    let status = 0;
    req.on('response', (h) => {
      status = Number(h[':status']);
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', fail);
    req.on('end', () => {
      clearTimeout(timer);
      session.close();
      if (status !== 200)
        return reject(new DnsError(`DoH ${server} answered HTTP ${status}`, 'ERR_NAME_NOT_RESOLVED'));
      try {
        resolve(decodeMessage(Buffer.concat(chunks)));
      } catch (err) {
        reject(new DnsError(`DoH ${server}: ${(err as Error).message}`, 'ERR_NAME_NOT_RESOLVED'));
      }
    });
    req.end(bytes);
  });
}
