// The http-01 answers a host publishes while its ACME order is open (RFC 8555 §8.3): its own port-80
// server answers GET /.well-known/acme-challenge/TOKEN with the key authorization, before anything else.
// Two more pieces, as real deployments have them:
// - a relay: a front server passes challenge requests it has no answer for on to the other server of
//   the same name (nginx's `location /.well-known/acme-challenge/ { proxy_pass http://web2; }`). The
//   proxy does it for web2, which serves www.example.test too (the hosts-file story), while the lab's
//   DNS points that name at the proxy, so the CA's check for web2's order comes to the proxy.
// - a standalone server: before a host's web server is up (it needs the certificate to start), a
//   port-80 server of its own answers the challenges for the time of the order, as
//   `certbot certonly --standalone` does before the web server starts.
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type Server,
} from 'node:http';

const PREFIX = '/.well-known/acme-challenge/';
const published = new Map<string, string>();
/** a key authorization is short: a relayed answer past this is not one */
const MAX_ANSWER = 8192;

export function publishChallenge(token: string, keyAuth: string): void {
  published.set(token, keyAuth);
}

export function unpublishChallenge(token: string): void {
  published.delete(token);
}

/** Where a host passes the challenge requests it has no answer for: another lab host's port 80. */
export interface ChallengeRelay {
  /** the lab host's name, for the answer when it cannot be reached */
  name: string;
  address: string;
  port: number;
  /** this host's own lab address: the relayed request goes out from it */
  localAddress: string;
}

type Res = {
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  end(body: string): unknown;
};

function answer(res: Res, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** The relay's GET, with the original Host; its status and body come back as they are (≤ 8 KiB). */
function relayChallenge(
  req: { url?: string; headers?: IncomingMessage['headers'] },
  res: Res,
  to: ChallengeRelay,
) {
  const out = request(
    {
      host: to.address,
      port: to.port,
      path: req.url,
      localAddress: to.localAddress,
      headers: { host: req.headers?.host ?? '', 'user-agent': 'enterlab-acme-relay' },
      timeout: 3000,
    },
    (r) => {
      const chunks: Buffer[] = [];
      let n = 0;
      r.on('data', (c: Buffer) => {
        n += c.length;
        if (n > MAX_ANSWER) r.destroy(new Error(`${to.name} answered more than ${MAX_ANSWER} bytes`));
        else chunks.push(c);
      });
      r.on('end', () =>
        answer(
          res,
          r.statusCode ?? 502,
          Buffer.concat(chunks).toString('utf8'),
          String(r.headers['content-type'] ?? 'application/octet-stream'),
        ),
      );
      r.on('error', (err) =>
        answer(res, 502, `no answer for this challenge from ${to.name}: ${err.message}\n`),
      );
    },
  );
  out.on('timeout', () => out.destroy(new Error('no answer in 3 s')));
  out.on('error', (err: NodeJS.ErrnoException) =>
    answer(
      res,
      502,
      `no answer for this challenge here, and ${to.name} cannot be reached (${err.code ?? err.message})\n`,
    ),
  );
  out.end();
}

/**
 * Answers a challenge request if it is one this host published, or relays it when a relay is given;
 * false otherwise (the request goes on to the host's own handler).
 */
export function answerAcmeChallenge(
  req: { method?: string; url?: string; headers?: IncomingMessage['headers'] },
  res: Res,
  relay?: ChallengeRelay,
): boolean {
  const path = (req.url ?? '').split('?')[0];
  if (req.method !== 'GET' || !path.startsWith(PREFIX)) return false;
  const keyAuth = published.get(path.slice(PREFIX.length));
  if (keyAuth === undefined) {
    if (!relay) return false;
    relayChallenge(req, res, relay);
    return true;
  }
  // RFC 8555 §8.3: the body is the key authorization; application/octet-stream is what the RFC shows
  answer(res, 200, keyAuth, 'application/octet-stream');
  return true;
}

/**
 * A port-80 server that answers ACME challenges only (and relays those it has no answer for), for
 * the time of one order; anything else gets 503 with Retry-After. Resolves once it listens; the
 * returned function closes it and every connection the CA kept open.
 */
export async function startStandaloneChallenges(
  address: string,
  port: number,
  relay?: ChallengeRelay,
): Promise<() => void> {
  const server: Server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
    if (answerAcmeChallenge(req, res, relay)) return;
    res.setHeader('retry-after', '1');
    answer(res, 503, 'this host is getting its certificate: only ACME challenges are answered yet\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        Object.assign(
          new Error(`cannot answer ACME challenges on ${address}:${port}: ${err.code ?? err.message}`),
          { code: err.code },
        ),
      ),
    );
    server.listen(port, address, () => resolve());
  });
  return () => {
    server.close();
    server.closeAllConnections();
  };
}
