// JOURNEY 21: is the server's certificate revoked? The stapled OCSP answer first, else OCSP from the
// responder named in the certificate's AIA, else its CRL. The checker lives as long as the browser
// (BrowserContext): it remembers verified staples for a few minutes, as browsers cache OCSP answers;
// each page load also keeps one answer per certificate (`forPage`).
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { isIPv6 } from 'node:net';
import type { DetailedPeerCertificate } from 'node:tls';
import { crlStatus, crlUrlOf } from './crl.js';
import { ocspRequestFor, ocspStatus } from './ocsp.js';

export interface Revocation {
  status: 'good' | 'revoked' | 'unknown' | 'unavailable';
  source: 'stapled' | 'ocsp' | 'crl' | 'none';
  detail: string;
}

/** What the handshake showed (of node's getPeerCertificate(true)): the leaf, its issuer, a staple. */
export interface Presented {
  peer: Pick<DetailedPeerCertificate, 'raw' | 'fingerprint256' | 'infoAccess'> & {
    issuerCertificate?: Pick<DetailedPeerCertificate, 'raw'>;
  };
  stapled?: Buffer;
}

/** An OCSP POST (a body) or a CRL GET (an empty body) over plain HTTP: the answer's bytes. */
export type OcspFetch = (url: string, body: Buffer) => Promise<Buffer>;

const STAPLE_MEMORY_MS = 300_000;
const STAPLE_MEMORY_MAX = 100;

/** Stapled answer first, then the CA's OCSP URL, then the CRL. */
export async function checkRevocation(t: Presented, fetchOcsp: OcspFetch): Promise<Revocation> {
  const leaf = t.peer.raw;
  const issuer = t.peer.issuerCertificate?.raw;
  if (!issuer || issuer.equals(leaf))
    return { status: 'unavailable', source: 'none', detail: 'no issuer certificate in the chain' };
  if (t.stapled) {
    const r = await ocspStatus(t.stapled, leaf, issuer);
    return { status: r.status, source: 'stapled', detail: r.detail };
  }
  const aia = t.peer.infoAccess?.['OCSP - URI']?.[0];
  let why = 'the certificate names no OCSP responder';
  if (aia)
    try {
      const { request, check } = await ocspRequestFor(leaf, issuer);
      const der = await fetchOcsp(aia, request);
      const r = await check(der);
      return { status: r.status, source: 'ocsp', detail: `${aia}: ${r.detail}` };
    } catch (err) {
      why = `${aia}: ${(err as Error).message}`;
    }
  // else the CRL (an empty body asks for a GET)
  const crl = crlUrlOf(leaf);
  if (!crl) return { status: 'unavailable', source: aia ? 'ocsp' : 'none', detail: `${why}; no CRL either` };
  try {
    const r = await crlStatus(await fetchOcsp(crl, Buffer.alloc(0)), leaf, issuer);
    return { status: r.status, source: 'crl', detail: `${why}; ${crl}: ${r.detail}` };
  } catch (err) {
    return { status: 'unavailable', source: 'crl', detail: `${why}; ${crl}: ${(err as Error).message}` };
  }
}

export class RevocationChecker {
  /** stapled verdicts already verified: same certificate, same bytes → not verified again */
  private readonly verifiedStaples = new Map<string, { rev: Revocation; until: number }>();

  /** One page load's checks: one answer per certificate, asked over `fetchOcsp`. */
  forPage(fetchOcsp: OcspFetch): (t: Presented) => Promise<Revocation> {
    const answers = new Map<string, Revocation>();
    return async (t) => {
      const fp = t.peer.fingerprint256;
      const stapleKey = t.stapled && `${fp}/${createHash('sha256').update(t.stapled).digest('hex')}`;
      let rev = answers.get(fp) ?? (stapleKey ? this.remembered(stapleKey, Date.now()) : undefined);
      if (!rev) {
        rev = await checkRevocation(t, fetchOcsp);
        if (stapleKey && rev.source === 'stapled') this.remember(stapleKey, rev, Date.now());
      }
      answers.set(fp, rev);
      return rev;
    };
  }

  /** lab ca revoke, reset, browser.clear: the next staple is verified anew */
  forget(): void {
    this.verifiedStaples.clear();
  }

  private remembered(key: string, now: number): Revocation | undefined {
    const e = this.verifiedStaples.get(key);
    return e && e.until > now ? e.rev : undefined;
  }

  private remember(key: string, rev: Revocation, now: number): void {
    if (this.verifiedStaples.size >= STAPLE_MEMORY_MAX) this.verifiedStaples.clear(); // bounded
    this.verifiedStaples.set(key, { rev, until: now + STAPLE_MEMORY_MS });
  }
}

/**
 * The OCSP responder or CRL server over plain HTTP from the browser's own address, its name
 * resolved as any other (an IPv4 address preferred).
 */
export function httpOcspFetch(
  resolve: (host: string) => Promise<{ addresses: string[] }>,
  source: (family: 4 | 6) => string | undefined,
): OcspFetch {
  return async (url, body) => {
    const u = new URL(url);
    const addrs = (await resolve(u.hostname)).addresses;
    const addr = addrs.find((a) => !isIPv6(a)) ?? addrs[0];
    return new Promise<Buffer>((resolve, reject) => {
      const req = request(
        {
          host: addr,
          port: Number(u.port || 80),
          path: u.pathname,
          method: body.length ? 'POST' : 'GET', // OCSP request, or a CRL download
          localAddress: source(isIPv6(addr) ? 6 : 4),
          headers: body.length
            ? { host: u.host, 'content-type': 'application/ocsp-request', 'content-length': body.length }
            : { host: u.host },
          timeout: 3000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            res.statusCode === 200 // OCSP responder or CRL server
              ? resolve(Buffer.concat(chunks))
              : reject(new Error(`OCSP responder answered ${res.statusCode}`)),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error('OCSP responder timed out')));
      req.on('error', reject);
      req.end(body);
    });
  };
}
