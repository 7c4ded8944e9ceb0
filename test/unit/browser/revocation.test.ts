// The browser's revocation checker against the lab CA's real OCSP answers: a stapled answer is
// verified once and remembered across page loads until `forget`; without a staple the responder is
// asked once per certificate and page load; with no answer at all the verdict is "unavailable".
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocspRequestFor } from '../../../services/browser/ocsp.js';
import { type Presented, RevocationChecker } from '../../../services/browser/revocation.js';
import { ALG, type Hierarchy, loadOrCreateHierarchy } from '../../../services/ca/hierarchy.js';
import { IssuedDb, issueLeaf, record } from '../../../services/ca/issue.js';
import { answerOcsp } from '../../../services/ca/ocsp.js';

const dir = mkdtempSync(join(tmpdir(), 'revocation-unit-'));
let h: Hierarchy;
let db: IssuedDb;
let presented: Presented;

beforeAll(async () => {
  ({ h } = await loadOrCreateHierarchy(dir, { base: 'http://ca.test' }, ['172.28.0.0/16']));
  db = new IssuedDb(dir);
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const leaf = await issueLeaf(h, { base: 'http://ca.test' }, keys.publicKey, ['www.example.test']);
  db.records.push(record(leaf, ['www.example.test']));
  db.save();
  // what a TLS handshake shows of the chain (node's getPeerCertificate(true)), no staple yet
  presented = {
    peer: {
      raw: Buffer.from(leaf.rawData),
      fingerprint256: 'AA:BB:CC',
      infoAccess: { 'OCSP - URI': ['http://ca.test/ocsp'] },
      issuerCertificate: { raw: Buffer.from(h.intermediate.cert.rawData) },
    },
  };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The CA's responder, counting what it is asked (an empty body is a CRL download: refused here). */
function responder() {
  const asked: string[] = [];
  const fetch = async (url: string, body: Buffer) => {
    asked.push(url);
    if (!body.length) throw new Error('no CRL server here');
    return Buffer.from(answerOcsp(new Uint8Array(body), h, db).der);
  };
  return { fetch, asked };
}

function setRevoked(revoked: boolean): void {
  Object.assign(
    db.records[0],
    revoked
      ? { status: 'revoked', revokedAt: new Date().toISOString(), reason: 'keyCompromise' }
      : { status: 'good', revokedAt: undefined, reason: undefined },
  );
  db.save();
}

async function staple(): Promise<Buffer> {
  const issuer = presented.peer.issuerCertificate?.raw ?? Buffer.alloc(0);
  const { request } = await ocspRequestFor(presented.peer.raw, issuer);
  return Buffer.from(answerOcsp(new Uint8Array(request), h, db).der);
}

describe('revocation checker', () => {
  it('asks the OCSP responder once per certificate and page load', async () => {
    const checker = new RevocationChecker();
    const r = responder();
    const page = checker.forPage(r.fetch);
    expect(await page(presented)).toMatchObject({ status: 'good', source: 'ocsp' });
    expect(await page(presented)).toMatchObject({ status: 'good', source: 'ocsp' });
    expect(r.asked).toEqual(['http://ca.test/ocsp']);
    // the next page asks again, and sees the revocation
    setRevoked(true);
    expect(await checker.forPage(r.fetch)(presented)).toMatchObject({ status: 'revoked', source: 'ocsp' });
    expect(r.asked).toHaveLength(2);
    setRevoked(false);
  });

  it('remembers a verified staple across page loads until told to forget', async () => {
    const checker = new RevocationChecker();
    const r = responder();
    const withStaple = { ...presented, stapled: await staple() };
    const first = await checker.forPage(r.fetch)(withStaple);
    expect(first).toMatchObject({ status: 'good', source: 'stapled' });
    // another page, the same staple: the verdict remembered, not verified again
    expect(await checker.forPage(r.fetch)(withStaple)).toBe(first);
    checker.forget();
    const again = await checker.forPage(r.fetch)(withStaple);
    expect(again).not.toBe(first);
    expect(again).toMatchObject({ status: 'good', source: 'stapled' });
    expect(r.asked).toEqual([]); // a staple needs no responder
  });

  it('says "unavailable" when neither the responder nor the CRL answers', async () => {
    const checker = new RevocationChecker();
    const down = async () => {
      throw new Error('connection refused');
    };
    const rev = await checker.forPage(down)(presented);
    expect(rev.status).toBe('unavailable');
    expect(rev.detail).toContain('http://ca.test/ocsp: connection refused');
  });
});
