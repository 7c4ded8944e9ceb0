// ACME's JSON Web Signatures (RFC 8555 §6.2, RFC 7515 flattened JSON): every POST to the ACME server is
// one, signed by the account key. Verified with node:crypto alone: ES256 (ECDSA P-256, r||s signature,
// RFC 7518 §3.4) and RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3).
import { createHash, createPublicKey, type JsonWebKey, type KeyObject, verify } from 'node:crypto';

export const b64u = (data: Buffer | string): string => Buffer.from(data).toString('base64url');
export const unb64u = (s: string): Buffer => Buffer.from(s, 'base64url');

/** A malformed or unverifiable JWS; `type` is the ACME error it maps to (RFC 8555 §6.7). */
export class JwsError extends Error {
  constructor(
    readonly type: 'malformed' | 'badSignatureAlgorithm' | 'badPublicKey' | 'unauthorized',
    message: string,
  ) {
    super(message);
  }
}

export interface ProtectedHeader {
  alg: string;
  nonce: string;
  url: string;
  jwk?: JsonWebKey;
  kid?: string;
}

export interface ParsedJws {
  header: ProtectedHeader;
  /** the payload's bytes: empty for a POST-as-GET (RFC 8555 §6.3) */
  payload: Buffer;
  signingInput: Buffer;
  signature: Buffer;
}

export const ALGORITHMS = ['ES256', 'RS256'] as const;

/** Parses the flattened JSON serialization and checks the header's required fields (RFC 8555 §6.2). */
export function parseJws(body: Buffer): ParsedJws {
  let outer: { protected?: unknown; payload?: unknown; signature?: unknown };
  try {
    outer = JSON.parse(body.toString('utf8'));
  } catch {
    throw new JwsError('malformed', 'the body is not JSON (a flattened JWS is expected)');
  }
  if (
    typeof outer !== 'object' ||
    outer === null ||
    typeof outer.protected !== 'string' ||
    typeof outer.payload !== 'string' ||
    typeof outer.signature !== 'string'
  )
    throw new JwsError('malformed', 'a JWS needs "protected", "payload" and "signature" strings');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(unb64u(outer.protected).toString('utf8'));
  } catch {
    throw new JwsError('malformed', 'the protected header is not base64url JSON');
  }
  if (typeof header !== 'object' || header === null)
    throw new JwsError('malformed', 'the protected header is not a JSON object');
  const { alg, nonce, url, jwk, kid } = header;
  if (typeof alg !== 'string') throw new JwsError('malformed', 'the protected header has no "alg"');
  if (!(ALGORITHMS as readonly string[]).includes(alg))
    throw new JwsError('badSignatureAlgorithm', `alg ${alg} is not supported (use ES256 or RS256)`);
  if (typeof nonce !== 'string') throw new JwsError('malformed', 'the protected header has no "nonce"');
  if (typeof url !== 'string') throw new JwsError('malformed', 'the protected header has no "url"');
  // RFC 8555 §6.2: exactly one of "jwk" and "kid"
  if ((jwk === undefined) === (kid === undefined))
    throw new JwsError('malformed', 'the protected header must have exactly one of "jwk" and "kid"');
  if (jwk !== undefined && (typeof jwk !== 'object' || jwk === null))
    throw new JwsError('malformed', '"jwk" is not a JSON object');
  if (kid !== undefined && typeof kid !== 'string') throw new JwsError('malformed', '"kid" is not a string');
  return {
    header: { alg, nonce, url, jwk: jwk as JsonWebKey | undefined, kid: kid as string | undefined },
    payload: unb64u(outer.payload),
    signingInput: Buffer.from(`${outer.protected}.${outer.payload}`),
    signature: unb64u(outer.signature),
  };
}

/** The account key from a JWK: P-256 EC or RSA of 2048 bits and more (RFC 7518 §6). */
export function importJwk(jwk: JsonWebKey): KeyObject {
  let key: KeyObject;
  try {
    if (jwk.kty === 'EC' && jwk.crv === 'P-256')
      key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' });
    else if (jwk.kty === 'RSA')
      key = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' });
    else throw new Error(`key type ${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ''}`);
  } catch (err) {
    throw new JwsError('badPublicKey', `the account key is not usable: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
    throw new JwsError('badPublicKey', 'an RSA account key needs at least 2048 bits');
  return key;
}

/** Whether the signature verifies with the key, for the algorithm that key can use. */
export function verifyJws(jws: ParsedJws, key: KeyObject): void {
  const { alg } = jws.header;
  const fits = alg === 'ES256' ? key.asymmetricKeyType === 'ec' : key.asymmetricKeyType === 'rsa';
  if (!fits)
    throw new JwsError('badSignatureAlgorithm', `alg ${alg} does not fit a ${key.asymmetricKeyType} key`);
  const ok =
    alg === 'ES256'
      ? // RFC 7518 §3.4: the signature is R || S, 32 bytes each, not DER
        jws.signature.length === 64 &&
        verify('sha256', jws.signingInput, { key, dsaEncoding: 'ieee-p1363' }, jws.signature)
      : verify('sha256', jws.signingInput, key, jws.signature);
  if (!ok) throw new JwsError('malformed', 'the JWS signature does not verify with the account key');
}

/** RFC 7638 JWK thumbprint: SHA-256 over the required members in lexicographic order. */
export function thumbprint(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  const canonical =
    jwk.kty === 'EC'
      ? JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
      : JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return b64u(createHash('sha256').update(canonical).digest());
}

/** RFC 8555 §8.1: token "." thumbprint. */
export const keyAuthorization = (token: string, key: KeyObject) => `${token}.${thumbprint(key)}`;

/** RFC 8555 §8.4: the dns-01 TXT value, base64url(SHA-256(key authorization)). */
export const dnsTxtValue = (keyAuth: string) => b64u(createHash('sha256').update(keyAuth).digest());
