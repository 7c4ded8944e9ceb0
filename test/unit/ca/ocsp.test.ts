// OCSP answers (RFC 6960) and their pre-production (RFC 5019): a nonce-less request is answered with
// the same signed bytes until the certificate database changes; a nonce is always answered fresh.
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocspStatus } from '../../../services/browser/ocsp.js';
import { ALG, type Hierarchy, loadOrCreateHierarchy } from '../../../services/ca/hierarchy.js';
import { IssuedDb, issueLeaf, record } from '../../../services/ca/issue.js';
import { answerOcsp, encodedOnce } from '../../../services/ca/ocsp.js';

const dir = mkdtempSync(join(tmpdir(), 'ocsp-unit-'));
let h: Hierarchy;
let db: IssuedDb;
const request = { plain: new Uint8Array(), nonce: new Uint8Array() };
let leafDer: Buffer;

beforeAll(async () => {
  ({ h } = await loadOrCreateHierarchy(dir, { base: 'http://ca.test' }, ['172.28.0.0/16']));
  db = new IssuedDb(dir);
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const leaf = await issueLeaf(h, { base: 'http://ca.test' }, keys.publicKey, ['www.example.test']);
  db.records.push(record(leaf, ['www.example.test']));
  db.save();
  writeFileSync(join(dir, 'leaf.pem'), leaf.toString('pem'));
  leafDer = Buffer.from(leaf.rawData);
  writeFileSync(join(dir, 'issuer.pem'), h.intermediate.cert.toString('pem'));
  // the requests as openssl builds them, with and without a nonce
  const reqout = (extra: string[], out: string) => {
    execFileSync('openssl', [
      'ocsp',
      '-issuer',
      join(dir, 'issuer.pem'),
      '-cert',
      join(dir, 'leaf.pem'),
      ...extra,
      '-reqout',
      join(dir, out),
    ]);
    return new Uint8Array(execFileSync('cat', [join(dir, out)]));
  };
  request.plain = reqout(['-no_nonce'], 'plain.der');
  request.nonce = reqout([], 'nonce.der');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Marks the leaf revoked in the database (a change the responder must see), or good again. */
function setLeafRevoked(reason: string | undefined): void {
  Object.assign(
    db.records[0],
    reason
      ? { status: 'revoked', revokedAt: new Date().toISOString(), reason }
      : { status: 'good', revokedAt: undefined, reason: undefined },
  );
  db.save();
}

describe('OCSP answers', () => {
  it('answers a nonce-less request with the same pre-produced bytes until the database changes', async () => {
    const first = answerOcsp(request.plain, h, db);
    const again = answerOcsp(request.plain, h, db);
    expect(first.statuses).toMatchObject([{ status: 'good' }]);
    expect(Buffer.from(again.der).equals(Buffer.from(first.der))).toBe(true);
    // a revocation is a change: the next answer is signed anew and says revoked
    setLeafRevoked('keyCompromise');
    const after = answerOcsp(request.plain, h, db);
    expect(after.statuses).toMatchObject([{ status: 'revoked', reason: 'keyCompromise' }]);
    setLeafRevoked(undefined);
  });

  it('signs every answer to a request with a nonce, echoes the nonce, and openssl verifies it', async () => {
    const a = answerOcsp(request.nonce, h, db);
    const b = answerOcsp(request.nonce, h, db);
    expect(a.nonce).toMatch(/^[0-9a-f]+$/);
    expect(Buffer.from(a.der).equals(Buffer.from(b.der))).toBe(false);
    writeFileSync(join(dir, 'resp.der'), a.der);
    writeFileSync(join(dir, 'root.pem'), h.root.cert.toString('pem'));
    const out = execFileSync(
      'openssl',
      [
        'ocsp',
        '-respin',
        join(dir, 'resp.der'),
        '-reqin',
        join(dir, 'nonce.der'),
        '-CAfile',
        join(dir, 'root.pem'),
        '-issuer',
        join(dir, 'issuer.pem'),
        '-resp_text',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(out).toMatch(/Cert Status: good/);
    expect(out).toMatch(/OCSP Nonce/);
  });

  it('answers a nonce with revoked as soon as the certificate is revoked, in the same second', async () => {
    const issuer = Buffer.from(h.intermediate.cert.rawData);
    const before = answerOcsp(request.nonce, h, db);
    expect(await ocspStatus(Buffer.from(before.der), leafDer, issuer)).toMatchObject({ status: 'good' });
    setLeafRevoked('superseded');
    const after = answerOcsp(request.nonce, h, db);
    expect(after.statuses).toMatchObject([{ status: 'revoked', reason: 'superseded' }]);
    expect(await ocspStatus(Buffer.from(after.der), leafDer, issuer)).toMatchObject({ status: 'revoked' });
    setLeafRevoked(undefined);
  });

  it('answers unknown for a serial it never issued, signed all the same', async () => {
    db.records[0].serial = `ff${db.records[0].serial}`;
    db.save();
    const a = answerOcsp(request.nonce, h, db);
    db.records[0].serial = db.records[0].serial.slice(2);
    db.save();
    expect(a.statuses).toMatchObject([{ status: 'unknown' }]);
    const issuer = Buffer.from(h.intermediate.cert.rawData);
    expect(await ocspStatus(Buffer.from(a.der), leafDer, issuer)).toMatchObject({ status: 'unknown' });
  });

  it('writes a block encoded once as the same DER asn1js writes for the block', () => {
    const blocks: asn1js.BaseBlock[] = [
      new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: '1.2.840.10045.4.3.2' })] }),
      new asn1js.GeneralizedTime({ valueDate: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)) }),
      new asn1js.Enumerated({ value: 0 }),
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: [new asn1js.Sequence()] }),
      new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } }),
      new asn1js.OctetString({ valueHex: new Uint8Array(300).fill(7) }),
    ];
    for (const b of blocks)
      expect(Buffer.from(encodedOnce(b).toBER(false)).toString('hex')).toBe(
        Buffer.from(b.toBER(false)).toString('hex'),
      );
  });

  it('answers garbage with malformedRequest and never keeps it', async () => {
    const bad = answerOcsp(new Uint8Array([0x30, 0x03, 0x02, 0x01]), h, db);
    expect(bad.malformed).toBe(true);
    expect(bad.reason).toMatch(/not DER/);
    // RFC 6960 §4.2.1: OCSPResponse { responseStatus malformedRequest (1) }, no responseBytes
    expect(Buffer.from(bad.der).toString('hex')).toBe('30030a0101');
    expect(answerOcsp(request.plain, h, db).malformed).toBe(false);
  });
});
