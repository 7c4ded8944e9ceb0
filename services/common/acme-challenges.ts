// The http-01 answers a host publishes while its ACME order is open (RFC 8555 §8.3): its own port-80
// server answers GET /.well-known/acme-challenge/TOKEN with the key authorization, before anything else.
import type { OutgoingHttpHeaders } from 'node:http';

const PREFIX = '/.well-known/acme-challenge/';
const published = new Map<string, string>();

export function publishChallenge(token: string, keyAuth: string): void {
  published.set(token, keyAuth);
}

export function unpublishChallenge(token: string): void {
  published.delete(token);
}

/** Answers a challenge request if it is one this host published; false otherwise (the request goes on). */
export function answerAcmeChallenge(
  req: { method?: string; url?: string },
  res: { writeHead(status: number, headers: OutgoingHttpHeaders): unknown; end(body: string): unknown },
): boolean {
  const path = (req.url ?? '').split('?')[0];
  if (req.method !== 'GET' || !path.startsWith(PREFIX)) return false;
  const keyAuth = published.get(path.slice(PREFIX.length));
  if (keyAuth === undefined) return false;
  // RFC 8555 §8.3: the body is the key authorization; application/octet-stream is what the RFC shows
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': Buffer.byteLength(keyAuth),
  });
  res.end(keyAuth);
  return true;
}
