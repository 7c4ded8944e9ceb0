// JOURNEY 13–15, 19–20: the socket steps of a connection — happy eyeballs over the addresses
// (RFC 8305), the TCP handshake from an ephemeral port, then TLS with SNI and ALPN, the chain checked
// against the lab's root only. `socketConnector` is the real connector the connect job
// (connect-job.ts) is given; tests give it another.
import { isIPv6, type Socket, connect as tcpConnect } from 'node:net';
import {
  type ConnectionOptions,
  type DetailedPeerCertificate,
  type TLSSocket,
  connect as tlsConnect,
} from 'node:tls';

export const CONNECTION_ATTEMPT_DELAY_MS = 250; // RFC 8305 §5
export const CONNECT_TIMEOUT_MS = 10_000;
/** a server (or a middlebox) that takes the ClientHello and never answers must not hold the page */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

export class NetError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly step: string,
  ) {
    super(message);
  }
}

export interface Attempt {
  address: string;
  startedAt: number;
  outcome: 'won' | 'failed' | 'abandoned' | 'timeout';
  error?: string;
}

/** RFC 8305 §4: interleave families, IPv6 first. */
export function sortAddresses(v6: string[], v4: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < Math.max(v6.length, v4.length); i++) {
    if (v6[i]) out.push(v6[i]);
    if (v4[i]) out.push(v4[i]);
  }
  return out;
}

/** What a connection attempt is to happy eyeballs: a socket that connects or fails, or is dropped. */
export interface Dialled {
  once(event: 'connect', listener: () => void): this;
  once(event: 'error', listener: (err: NodeJS.ErrnoException) => void): this;
  destroy(): this;
}

/** Races connection attempts, a new one every 250 ms or as soon as one fails; the first to connect wins. */
export function happyEyeballs<S extends Dialled>(
  addresses: string[],
  port: number,
  dial: (address: string, port: number) => S,
  onAttempt: (a: Attempt) => void,
): Promise<{ socket: S; attempts: Attempt[] }> {
  return new Promise((resolve, reject) => {
    const attempts: Attempt[] = [];
    const sockets: S[] = [];
    let next = 0;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const overall = setTimeout(
      () =>
        finishFail(
          new NetError(
            'ERR_CONNECTION_TIMED_OUT',
            `no address of ${addresses.join(', ')} answered in ${CONNECT_TIMEOUT_MS / 1000} s`,
            'tcp.connect',
          ),
        ),
      CONNECT_TIMEOUT_MS,
    );
    const finishFail = (err: NetError) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(overall);
      for (const s of sockets) s.destroy();
      for (const a of attempts) if (a.outcome === 'abandoned') onAttempt({ ...a, outcome: 'timeout' });
      reject(err);
    };
    const start = () => {
      if (done || next >= addresses.length) return;
      const address = addresses[next++];
      const attempt: Attempt = { address, startedAt: Date.now(), outcome: 'abandoned' };
      attempts.push(attempt);
      const s = dial(address, port);
      sockets.push(s);
      s.once('connect', () => {
        if (done) return void s.destroy();
        done = true;
        clearTimeout(timer);
        clearTimeout(overall);
        attempt.outcome = 'won';
        onAttempt(attempt);
        for (const o of sockets) if (o !== s) o.destroy();
        for (const a of attempts) if (a !== attempt && a.outcome === 'abandoned') onAttempt(a);
        resolve({ socket: s, attempts });
      });
      s.once('error', (err: NodeJS.ErrnoException) => {
        attempt.outcome = 'failed';
        attempt.error = err.code ?? err.message;
        onAttempt(attempt);
        if (done) return;
        if (attempts.every((a) => a.outcome === 'failed') && next >= addresses.length) {
          const refused = attempts.some((a) => a.error === 'ECONNREFUSED');
          finishFail(
            new NetError(
              refused
                ? 'ERR_CONNECTION_REFUSED'
                : err.code === 'ECONNRESET'
                  ? 'ERR_CONNECTION_RESET'
                  : 'ERR_CONNECTION_FAILED',
              `${attempts.map((a) => `${a.address}: ${a.error}`).join('; ')}`,
              'tcp.connect',
            ),
          );
          return;
        }
        clearTimeout(timer);
        start(); // a failure starts the next attempt at once (RFC 8305 §5)
      });
      timer = setTimeout(start, CONNECTION_ATTEMPT_DELAY_MS);
    };
    if (!addresses.length) return finishFail(new NetError('ERR_NAME_NOT_RESOLVED', 'no addresses', 'dns'));
    start();
  });
}

