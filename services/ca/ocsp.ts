// OCSP (RFC 6960): read a request, answer good / revoked / unknown for each certificate asked about,
// signed by the responder certificate; malformedRequest for garbage. asn1js encodes every TLV; what
// does not change between answers (the responder's name and certificate, the algorithm) is encoded
// once per hierarchy, and the statements about a CertID once per second, so a request with a nonce
// costs the encoding of its nonce, one ECDSA signature (node:crypto, over the DER of
// tbsResponseData) and the wrapping. The rest of the CA (@peculiar) meets asn1js only as DER bytes.
import { createHash, KeyObject, sign } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { Hierarchy } from './hierarchy.js';
import { type IssuedDb, REVOCATION_REASONS } from './issue.js';
import { type CertIdAsked, ID_PKIX_OCSP_NONCE, readOcspRequestAgain } from './ocsp-request.js';

export const OCSP_VALIDITY_S = 3600;
/** RFC 5019 §2.1.1, RFC 6960 §2.4: an answer to a request without a nonce may be pre-produced;
 *  ours are reused for a minute at most, and never across a change of the certificate database */
export const PREPRODUCED_MS = 60_000;
const PREPRODUCED_MAX = 1024;
const STATEMENTS_MAX = 1024;
export const MAX_OCSP_REQUEST = 8192;

const ID_SHA1 = '1.3.14.3.2.26';
const ID_SHA256 = '2.16.840.1.101.3.4.2.1';
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const CONTEXT = 3;

export type CertStatus = 'good' | 'revoked' | 'unknown';

export interface OcspAnswer {
  der: Uint8Array;
  statuses: { serial: string; status: CertStatus; reason?: string; revokedAt?: string }[];
  nonce?: string;
  thisUpdate: Date;
  nextUpdate: Date;
  malformed: boolean;
  /** why the request was malformed */
  reason?: string;
}

/**
 * A block that writes the DER asn1js produced for `block`, without encoding `block` again: asn1js
 * makes the identifier and length, the content is what `block`'s value encoded to, once.
 */
export function encodedOnce(block: asn1js.BaseBlock): asn1js.Primitive {
  const { tagClass, tagNumber, isConstructed } = block.idBlock;
  const once = new asn1js.Primitive({
    idBlock: { tagClass, tagNumber },
    valueHex: block.valueBlock.toBER(false),
  });
  once.idBlock.isConstructed = isConstructed;
  return once;
}

const explicitTag = (tagNumber: number, inner: asn1js.BaseBlock) =>
  new asn1js.Constructed({ idBlock: { tagClass: CONTEXT, tagNumber }, value: [inner] });

const constant = {
  successful: encodedOnce(new asn1js.Enumerated({ value: 0 })),
  basic: encodedOnce(new asn1js.ObjectIdentifier({ value: pkijs.id_PKIX_OCSP_Basic })),
  nonce: encodedOnce(new asn1js.ObjectIdentifier({ value: ID_PKIX_OCSP_NONCE })),
  // RFC 5758 §3.2: ecdsa-with-SHA256 has no parameters
  ecdsaWithSha256: encodedOnce(
    new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: ECDSA_WITH_SHA256 })] }),
  ),
};

/** RFC 6960 §2.3: a bare status (1 = malformedRequest), no response bytes. */
const MALFORMED = new Uint8Array(
  new asn1js.Sequence({ value: [new asn1js.Enumerated({ value: 1 })] }).toBER(false),
);

function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000); // RFC 5280: GeneralizedTime without fractions
}

/** What every answer of one hierarchy shares, encoded once. */
interface Responder {
  key: KeyObject;
  issuerKeyHash: Record<'sha1' | 'sha256', Buffer>;
  /** ResponderID byName, [1] EXPLICIT Name */
  responderID: asn1js.Primitive;
  /** certs [0] EXPLICIT SEQUENCE OF Certificate: the responder's, so a client can check the delegation */
  certs: asn1js.Primitive;
}

const responderOf = new WeakMap<Hierarchy, Responder>();

