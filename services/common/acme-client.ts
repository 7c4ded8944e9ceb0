// A small ACME client (RFC 8555) for lab hosts: an account key, an order for the host's names, the
// http-01 answers published for the host's port 80, then finalize with a CSR and download the chain.
// Every request goes to the CA's lab address from the host's own address.
import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { b64u, keyAuthorization } from '../ca/acme/jws.js';

export interface AcmeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}
/** Sends one HTTP request for an absolute URL (the lab maps ca.test to the CA's address). */
export type AcmeTransport = (
  method: 'GET' | 'HEAD' | 'POST',
  url: string,
  body?: string,
) => Promise<AcmeResponse>;

/** A transport that connects to `address:port` from `source`, whatever host the URL names. */
export function labTransport(address: string, port: number, source: string): AcmeTransport {
  return (method, url, body) =>
    new Promise((resolve, reject) => {
      const u = new URL(url);
      const req = request(
        {
          host: address,
          port,
          path: `${u.pathname}${u.search}`,
          method,
          localAddress: source,
          timeout: 10_000,
          headers: {
            host: u.host,
            ...(body !== undefined
              ? { 'content-type': 'application/jose+json', 'content-length': Buffer.byteLength(body) }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from the CA in 10 s (${method} ${url})`)));
      req.on('error', reject);
      req.end(body);
    });
}

/** An ES256 account key kept in `path` (mode 0600), made on first use. */
export function accountKey(path?: string): KeyObject {
  if (path && existsSync(path)) return createPrivateKey(readFileSync(path, 'utf8'));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (path) {
    writeFileSync(`${path}.tmp`, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }
  return privateKey;
}

export class AcmeClientError extends Error {
  constructor(
    message: string,
    readonly problem?: { type?: string; detail?: string; status?: number },
  ) {
    super(message);
  }
}

interface Directory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
}
export interface AcmeOrder {
  status: string;
  identifiers: { type: string; value: string }[];
  authorizations: string[];
  finalize: string;
  certificate?: string;
  error?: { type: string; detail: string };
}
export interface AcmeAuthorization {
  status: string;
  identifier: { type: string; value: string };
  challenges: {
    type: string;
    url: string;
    token: string;
    status: string;
    error?: { type: string; detail: string };
  }[];
}

export class AcmeClient {
  private dir?: Directory;
  private nonce?: string;
  kid?: string;

  constructor(
    private readonly directoryUrl: string,
    private readonly send: AcmeTransport,
    readonly key: KeyObject,
  ) {}

  /** the public half as a JWK (RFC 7517), for newAccount */
  get jwk() {
    const { kty, crv, x, y } = this.key.export({ format: 'jwk' });
    return { kty, crv, x, y };
  }

  keyAuthorization(token: string): string {
    return keyAuthorization(token, this.key);
  }

  async directory(): Promise<Directory> {
    if (!this.dir) {
      const res = await this.send('GET', this.directoryUrl);
      if (res.status !== 200) throw new AcmeClientError(`the ACME directory answered ${res.status}`);
      this.dir = JSON.parse(res.body.toString('utf8')) as Directory;
    }
    return this.dir;
  }

  /** RFC 8555 §6.2: a flattened JWS, ES256, with "jwk" for newAccount and "kid" after. */
  sign(url: string, payload: unknown, nonce: string): string {
    const header = { alg: 'ES256', nonce, url, ...(this.kid ? { kid: this.kid } : { jwk: this.jwk }) };
    const protectedB64 = b64u(JSON.stringify(header));
    // RFC 8555 §6.3: POST-as-GET has an empty payload
    const payloadB64 = payload === '' ? '' : b64u(JSON.stringify(payload));
    const signature = sign('sha256', Buffer.from(`${protectedB64}.${payloadB64}`), {
      key: this.key,
      dsaEncoding: 'ieee-p1363',
    });
    return JSON.stringify({ protected: protectedB64, payload: payloadB64, signature: b64u(signature) });
  }

  private async freshNonce(): Promise<string> {
    if (this.nonce) {
      const n = this.nonce;
      this.nonce = undefined;
      return n;
    }
    const res = await this.send('HEAD', (await this.directory()).newNonce);
    const n = res.headers['replay-nonce'];
    if (typeof n !== 'string') throw new AcmeClientError('the CA gave no Replay-Nonce');
    return n;
  }

  /** One signed POST; a badNonce is retried once with the nonce that came with it (RFC 8555 §6.5). */
  async post(url: string, payload: unknown): Promise<AcmeResponse> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.send('POST', url, this.sign(url, payload, await this.freshNonce()));
      const n = res.headers['replay-nonce'];
      if (typeof n === 'string') this.nonce = n;
      if (res.status < 400) return res;
      const problem = parseProblem(res.body);
      if (problem?.type?.endsWith(':badNonce') && attempt === 0) continue;
      throw new AcmeClientError(
        `${url}: ${res.status} ${problem?.type ?? ''} ${problem?.detail ?? res.body.toString('utf8').slice(0, 200)}`.trim(),
        problem,
      );
    }
  }

  async register(): Promise<string> {
    const res = await this.post((await this.directory()).newAccount, { termsOfServiceAgreed: true });
    this.kid = String(res.headers.location);
    return this.kid;
  }

  async newOrder(names: string[]): Promise<{ url: string; order: AcmeOrder }> {
    const res = await this.post((await this.directory()).newOrder, {
      identifiers: names.map((value) => ({ type: 'dns', value })),
    });
    return { url: String(res.headers.location), order: JSON.parse(res.body.toString('utf8')) };
  }

  async get<T>(url: string): Promise<T> {
    return JSON.parse((await this.post(url, '')).body.toString('utf8')) as T;
  }

  /** Polls until the object leaves "pending"/"processing" (bounded: `tries` × 250 ms). */
  async poll<T extends { status: string }>(url: string, tries = 40): Promise<T> {
    for (let i = 0; ; i++) {
      const v = await this.get<T>(url);
      if ((v.status !== 'pending' && v.status !== 'processing') || i >= tries) return v;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function parseProblem(body: Buffer): { type?: string; detail?: string; status?: number } | undefined {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The whole exchange for `names` over http-01: `publish(token, keyAuthorization)` must make the host
 * answer GET /.well-known/acme-challenge/TOKEN on port 80 before the CA is told to look. Every
 * challenge is answered first and the CA checks them side by side (RFC 8555 §7.5.1), then each
 * authorization is polled: one wait for all the names, not one per name.
 */
export async function obtainWithHttp01(
  client: AcmeClient,
  names: string[],
  csrDer: Uint8Array,
  publish: (token: string, keyAuth: string) => void,
  unpublish: (token: string) => void,
): Promise<string> {
  if (!client.kid) await client.register();
  const { url, order } = await client.newOrder(names);
  const open: { authzUrl: string; name: string; challenge: AcmeAuthorization['challenges'][number] }[] = [];
  try {
    for (const authzUrl of order.authorizations) {
      const authz = await client.get<AcmeAuthorization>(authzUrl);
      if (authz.status === 'valid') continue;
      const challenge = authz.challenges.find((c) => c.type === 'http-01');
      if (!challenge) throw new AcmeClientError(`no http-01 challenge for ${authz.identifier.value}`);
      publish(challenge.token, client.keyAuthorization(challenge.token));
      open.push({ authzUrl, name: authz.identifier.value, challenge });
      await client.post(challenge.url, {});
    }
    for (const { authzUrl, name, challenge } of open) {
      const done = await client.poll<AcmeAuthorization>(authzUrl);
      if (done.status !== 'valid') {
        const err = done.challenges.find((c) => c.url === challenge.url)?.error;
        throw new AcmeClientError(`the CA could not validate ${name}: ${err?.detail ?? done.status}`, err);
      }
    }
  } finally {
    for (const { challenge } of open) unpublish(challenge.token);
  }
  await client.post(order.finalize, { csr: b64u(Buffer.from(csrDer)) });
  const final = await client.poll<AcmeOrder>(url);
  if (final.status !== 'valid' || !final.certificate)
    throw new AcmeClientError(`the order ended ${final.status}: ${final.error?.detail ?? ''}`, final.error);
  return (await client.post(final.certificate, '')).body.toString('utf8');
}
