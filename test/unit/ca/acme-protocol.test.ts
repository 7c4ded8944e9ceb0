// The ACME server's protocol checks (RFC 8555 §6), in process on 127.0.0.1: nonces used once, the
// JWS url bound to the request, jwk only for newAccount, algorithms, problem documents, ownership.
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64u, importJwk, thumbprint } from '../../../services/ca/acme/jws.js';
import { createAcmeServer } from '../../../services/ca/acme/server.js';
import { checkNames } from '../../../services/ca/issue.js';
import {
  AcmeClient,
  type AcmeClientError,
  accountKey,
  labTransport,
} from '../../../services/common/acme-client.js';
import type { LabEvent } from '../../../services/common/events.js';

let server: Server;
let base: string;
const events: LabEvent[] = [];
let send: ReturnType<typeof labTransport>;

beforeAll(async () => {
  const handle = createAcmeServer({
    events: { emit: (e: LabEvent) => void events.push(e) } as never,
    // validation is not exercised here (test/integration/ca/acme.test.ts does it with lego)
    validator: { source: '127.0.0.1', resolver: '127.0.0.1:9', httpPort: 9, timeoutMs: 200 },
    checkNames: (names) => checkNames(names, () => false),
    issue: async () => ({ chain: '', names: [] }),
    who: (a) => a,
    readBody: (req) =>
      new Promise((resolve) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => resolve(Buffer.concat(chunks)));
      }),
  });
  server = createServer((req, res) => {
    void handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  base = `http://ca.test:${port}/acme`;
  send = labTransport('127.0.0.1', port, '127.0.0.1');
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const client = () => new AcmeClient(`${base}/directory`, send, accountKey());
const problemOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return (err as AcmeClientError).problem;
  }
  throw new Error('expected an ACME problem');
};

describe('ACME directory and nonces', () => {
  it('lists its resources under the host the client used, with a Replay-Nonce and no caching', async () => {
    const res = await send('GET', `${base}/directory`);
    expect(JSON.parse(res.body.toString())).toMatchObject({
      newNonce: `${base}/new-nonce`,
      newAccount: `${base}/new-account`,
      newOrder: `${base}/new-order`,
    });
    expect(res.headers['replay-nonce']).toMatch(/^[\w-]{16,}$/);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers HEAD newNonce 200 and GET newNonce 204, each with a new nonce', async () => {
    const a = await send('HEAD', `${base}/new-nonce`);
    const b = await send('GET', `${base}/new-nonce`);
    expect([a.status, b.status]).toEqual([200, 204]);
    expect(a.headers['replay-nonce']).not.toBe(b.headers['replay-nonce']);
  });

  it('refuses a nonce used twice with badNonce (problem+json) and a fresh nonce to retry with', async () => {
    const c = client();
    const nonce = String((await send('HEAD', `${base}/new-nonce`)).headers['replay-nonce']);
    const url = `${base}/new-account`;
    expect((await send('POST', url, c.sign(url, {}, nonce))).status).toBe(201);
    const again = await send('POST', url, c.sign(url, {}, nonce));
    expect(again.status).toBe(400);
    expect(again.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(again.body.toString())).toMatchObject({
      type: 'urn:ietf:params:acme:error:badNonce',
      status: 400,
    });
    expect(again.headers['replay-nonce']).toMatch(/^[\w-]{16,}$/);
  });
});

describe('ACME JWS checks', () => {
  it('refuses a JWS whose url is not the request URL', async () => {
    const c = client();
    const nonce = String((await send('HEAD', `${base}/new-nonce`)).headers['replay-nonce']);
    const res = await send('POST', `${base}/new-account`, c.sign(`${base}/new-order`, {}, nonce));
    expect(JSON.parse(res.body.toString()).type).toBe('urn:ietf:params:acme:error:unauthorized');
  });

  it('refuses a tampered signature and an unsupported alg', async () => {
    const c = client();
    const url = `${base}/new-account`;
    const nonce = () => send('HEAD', `${base}/new-nonce`).then((r) => String(r.headers['replay-nonce']));
    const jws = JSON.parse(c.sign(url, {}, await nonce()));
    jws.payload = b64u('{"contact":["mailto:x@example.test"]}');
    const tampered = await send('POST', url, JSON.stringify(jws));
    expect(JSON.parse(tampered.body.toString()).type).toBe('urn:ietf:params:acme:error:malformed');
    const hs = JSON.parse(c.sign(url, {}, await nonce()));
    const header = JSON.parse(Buffer.from(hs.protected, 'base64url').toString());
    hs.protected = b64u(JSON.stringify({ ...header, alg: 'HS256' }));
    const badAlg = await send('POST', url, JSON.stringify(hs));
    expect(JSON.parse(badAlg.body.toString()).type).toBe('urn:ietf:params:acme:error:badSignatureAlgorithm');
  });

  it('accepts an RS256 account key and rejects RSA keys under 2048 bits', () => {
    const ok = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    expect(importJwk(ok).asymmetricKeyType).toBe('rsa');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    expect(() => importJwk(small)).toThrow(/2048/);
  });

  it('computes the RFC 7638 §3.1 example thumbprint', () => {
    const n =
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    const key = importJwk({ kty: 'RSA', n, e: 'AQAB' });
    expect(thumbprint(key)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});

describe('ACME accounts and orders', () => {
  it('returns the same account for the same key (201, then 200 with the same Location)', async () => {
    const c = client();
    const first = await c.post(`${base}/new-account`, {});
    const second = await c.post(`${base}/new-account`, {});
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.headers.location).toBe(first.headers.location);
  });

  it('gives an order one authorization per name, each with http-01 and dns-01 challenges', async () => {
    const c = client();
    await c.register();
    const { order } = await c.newOrder(['www.example.test', 'cdn.example.test']);
    expect(order.status).toBe('pending');
    expect(order.authorizations).toHaveLength(2);
    const authz = await c.get<{ challenges: { type: string; token: string }[] }>(order.authorizations[0]);
    expect(authz.challenges.map((x) => x.type)).toEqual(['http-01', 'dns-01']);
    expect(authz.challenges[0].token).toMatch(/^[\w-]{43}$/);
  });

  it('refuses a name outside .test (rejectedIdentifier) and finalize before validation (orderNotReady)', async () => {
    const c = client();
    await c.register();
    expect((await problemOf(c.newOrder(['www.example.com'])))?.type).toBe(
      'urn:ietf:params:acme:error:rejectedIdentifier',
    );
    const { order } = await c.newOrder(['www.example.test']);
    const p = await problemOf(c.post(order.finalize, { csr: 'AA' }));
    expect(p).toMatchObject({ type: 'urn:ietf:params:acme:error:orderNotReady', status: 403 });
  });

  it("refuses another account's order (unauthorized) and a kid that names no account", async () => {
    const owner = client();
    await owner.register();
    const { url } = await owner.newOrder(['www.example.test']);
    const other = client();
    await other.register();
    expect((await problemOf(other.get(url)))?.type).toBe('urn:ietf:params:acme:error:unauthorized');
    const ghost = client();
    ghost.kid = `${base}/acct/nobody`;
    expect((await problemOf(ghost.get(url)))?.type).toBe('urn:ietf:params:acme:error:accountDoesNotExist');
  });
});