function responderFor(h: Hierarchy): Responder {
  let r = responderOf.get(h);
  if (!r) {
    const key = KeyObject.from(h.responder.keys.privateKey);
    if (key.asymmetricKeyType !== 'ec')
      throw new Error(`the OCSP responder key is ${key.asymmetricKeyType}, not EC`);
    const issuer = pkijs.Certificate.fromBER(h.intermediate.cert.rawData);
    const spki = issuer.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
    const responderCert = pkijs.Certificate.fromBER(h.responder.cert.rawData);
    r = {
      key,
      issuerKeyHash: {
        sha1: createHash('sha1').update(spki).digest(),
        sha256: createHash('sha256').update(spki).digest(),
      },
      responderID: encodedOnce(explicitTag(1, responderCert.subject.toSchema())),
      certs: encodedOnce(
        explicitTag(0, new asn1js.Sequence({ value: [asn1js.fromBER(h.responder.cert.rawData).result] })),
      ),
    };
    responderOf.set(h, r);
  }
  return r;
}

/** CertStatus (RFC 6960 §4.2.1) of one CertID, from the certificate database. */
function certStatusOf(asked: CertIdAsked, r: Responder, db: IssuedDb) {
  const serial = Buffer.from(asked.serialNumber).toString('hex');
  const hashName =
    asked.hashAlgorithm === ID_SHA1 ? 'sha1' : asked.hashAlgorithm === ID_SHA256 ? 'sha256' : undefined;
  const ours = hashName && Buffer.from(asked.issuerKeyHash).equals(r.issuerKeyHash[hashName]);
  const rec = ours ? db.bySerial(serial) : undefined;
  if (!rec)
    return {
      status: { serial, status: 'unknown' as const },
      block: new asn1js.Primitive({ idBlock: { tagClass: CONTEXT, tagNumber: 2 } }),
    };
  if (rec.status === 'revoked') {
    // RevokedInfo: revocationTime, [0] EXPLICIT CRLReason
    const block = new asn1js.Constructed({
      idBlock: { tagClass: CONTEXT, tagNumber: 1 },
      value: [
        new asn1js.GeneralizedTime({ valueDate: wholeSeconds(Date.parse(rec.revokedAt as string)) }),
        explicitTag(0, new asn1js.Enumerated({ value: REVOCATION_REASONS[rec.reason ?? 'unspecified'] })),
      ],
    });
    return {
      status: { serial, status: 'revoked' as const, reason: rec.reason, revokedAt: rec.revokedAt },
      block,
    };
  }
  return {
    status: { serial, status: 'good' as const },
    block: new asn1js.Primitive({ idBlock: { tagClass: CONTEXT, tagNumber: 0 } }),
  };
}

/** tbsResponseData without its extensions: what the responder says about these CertIDs this second. */
interface Statement {
  revision: number;
  second: number;
  blocks: asn1js.Primitive[];
  statuses: OcspAnswer['statuses'];
  thisUpdate: Date;
  nextUpdate: Date;
}

const statementsOf = new WeakMap<Hierarchy, Map<string, Statement>>();

function statementFor(asked: CertIdAsked[], h: Hierarchy, db: IssuedDb, now: number): Statement {
  let statements = statementsOf.get(h);
  if (!statements) {
    statements = new Map();
    statementsOf.set(h, statements);
  }
  const second = Math.floor(now / 1000);
  const key = asked.map((a) => Buffer.from(a.der).toString('latin1')).join('\0');
  const kept = statements.get(key);
  if (kept && kept.revision === db.revision && kept.second === second) return kept;

  const r = responderFor(h);
  const thisUpdate = new Date(second * 1000);
  const nextUpdate = new Date((second + OCSP_VALIDITY_S) * 1000);
  const statuses: OcspAnswer['statuses'] = [];
  const responses = asked.map((a) => {
    const { status, block } = certStatusOf(a, r, db);
    statuses.push(status);
    // SingleResponse: certID (as asked), certStatus, thisUpdate, nextUpdate [0] EXPLICIT
    return new asn1js.Sequence({
      value: [
        a.certID,
        block,
        new asn1js.GeneralizedTime({ valueDate: thisUpdate }),
        explicitTag(0, new asn1js.GeneralizedTime({ valueDate: nextUpdate })),
      ],
    });
  });
  const statement: Statement = {
    revision: db.revision,
    second,
    blocks: [
      r.responderID,
      encodedOnce(new asn1js.GeneralizedTime({ valueDate: thisUpdate })), // producedAt
      encodedOnce(new asn1js.Sequence({ value: responses })),
    ],
    statuses,
    thisUpdate,
    nextUpdate,
  };
  if (statements.size >= STATEMENTS_MAX) statements.clear();
  statements.set(key, statement);
  return statement;
}

