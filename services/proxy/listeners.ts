// The proxy's two listeners: port 443 (TLS 1.2/1.3, ALPN h2 and http/1.1, SNI, OCSP stapling,
// session resumption by tickets) and port 80 (plain HTTP/1.1). Both refuse malformed requests
// before anything reaches the backend (JOURNEY 19: the handshake; the smuggling list: 400).
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { Emitter } from '../common/events.js';
import { enableSessionIdResumption, SERVER_POLICY } from '../common/tls-policy.js';
import type { ProxyEvent } from './events.js';

export type Handler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  scheme: 'http' | 'https',
) => void;
export type UpgradeHandler = (
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  scheme: 'http' | 'https',
) => void;

export interface ListenerOptions {
  key: string;
  chain: string;
  contexts: Map<string, SecureContext>;
  /** the context for names with none of their own (follows renewals) */
  defaultContext(): SecureContext;
  /** the DER OCSP response to staple, if the CA gave one */
  staple(): Buffer | undefined;
  events: Emitter<ProxyEvent>;
  who(address: string): string;
  onRequest: Handler;
  onUpgrade: UpgradeHandler;
}

/** RFC 9112 §3: 8000 octets of request line at least; longer URIs get 414 on h1 and h2 alike */
export const MAX_URI = 8192;
/** The documented header limits, the same over h1 and h2: 16 kB of fields (llhttp's), 200 fields; 431 beyond */
export const MAX_HEADER_BYTES = 16_384;
export const MAX_HEADER_FIELDS = 200;

/**
 * HTTP/2's transport bounds, well above the documented limits: a request between the two reaches the
 * front end, which answers 431 on its stream (RFC 9113 §10.5.1), as HTTP/1.1 does. Beyond them Node
 * resets that stream (RST_STREAM ENHANCE_YOUR_CALM) and the connection goes on; they keep memory
 * bounded, since HPACK lets 1 byte on the wire stand for a 4 kB field already in its table.
 * - bytes: SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2, each field counted with 32 octets more);
 *   Node enforces it once the client acknowledged the SETTINGS, so a connection's first requests are
 *   bounded only by the fields and maxSessionMemory below.
 * - fields: every field HTTP/1.1 could fit in its 16 kB (4 octets each, "a:\r\n") gets a 431, not a
 *   reset; 4100 × 4 kB is the most one such request can decode to (16 MB), and each session's
 *   header memory counts against its maxSessionMemory.
 * nghttp2 itself ends the connection (GOAWAY) for one field over 64 kB once HPACK-encoded, or a
 * header block over 8 CONTINUATION frames (about 144 kB): no request of that size is answered.
 */
export const H2_MAX_HEADER_LIST_BYTES = 128 * 1024;
export const H2_MAX_HEADER_FIELDS = 4100;

/** RFC 9110 §15.5.20: why the header section is too large, or undefined. */
export function headerLimitReason(rawHeaders: string[]): string | undefined {
  if (rawHeaders.length / 2 > MAX_HEADER_FIELDS)
    return `${rawHeaders.length / 2} header fields (at most ${MAX_HEADER_FIELDS})`;
  let bytes = 0;
  for (const h of rawHeaders) bytes += h.length + 2;
  if (bytes > MAX_HEADER_BYTES) return `${bytes} bytes of header fields (at most ${MAX_HEADER_BYTES})`;
  return undefined;
}

// Node's HTTP/1 parser (llhttp) limits, the same on both ports
const HTTP1 = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  maxHeaderSize: MAX_HEADER_BYTES,
  // how often slow clients (slowloris) are checked against headersTimeout
  connectionsCheckingInterval: 1_000,
};

/** RFC 9112 §6.3 and §11.2: framing a proxy must refuse, as llhttp does (checked again here). */
export function smugglingReason(
  headers: Record<string, string | string[] | undefined>,
  rawHeaders: string[],
  httpVersion = '1.1',
): string | undefined {
  const cl = rawHeaders
    .filter((_, i) => i % 2 === 0)
    .filter((n) => n.toLowerCase() === 'content-length').length;
  if (cl > 1) return 'duplicate Content-Length';
  if (headers['transfer-encoding'] !== undefined && headers['content-length'] !== undefined)
    return 'Content-Length with Transfer-Encoding';
  const te = headers['transfer-encoding'];
  if (typeof te === 'string' && !/(^|,)\s*chunked\s*$/i.test(te))
    return `Transfer-Encoding "${te}" does not end in chunked`;
  // RFC 9112 §3.2: exactly one Host in an HTTP/1.1 request, else 400 (which Host would the app use?)
  const hosts = rawHeaders.filter((n, i) => i % 2 === 0 && n.toLowerCase() === 'host').length;
  if (hosts > 1) return 'two Host fields';
  if (hosts === 0 && httpVersion === '1.1') return 'an HTTP/1.1 request without Host';
  return undefined;
}

