// OCSP (RFC 6960) with pkijs: read a request, answer good / revoked / unknown for each certificate
// asked about, signed by the responder certificate; malformedRequest for garbage. pkijs speaks
// asn1js 4; the rest of the CA (@peculiar) meets it only as DER bytes.
import { createHash, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { Hierarchy } from './hierarchy.js';
import { type IssuedDb, REVOCATION_REASONS } from './issue.js';

pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto }));

const ID_PKIX_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';
export const OCSP_VALIDITY_S = 3600;
export const MAX_OCSP_REQUEST = 8192;

export type CertStatus = 'good' | 'revoked' | 'unknown';

export interface OcspAnswer {
  der: Uint8Array;
  statuses: { serial: string; status: CertStatus; reason?: string; revokedAt?: string }[];
  nonce?: string;
  thisUpdate: Date;
  nextUpdate: Date;
  malformed: boolean;
}

/** RFC 6960 §2.3: a bare status (1 = malformedRequest), no response bytes. */
function statusOnly(status: number): Uint8Array {
  const r = new pkijs.OCSPResponse({ responseStatus: new asn1js.Enumerated({ value: status }) });
  return new Uint8Array(r.toSchema().toBER(false));
}

function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000); // RFC 5280: GeneralizedTime without fractions
}

function toPkijsCert(der: ArrayBuffer): pkijs.Certificate {
  return pkijs.Certificate.fromBER(der);
}

export async function answerOcsp(body: Uint8Array, h: Hierarchy, db: IssuedDb): Promise<OcspAnswer> {
  const now = Date.now();
  const thisUpdate = wholeSeconds(now);
  const nextUpdate = wholeSeconds(now + OCSP_VALIDITY_S * 1000);
  const malformed = (): OcspAnswer => ({
    der: statusOnly(1),
    statuses: [],
    thisUpdate,
    nextUpdate,
    malformed: true,
  });
  if (body.length === 0 || body.length > MAX_OCSP_REQUEST) return malformed();
  let req: pkijs.OCSPRequest;
  try {
    const asn = asn1js.fromBER(new Uint8Array(body).buffer);
    if (asn.offset === -1) return malformed();
    req = new pkijs.OCSPRequest({ schema: asn.result });
  } catch {
    return malformed();
  }
  const list = req.tbsRequest.requestList;
  if (!list.length || list.length > 16) return malformed();

  const issuer = toPkijsCert(h.intermediate.cert.rawData);
  const issuerSpki = issuer.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
  const basic = new pkijs.BasicOCSPResponse();
  basic.tbsResponseData.responderID = toPkijsCert(h.responder.cert.rawData).subject;
  basic.tbsResponseData.producedAt = thisUpdate;
  const statuses: OcspAnswer['statuses'] = [];
  for (const r of list) {
    const certID = r.reqCert;
    const serial = Buffer.from(certID.serialNumber.valueBlock.valueHexView).toString('hex');
    const hashName =
      certID.hashAlgorithm.algorithmId === '1.3.14.3.2.26'
        ? 'sha1'
        : certID.hashAlgorithm.algorithmId === '2.16.840.1.101.3.4.2.1'
          ? 'sha256'
          : undefined;
    const keyHash = hashName ? createHash(hashName).update(issuerSpki).digest() : undefined;
    const ours = keyHash && Buffer.from(certID.issuerKeyHash.valueBlock.valueHexView).equals(keyHash);
    const rec = ours ? db.bySerial(serial) : undefined;
    const single = new pkijs.SingleResponse({ certID, thisUpdate, nextUpdate });
    if (!rec) {
      single.certStatus = new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } }); // unknown
      statuses.push({ serial, status: 'unknown' });
    } else if (rec.status === 'revoked') {
      // RevokedInfo: revocationTime, [0] EXPLICIT CRLReason
      single.certStatus = new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 1 },
        value: [
          new asn1js.GeneralizedTime({ valueDate: wholeSeconds(Date.parse(rec.revokedAt as string)) }),
          new asn1js.Constructed({
            idBlock: { tagClass: 3, tagNumber: 0 },
            value: [new asn1js.Enumerated({ value: REVOCATION_REASONS[rec.reason ?? 'unspecified'] })],
          }),
        ],
      });
      statuses.push({ serial, status: 'revoked', reason: rec.reason, revokedAt: rec.revokedAt });
    } else {
      single.certStatus = new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } }); // good
      statuses.push({ serial, status: 'good' });
    }
    basic.tbsResponseData.responses.push(single);
  }
  // RFC 8954 / 6960 §4.4.1: echo the nonce when one was sent
  const nonceExt = req.tbsRequest.requestExtensions?.find((e) => e.extnID === ID_PKIX_OCSP_NONCE);
  let nonce: string | undefined;
  if (nonceExt) {
    nonce = Buffer.from(nonceExt.extnValue.valueBlock.valueHexView).toString('hex');
    basic.tbsResponseData.responseExtensions = [
      new pkijs.Extension({
        extnID: ID_PKIX_OCSP_NONCE,
        extnValue: nonceExt.extnValue.valueBlock.valueHexView.slice().buffer,
      }),
    ];
  }
  basic.certs = [toPkijsCert(h.responder.cert.rawData)];
  await basic.sign(h.responder.keys.privateKey, 'SHA-256');
  const resp = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: 0 }),
    responseBytes: new pkijs.ResponseBytes({
      responseType: pkijs.id_PKIX_OCSP_Basic,
      response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }),
    }),
  });
  return {
    der: new Uint8Array(resp.toSchema().toBER(false)),
    statuses,
    nonce,
    thisUpdate,
    nextUpdate,
    malformed: false,
  };
}