export interface TlsResult<S = TLSSocket> {
  socket: S;
  alpn: string;
  version: string;
  cipher: string;
  stapled?: Buffer;
  peer: DetailedPeerCertificate;
  ms: number;
}

const TLS_ERRORS: Readonly<Record<string, string>> = {
  CERT_HAS_EXPIRED: 'ERR_CERT_DATE_INVALID',
  CERT_NOT_YET_VALID: 'ERR_CERT_DATE_INVALID',
  ERR_TLS_CERT_ALTNAME_INVALID: 'ERR_CERT_COMMON_NAME_INVALID',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'ERR_CERT_AUTHORITY_INVALID',
  UNABLE_TO_GET_ISSUER_CERT: 'ERR_CERT_AUTHORITY_INVALID',
  SELF_SIGNED_CERT_IN_CHAIN: 'ERR_CERT_AUTHORITY_INVALID',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'ERR_CERT_AUTHORITY_INVALID',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'ERR_CERT_AUTHORITY_INVALID',
  ERR_SSL_WRONG_VERSION_NUMBER: 'ERR_SSL_PROTOCOL_ERROR',
  ECONNRESET: 'ERR_CONNECTION_RESET',
};

export function tlsHandshake(
  socket: Socket,
  host: string,
  opts: { ca: string; alpn: string[]; onKeylog(line: Buffer): void; timeoutMs?: number },
): Promise<TlsResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const timeoutMs = opts.timeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS;
    const deadline = setTimeout(() => {
      s.destroy();
      reject(
        new NetError('ERR_TIMED_OUT', `no TLS handshake from ${host} in ${timeoutMs} ms`, 'tls.handshake'),
      );
    }, timeoutMs);
    let stapled: Buffer | undefined;
    // requestOCSP (status_request, RFC 6066) is a tls.connect option the typings lack
    const options = {
      socket,
      servername: host,
      ALPNProtocols: opts.alpn,
      ca: opts.ca,
      requestOCSP: true,
      minVersion: 'TLSv1.2',
    } as ConnectionOptions;
    const s = tlsConnect(options);
    s.on('keylog', opts.onKeylog);
    s.once('OCSPResponse', (r: Buffer) => {
      stapled = r;
    });
    s.once('secureConnect', () => {
      clearTimeout(deadline);
      const c = s.getCipher();
      resolve({
        socket: s,
        alpn: s.alpnProtocol || 'http/1.1',
        version: s.getProtocol() ?? '?',
        cipher: c.standardName ?? c.name,
        stapled,
        peer: s.getPeerCertificate(true),
        ms: performance.now() - t0,
      });
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(deadline);
      const code =
        TLS_ERRORS[err.code ?? ''] ??
        (err.code?.startsWith('ERR_SSL') ? 'ERR_SSL_PROTOCOL_ERROR' : 'ERR_CERT_INVALID');
      reject(new NetError(code, `${err.code}: ${err.message}`, 'tls.handshake'));
    });
  });
}

/** The real connector: TCP from the browser's own address, TLS trusting only the lab's root. */
export function socketConnector(c: {
  source(family: 4 | 6): string | undefined;
  caPem(): Promise<string>;
  keylog(line: Buffer): void;
  tlsTimeoutMs?: number;
}) {
  return {
    dial: (address: string, port: number): Socket =>
      tcpConnect({
        host: address,
        port,
        localAddress: c.source(isIPv6(address) ? 6 : 4),
        family: isIPv6(address) ? 6 : 4,
      }),
    tls: async (socket: Socket, host: string, alpn: string[]): Promise<TlsResult<Socket>> =>
      tlsHandshake(socket, host, {
        ca: await c.caPem(),
        alpn,
        onKeylog: c.keylog,
        timeoutMs: c.tlsTimeoutMs,
      }),
  };
}
