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
/** RFC 5019 §2.1.1, RFC 6960 §2.4: an answer to a request without a nonce may be pre-produced;
 *  ours are reused for a minute at most, and never across a change of the certificate database */
export const PREPRODUCED_MS = 60_000;
const PREPRODUCED_MAX = 1024;
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

interface ResponderParts {
  issuerKeyHash: Record<'sha1' | 'sha256', Buffer>;
  responderCert: pkijs.Certificate;
  /** the responder certificate as it goes into every answer, decoded once: pkijs would re-read it each time */
  responderCertSchema: pkijs.Certificate;
}

/** A certificate that encodes as its own DER bytes: BasicOCSPResponse.toSchema asks each cert for its schema. */
function certificateAsIs(der: ArrayBuffer): pkijs.Certificate {
  const schema = asn1js.fromBER(der).result;
  return Object.assign(pkijs.Certificate.fromBER(der), { toSchema: () => schema });
}

// the issuer's key hashes and the responder's certificate, read once per hierarchy (asn1js is slow)
const partsOf = new WeakMap<Hierarchy, ResponderParts>();

function responderParts(h: Hierarchy): ResponderParts {
  let parts = partsOf.get(h);
  if (!parts) {
    const issuer = pkijs.Certificate.fromBER(h.intermediate.cert.rawData);
    const spki = issuer.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
    parts = {
      issuerKeyHash: {
        sha1: createHash('sha1').update(spki).digest(),
        sha256: createHash('sha256').update(spki).digest(),
      },
      responderCert: pkijs.Certificate.fromBER(h.responder.cert.rawData),
      responderCertSchema: certificateAsIs(h.responder.cert.rawData),
    };
    partsOf.set(h, parts);
  }
  return parts;
}

const preproducedOf = new WeakMap<
  Hierarchy,
  Map<string, { answer: OcspAnswer; revision: number; until: number }>
>();

export async function answerOcsp(body: Uint8Array, h: Hierarchy, db: IssuedDb): Promise<OcspAnswer> {
  const now = Date.now();
  let preproduced = preproducedOf.get(h);
  if (!preproduced) {
    preproduced = new Map();
    preproducedOf.set(h, preproduced);
  }
  // the same request bytes, already answered since the last change: only nonce-less requests are kept
  const key = body.length <= MAX_OCSP_REQUEST ? Buffer.from(body).toString('base64') : '';
  const kept = preproduced.get(key);
  if (kept && kept.revision === db.revision && now < kept.until) return kept.answer;
  const answer = await produce(body, h, db, now);
  if (!answer.malformed && answer.nonce === undefined) {
    if (preproduced.size >= PREPRODUCED_MAX) preproduced.clear();
    preproduced.set(key, { answer, revision: db.revision, until: now + PREPRODUCED_MS });
  }
  return answer;
}

async function produce(body: Uint8Array, h: Hierarchy, db: IssuedDb, now: number): Promise<OcspAnswer> {
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

  const parts = responderParts(h);
  const basic = new pkijs.BasicOCSPResponse();
  basic.tbsResponseData.responderID = parts.responderCert.subject;
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
    const keyHash = hashName ? parts.issuerKeyHash[hashName] : undefined;
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
  basic.certs = [parts.responderCertSchema];
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
