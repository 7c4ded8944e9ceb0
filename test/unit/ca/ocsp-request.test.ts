// Reading OCSP requests (RFC 6960 §4.1.1) from the blocks asn1js decodes: the fields a responder
// needs, and malformedRequest — as a value, never an exception — for anything of another shape.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ID_PKIX_OCSP_NONCE,
  readOcspRequest,
  readOcspRequestAgain,
} from '../../../services/ca/ocsp-request.js';

const SHA1 = '1.3.14.3.2.26';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const der = (b: asn1js.BaseBlock) => new Uint8Array(b.toBER(false));
const seq = (...value: asn1js.BaseBlock[]) => new asn1js.Sequence({ value });
const tagged = (tagNumber: number, ...value: asn1js.BaseBlock[]) =>
  new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber }, value });
const octets = (h: string) => new asn1js.OctetString({ valueHex: Buffer.from(h, 'hex') });

function certID(serial = '0123456789abcdef', fields?: asn1js.BaseBlock[]) {
  return seq(
    ...(fields ?? [
      seq(new asn1js.ObjectIdentifier({ value: SHA1 }), new asn1js.Null()),
      octets('11'.repeat(20)),
      octets('22'.repeat(20)),
      new asn1js.Integer({ valueHex: Buffer.from(serial, 'hex') }),
    ]),
  );
}

const nonceExtension = (value: asn1js.BaseBlock = octets(`0410${'ab'.repeat(16)}`)) =>
  tagged(2, seq(seq(new asn1js.ObjectIdentifier({ value: ID_PKIX_OCSP_NONCE }), value)));

/** OCSPRequest { TBSRequest { [version], requestList, [extensions] } } */
function request(parts: { version?: number; ids?: asn1js.BaseBlock[]; extensions?: asn1js.BaseBlock } = {}) {
  const tbs: asn1js.BaseBlock[] = [];
  if (parts.version !== undefined) tbs.push(tagged(0, new asn1js.Integer({ value: parts.version })));
  tbs.push(seq(...(parts.ids ?? [certID()]).map((id) => seq(id))));
  if (parts.extensions) tbs.push(parts.extensions);
  return der(seq(seq(...tbs)));
}

