// DNS over HTTPS (RFC 8484): the resolver's own handler behind HTTP/2 (HTTP/1.1 accepted too) on
// port 443, path /dns-query, GET ?dns=<base64url> and POST, both application/dns-message.
import { once } from 'node:events';
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import type { SecureContextOptions } from 'node:tls';
import { decodeMessage } from '../common/dns/codec.js';
import type { EncryptedHandler } from './encrypted.js';

export const DOH_PATH = '/dns-query';
const MEDIA_TYPE = 'application/dns-message';
const MAX_MESSAGE = 65535; // RFC 8484 §6: one DNS message, as over TCP

export async function startDoh(
  address: string,
  port: number,
  tls: SecureContextOptions,
  handle: EncryptedHandler,
  onError: (where: string, err: unknown) => void,
): Promise<Http2SecureServer> {
  // RFC 8484 §5.2: HTTP/2 is the minimum recommended version; curl and kdig may still speak HTTP/1.1
  const server = createSecureServer({ ...tls, allowHTTP1: true }, (req, res) => {
    serve(req, res).catch((err) => {
      onError('doh request', err);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.on('tlsClientError', (err) => onError('doh handshake', err));
  server.on('sessionError', (err) => onError('doh session', err));

  async function serve(req: Http2ServerRequest, res: Http2ServerResponse) {
    const url = new URL(req.url, 'https://resolver.invalid');
    if (url.pathname !== DOH_PATH) return plain(res, 404, `only ${DOH_PATH} is served here`);
    const query = req.method === 'GET' ? fromGet(url) : req.method === 'POST' ? await fromPost(req) : 405;
    if (typeof query === 'number') return plain(res, query, statusText(query));
    const answer = await handle(query, {
      address: req.socket.remoteAddress ?? '',
      port: req.socket.remotePort ?? 0,
      transport: 'doh',
    });
    if (!answer) return plain(res, 400, 'not a DNS query');
    res.writeHead(200, {
      'content-type': MEDIA_TYPE,
      'content-length': answer.length,
      // RFC 8484 §5.1: an HTTP cache may keep the answer no longer than its smallest TTL
      'cache-control': `max-age=${minTtl(answer)}`,
    });
    res.end(answer);
  }

  server.listen(port, address);
  await once(server, 'listening'); // rejects on 'error' (EADDRINUSE …)
  return server;
}

/** RFC 8484 §4.1: GET carries the message in the `dns` parameter, base64url without padding. */
function fromGet(url: URL): Buffer | number {
  const dns = url.searchParams.get('dns');
  if (!dns || !/^[A-Za-z0-9_-]+$/.test(dns)) return 400;
  const msg = Buffer.from(dns, 'base64url');
  return msg.length > MAX_MESSAGE ? 414 : msg;
}

/** RFC 8484 §4.1: POST carries it as the body, with Content-Type application/dns-message. */
async function fromPost(req: Http2ServerRequest): Promise<Buffer | number> {
  if ((req.headers['content-type'] ?? '').split(';')[0].trim() !== MEDIA_TYPE) return 415;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_MESSAGE) return 413;
    chunks.push(c as Buffer);
  }
  return size ? Buffer.concat(chunks) : 400;
}

function minTtl(answer: Buffer): number {
  try {
    const p = decodeMessage(answer);
    const ttls = [...(p.answers ?? []), ...(p.authorities ?? [])]
      .map((r) => (r as { ttl?: number }).ttl)
      .filter((t): t is number => typeof t === 'number');
    return ttls.length ? Math.min(...ttls) : 0;
  } catch {
    return 0;
  }
}

function statusText(status: number): string {
  return (
    {
      400: 'a DoH query needs ?dns=<base64url DNS message> (GET) or a DNS message body (POST)',
      405: 'GET or POST only (RFC 8484 §4.1)',
      413: 'a DNS message is at most 65535 bytes',
      414: 'a DNS message is at most 65535 bytes',
      415: 'POST needs Content-Type: application/dns-message',
    }[status] ?? 'error'
  );
}

function plain(res: Http2ServerResponse, status: number, text: string) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
}