/** RFC 9110 §15.5.15: the limit was hit before the request line ended: the URI is too long (414, not 431). */
function overlongRequestLine(err: NodeJS.ErrnoException & { rawPacket?: Buffer }): boolean {
  const raw = err.rawPacket;
  if (!raw) return false;
  // the packet holds the request line's end (over TLS it is often a later 16 kB record of the URI) ...
  const eol = raw.indexOf('\r\n');
  if (eol > 0 && / HTTP\/1\.[01]$/.test(raw.subarray(Math.max(0, eol - 9), eol).toString('latin1')))
    return eol > MAX_URI || !/^[A-Z]+ /.test(raw.subarray(0, 16).toString('latin1'));
  // ... or only its start
  return /^[A-Z]+ /.test(raw.subarray(0, 16).toString('latin1')) && eol === -1;
}

function rejectMalformed(events: Emitter<ProxyEvent>, port: string) {
  return (err: NodeJS.ErrnoException, sock: Duplex) => {
    if (!sock.writable) return sock.destroy();
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? overlongRequestLine(err)
          ? '414 URI Too Long'
          : '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    events.emit({
      kind: 'http.rejected',
      summary: `rejected a malformed request on ${port}: ${err.code ?? err.message} (${status})`,
      data: { code: err.code ?? 'ERR', status: Number(status.slice(0, 3)), port },
    });
    sock.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
}

export function createListeners(o: ListenerOptions) {
  // clients that asked for a stapled OCSP response (status_request), in handshake order
  const ocspAsked: number[] = [];
  const tlsServer = createSecureServer(
    {
      // the lab's TLS policy (services/common/tls-policy.ts): AEAD suites, EC groups, a handshake deadline
      ...SERVER_POLICY,
      key: o.key,
      cert: o.chain,
      allowHTTP1: true,
      SNICallback: (servername, cb) =>
        cb(null, o.contexts.get(servername.toLowerCase()) ?? o.defaultContext()),
      // above the documented limits, so the front end answers 431 over h2 as over HTTP/1.1 (not a reset)
      maxHeaderListPairs: H2_MAX_HEADER_FIELDS,
      settings: { maxHeaderListSize: H2_MAX_HEADER_LIST_BYTES },
      // megabytes per connection: streams' buffers and the header fields being decoded
      maxSessionMemory: 64,
    },
    (req, res) => o.onRequest(req, res, 'https'),
  );
  Object.assign(tlsServer, HTTP1);
  enableSessionIdResumption(tlsServer);
  tlsServer.on(
    'OCSPRequest',
    (_cert: Buffer, _issuer: Buffer, cb: (err: Error | null, resp?: Buffer) => void) => {
      ocspAsked.push(performance.now());
      const der = o.staple();
      return der ? cb(null, der) : cb(null);
    },
  );
  tlsServer.on('secureConnection', (sock: TLSSocket) => {
    const c = sock.getCipher();
    const sni = (sock as TLSSocket & { servername?: string }).servername || null;
    while (ocspAsked.length && performance.now() - ocspAsked[0] > 10_000) ocspAsked.shift();
    const stapled = ocspAsked.length > 0 && !!o.staple() && !!ocspAsked.shift();
    const client = o.who(sock.remoteAddress ?? '');
    o.events.emit({
      kind: 'tls.handshake',
      peer: `${sock.remoteAddress}:${sock.remotePort}`,
      summary: `TLS with ${client}: ${sock.getProtocol()} ${c?.standardName ?? c?.name}, SNI ${sni ?? '(none)'}, ALPN ${sock.alpnProtocol || 'none'}${sock.isSessionReused() ? ', resumed' : ''}${stapled ? ', OCSP stapled' : ''}`,
      data: {
        sni,
        alpn: sock.alpnProtocol || null,
        version: sock.getProtocol(),
        cipher: c?.standardName ?? c?.name,
        resumed: sock.isSessionReused(),
        stapled,
        client,
      },
    });
  });
  // a bad ClientHello ends that connection only
  tlsServer.on('tlsClientError', (err: NodeJS.ErrnoException, sock: TLSSocket) => {
    o.events.emit({
      kind: 'tls.error',
      peer: `${sock.remoteAddress}:${sock.remotePort}`,
      summary: `a TLS handshake failed: ${err.code ?? err.message}`,
      data: { code: err.code ?? 'ERR', client: o.who(sock.remoteAddress ?? '') },
    });
    sock.destroy();
  });
  tlsServer.on('clientError', rejectMalformed(o.events, 'https'));
  tlsServer.on('upgrade', (req: IncomingMessage, s: Duplex, head: Buffer) =>
    o.onUpgrade(req, s, head, 'https'),
  );
  tlsServer.setTimeout(120_000);

  const plain = createHttp({ ...HTTP1 }, (req, res) => o.onRequest(req, res, 'http'));
  plain.on('clientError', rejectMalformed(o.events, 'http'));
  plain.on('upgrade', (req: IncomingMessage, s: Duplex, head: Buffer) => o.onUpgrade(req, s, head, 'http'));
  return { tlsServer, plain };
}