/** The signed BasicOCSPResponse in an OCSPResponse (RFC 6960 §4.2.1). */
function signedAnswer(statement: Statement, nonce: Uint8Array | undefined, r: Responder): Uint8Array {
  // RFC 8954 / 6960 §4.4.1: echo the nonce when one was sent, as responseExtensions [1] EXPLICIT
  const extensions = nonce
    ? [
        explicitTag(
          1,
          new asn1js.Sequence({
            value: [
              new asn1js.Sequence({ value: [constant.nonce, new asn1js.OctetString({ valueHex: nonce })] }),
            ],
          }),
        ),
      ]
    : [];
  const tbsResponseData = encodedOnce(new asn1js.Sequence({ value: [...statement.blocks, ...extensions] }));
  const signature = sign('sha256', new Uint8Array(tbsResponseData.toBER(false)), {
    key: r.key,
    dsaEncoding: 'der',
  });
  const basic = new asn1js.Sequence({
    value: [
      tbsResponseData,
      constant.ecdsaWithSha256,
      new asn1js.BitString({ valueHex: signature }),
      r.certs,
    ],
  });
  // OCSPResponse: successful, responseBytes [0] EXPLICIT { id-pkix-ocsp-basic, OCTET STRING }
  const response = new asn1js.Sequence({
    value: [
      constant.successful,
      explicitTag(
        0,
        new asn1js.Sequence({
          value: [constant.basic, new asn1js.OctetString({ valueHex: basic.toBER(false) })],
        }),
      ),
    ],
  });
  return new Uint8Array(response.toBER(false));
}

const preproducedOf = new WeakMap<
  Hierarchy,
  Map<string, { answer: OcspAnswer; revision: number; until: number }>
>();

export function answerOcsp(body: Uint8Array, h: Hierarchy, db: IssuedDb): OcspAnswer {
  const now = Date.now();
  let preproduced = preproducedOf.get(h);
  if (!preproduced) {
    preproduced = new Map();
    preproducedOf.set(h, preproduced);
  }
  // the same request bytes, already answered since the last change: only nonce-less requests are kept
  const key = body.length <= MAX_OCSP_REQUEST ? Buffer.from(body).toString('latin1') : '';
  const kept = preproduced.get(key);
  if (kept && kept.revision === db.revision && now < kept.until) return kept.answer;
  const answer = produce(body, h, db, now);
  if (!answer.malformed && answer.nonce === undefined) {
    if (preproduced.size >= PREPRODUCED_MAX) preproduced.clear();
    preproduced.set(key, { answer, revision: db.revision, until: now + PREPRODUCED_MS });
  }
  return answer;
}

function produce(body: Uint8Array, h: Hierarchy, db: IssuedDb, now: number): OcspAnswer {
  const question =
    body.length > MAX_OCSP_REQUEST
      ? { malformed: true as const, reason: `the request is larger than ${MAX_OCSP_REQUEST} bytes` }
      : readOcspRequestAgain(body);
  if (question.malformed)
    return {
      der: MALFORMED,
      statuses: [],
      thisUpdate: wholeSeconds(now),
      nextUpdate: wholeSeconds(now + OCSP_VALIDITY_S * 1000),
      malformed: true,
      reason: question.reason,
    };
  const statement = statementFor(question.requests, h, db, now);
  return {
    der: signedAnswer(statement, question.nonce, responderFor(h)),
    statuses: statement.statuses,
    nonce: question.nonce && Buffer.from(question.nonce).toString('hex'),
    thisUpdate: statement.thisUpdate,
    nextUpdate: statement.nextUpdate,
    malformed: false,
  };
}