const dir = mkdtempSync(join(tmpdir(), 'ocsp-request-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('reading an OCSP request', () => {
  it('reads the CertID, its serial and the nonce of a request openssl builds', () => {
    const f = (n: string) => join(dir, n);
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('k.pem')]);
    execFileSync('openssl', [
      'req',
      '-x509',
      '-new',
      '-key',
      f('k.pem'),
      '-subj',
      '/CN=ca',
      '-out',
      f('ca.pem'),
    ]);
    execFileSync('openssl', ['ocsp', '-issuer', f('ca.pem'), '-serial', '0x0a1b2c', '-reqout', f('n.der')]);
    const q = readOcspRequest(new Uint8Array(readFileSync(f('n.der'))));
    if (q.malformed) throw new Error(q.reason);
    expect(q.requests).toHaveLength(1);
    expect(hex(q.requests[0].serialNumber)).toBe('0a1b2c');
    expect(q.requests[0].hashAlgorithm).toBe(SHA1);
    expect(q.requests[0].issuerKeyHash).toHaveLength(20);
    // RFC 8954: the nonce's extnValue is an OCTET STRING holding the nonce octets
    expect(hex(q.nonce ?? new Uint8Array()).slice(0, 4)).toBe('0410');
    expect(q.nonce).toHaveLength(18);
    // a signed request (RFC 6960 §4.1.2: optionalSignature with the signer's certificate)
    const signer = ['-signer', f('ca.pem'), '-signkey', f('k.pem')];
    execFileSync('openssl', [
      'ocsp',
      '-issuer',
      f('ca.pem'),
      '-serial',
      '7',
      ...signer,
      '-reqout',
      f('s.der'),
    ]);
    const signed = readOcspRequest(new Uint8Array(readFileSync(f('s.der'))));
    if (signed.malformed) throw new Error(signed.reason);
    expect(hex(signed.requests[0].serialNumber)).toBe('07');
  });

  it('reads what pkijs writes, and the CertID bytes as they came', () => {
    const id = new pkijs.CertID({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA1, algorithmParams: new asn1js.Null() }),
      issuerNameHash: octets('33'.repeat(20)),
      issuerKeyHash: octets('44'.repeat(20)),
      serialNumber: new asn1js.Integer({ valueHex: Buffer.from('00ff', 'hex') }),
    });
    const req = new pkijs.OCSPRequest();
    req.tbsRequest.requestList = [new pkijs.Request({ reqCert: id })];
    const q = readOcspRequest(der(req.toSchema(true)));
    if (q.malformed) throw new Error(q.reason);
    expect(hex(q.requests[0].serialNumber)).toBe('00ff');
    expect(hex(q.requests[0].der)).toBe(hex(der(id.toSchema())));
    expect(q.nonce).toBeUndefined();
  });

  it('accepts an explicit v1, a requestor name, extensions it does not know and several CertIDs', () => {
    const other = seq(
      new asn1js.ObjectIdentifier({ value: '1.2.3.4' }),
      new asn1js.Boolean({ value: false }),
      octets('05'),
    );
    const tbs = seq(
      tagged(0, new asn1js.Integer({ value: 0 })),
      tagged(1, tagged(2, new asn1js.IA5String({ value: 'browser.test' }))),
      seq(seq(certID('01')), seq(certID('02'), tagged(0, seq(other)))),
      tagged(2, seq(other)),
    );
    const q = readOcspRequest(der(seq(tbs)));
    if (q.malformed) throw new Error(q.reason);
    expect(q.requests.map((r) => hex(r.serialNumber))).toEqual(['01', '02']);
    expect(q.nonce).toBeUndefined();
  });

  it.each([
    ['an empty body', new Uint8Array()],
    ['garbage', new Uint8Array([0x30, 0x03, 0x02, 0x01])],
    ['a bare INTEGER', der(new asn1js.Integer({ value: 5 }))],
    ['bytes after the request', new Uint8Array([...request(), 0x00])],
    ['version v2', request({ version: 1 })],
    ['no request in the list', request({ ids: [] })],
    ['seventeen requests', request({ ids: Array.from({ length: 17 }, () => certID()) })],
    ['a CertID of three fields', request({ ids: [certID('01', [seq(), octets('11'), octets('22')])] })],
    [
      'a serial that is an OCTET STRING',
      request({
        ids: [
          certID('01', [
            seq(new asn1js.ObjectIdentifier({ value: SHA1 })),
            octets('11'),
            octets('22'),
            octets('01'),
          ]),
        ],
      }),
    ],
    [
      'a nonce that is not an OCTET STRING',
      request({ extensions: nonceExtension(new asn1js.Integer({ value: 7 })) }),
    ],
    ['extensions in the wrong tag', request({ extensions: tagged(3, seq()) })],
  ])('answers malformed to %s', (_what, body) => {
    const q = readOcspRequest(body);
    expect(q.malformed).toBe(true);
    if (q.malformed) expect(q.reason).toMatch(/\w/);
  });

  it('answers malformed to every truncation of a request, never throwing', () => {
    const whole = request({ extensions: nonceExtension() });
    expect(readOcspRequest(whole).malformed).toBe(false);
    for (let n = 0; n < whole.length; n++) expect(readOcspRequest(whole.subarray(0, n)).malformed).toBe(true);
  });

  it('never throws on a request with any one byte changed', () => {
    const whole = request({ extensions: nonceExtension() });
    for (let i = 0; i < whole.length; i++)
      for (const x of [0x00, 0x01, 0x80, 0xff]) {
        const b = whole.slice();
        b[i] ^= x;
        expect(() => readOcspRequest(b)).not.toThrow();
      }
  });

  it('answers malformed to a hash in a constructed (BER) OCTET STRING', () => {
    const ber = new asn1js.OctetString({ isConstructed: true, value: [octets('11'), octets('22')] });
    const alg = seq(new asn1js.ObjectIdentifier({ value: SHA1 }));
    const id = certID('01', [alg, ber, octets('22'), new asn1js.Integer({ value: 1 })]);
    expect(readOcspRequest(request({ ids: [id] })).malformed).toBe(true);
  });
});

describe('reading a request again', () => {
  const withNonce = (serial: string, nonceHex: string) =>
    request({ ids: [certID(serial)], extensions: nonceExtension(octets(nonceHex)) });

  it('reads a request equal to one read before but for its nonce as that question with the new nonce', () => {
    const first = readOcspRequestAgain(withNonce('0a0b', `0410${'01'.repeat(16)}`));
    const again = readOcspRequestAgain(withNonce('0a0b', `0410${'02'.repeat(16)}`));
    if (first.malformed || again.malformed) throw new Error('malformed');
    expect(hex(again.nonce ?? new Uint8Array())).toBe(`0410${'02'.repeat(16)}`);
    expect(again.requests).toBe(first.requests); // not decoded a second time
    expect(again).toEqual({
      ...readOcspRequest(withNonce('0a0b', `0410${'02'.repeat(16)}`)),
      requests: first.requests,
    });
  });

  it('decodes anew a request of the same length that differs outside its nonce', () => {
    readOcspRequestAgain(withNonce('0a0b', `0410${'03'.repeat(16)}`));
    const other = readOcspRequestAgain(withNonce('0a0c', `0410${'03'.repeat(16)}`));
    if (other.malformed) throw new Error(other.reason);
    expect(hex(other.requests[0].serialNumber)).toBe('0a0c');
    const truncated = withNonce('0a0b', `0410${'04'.repeat(16)}`).subarray(0, 40);
    expect(readOcspRequestAgain(truncated).malformed).toBe(true);
  });

  it('does not keep what it reads from a buffer the caller reuses', () => {
    const body = Buffer.from(withNonce('0d0e', `0410${'05'.repeat(16)}`));
    const first = readOcspRequestAgain(body);
    body.fill(0);
    const again = readOcspRequestAgain(Buffer.from(withNonce('0d0e', `0410${'06'.repeat(16)}`)));
    if (first.malformed || again.malformed) throw new Error('malformed');
    expect(hex(first.nonce ?? new Uint8Array())).toBe(`0410${'05'.repeat(16)}`);
    expect(hex(again.requests[0].serialNumber)).toBe('0d0e');
  });
});
