// Reading an OCSPRequest (RFC 6960 §4.1.1): asn1js decodes the bytes, and this walks the decoded
// blocks for the few fields a responder needs. pkijs' OCSPRequest does the same by comparing the
// whole tree against its schema, which cost about a millisecond a request; this is the same
// library decode without the schema comparison. A request that does not have the shape of the
// RFC's ASN.1 is malformed (RFC 6960 §2.3: malformedRequest), with the reason as a value.
import * as asn1js from 'asn1js';

export const ID_PKIX_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';

/** One CertID asked about: the hash of the issuer's name and key, and the serial (INTEGER bytes). */
export interface CertIdAsked {
  /** the CertID as decoded, to be echoed in the SingleResponse (RFC 6960 §4.2.1) */
  certID: asn1js.Sequence;
  /** the CertID's bytes as received: the same question has the same bytes */
  der: Uint8Array;
  hashAlgorithm: string;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  serialNumber: Uint8Array;
}

export type OcspQuestion =
  | {
      malformed: false;
      requests: CertIdAsked[];
      /** the nonce extension's extnValue (RFC 8954) */
      nonce?: Uint8Array;
      /** where the nonce's bytes are in the request */
      nonceAt?: number;
    }
  | { malformed: true; reason: string };

const CONTEXT = 3;
const MAX_REQUESTS = 16;

class Malformed extends Error {}

function fail(reason: string): never {
  throw new Malformed(reason);
}

/** the children of a SEQUENCE, or of an EXPLICIT [n] wrapper */
function children(b: asn1js.AsnType | undefined, what: string): asn1js.AsnType[] {
  if (b instanceof asn1js.Sequence) return b.valueBlock.value;
  return fail(`${what} is not a SEQUENCE`);
}

function explicit(b: asn1js.AsnType, tag: number): asn1js.AsnType | undefined {
  if (!(b instanceof asn1js.Constructed) || b.idBlock.tagClass !== CONTEXT || b.idBlock.tagNumber !== tag)
    return undefined;
  const inner = b.valueBlock.value;
  if (inner.length !== 1) fail(`[${tag}] holds ${inner.length} values, not one`);
  return inner[0];
}

function octets(b: asn1js.AsnType | undefined, what: string): Uint8Array {
  if (b instanceof asn1js.OctetString && !b.valueBlock.isConstructed) return b.valueBlock.valueHexView;
  return fail(`${what} is not an OCTET STRING`);
}

function oid(b: asn1js.AsnType | undefined, what: string): string {
  if (b instanceof asn1js.ObjectIdentifier) return b.valueBlock.toString();
  return fail(`${what} is not an OBJECT IDENTIFIER`);
}

function certIdOf(request: asn1js.AsnType): CertIdAsked {
  // Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
  const [reqCert, extra, ...rest] = children(request, 'Request');
  if (rest.length || (extra && !explicit(extra, 0))) fail('Request has unexpected fields');
  // CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber }
  const fields = children(reqCert, 'CertID');
  if (fields.length !== 4) fail(`CertID has ${fields.length} fields, not 4`);
  const [algorithm, nameHash, keyHash, serial] = fields;
  const [algorithmId, params, ...more] = children(algorithm, 'hashAlgorithm');
  if (more.length || (params && !(params instanceof asn1js.Null)))
    fail('hashAlgorithm has unexpected parameters');
  if (!(serial instanceof asn1js.Integer)) fail('serialNumber is not an INTEGER');
  return {
    certID: reqCert as asn1js.Sequence,
    der: (reqCert as asn1js.Sequence).valueBeforeDecodeView,
    hashAlgorithm: oid(algorithmId, 'hashAlgorithm'),
    issuerNameHash: octets(nameHash, 'issuerNameHash'),
    issuerKeyHash: octets(keyHash, 'issuerKeyHash'),
    serialNumber: serial.valueBlock.valueHexView,
  };
}

function nonceOf(extensions: asn1js.AsnType): Uint8Array | undefined {
  // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
  let nonce: Uint8Array | undefined;
  for (const extension of children(extensions, 'requestExtensions')) {
    const fields = children(extension, 'Extension');
    const value = fields[fields.length - 1];
    if (
      fields.length < 2 ||
      fields.length > 3 ||
      (fields.length === 3 && !(fields[1] instanceof asn1js.Boolean))
    )
      fail('an Extension has unexpected fields');
    if (oid(fields[0], 'extnID') === ID_PKIX_OCSP_NONCE) nonce = octets(value, 'the nonce');
    else octets(value, 'extnValue');
  }
  return nonce;
}

export function readOcspRequest(der: Uint8Array): OcspQuestion {
  try {
    if (!der.length) fail('the request is empty');
    // OCTET STRINGs are left as bytes: a nonce or a hash is not parsed as if it held DER
    const decoded = asn1js.fromBER(der, { parseEmbedded: false, maxDepth: 32 });
    if (decoded.offset === -1) fail(`not DER: ${decoded.result.error}`);
    if (decoded.offset !== der.length) fail('bytes after the request');
    // OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL }
    const [tbsRequest, signature, ...rest] = children(decoded.result, 'OCSPRequest');
    if (rest.length || (signature && !explicit(signature, 0))) fail('OCSPRequest has unexpected fields');
    // TBSRequest ::= SEQUENCE { version [0] DEFAULT v1, requestorName [1] OPTIONAL, requestList,
    //                           requestExtensions [2] EXPLICIT Extensions OPTIONAL }
    const fields = [...children(tbsRequest, 'TBSRequest')];
    const version = fields[0] && explicit(fields[0], 0);
    if (version) {
      if (!(version instanceof asn1js.Integer) || version.valueBlock.valueDec !== 0)
        fail('version is not v1');
      fields.shift();
    }
    if (fields[0] && explicit(fields[0], 1)) fields.shift(); // requestorName: not used
    const requestList = children(fields.shift(), 'requestList');
    if (!requestList.length || requestList.length > MAX_REQUESTS)
      fail(`requestList has ${requestList.length} requests (1 to ${MAX_REQUESTS} are answered)`);
    const extensions = fields[0] && explicit(fields[0], 2);
    if (fields.length > (extensions ? 1 : 0)) fail('TBSRequest has unexpected fields');
    const requests = requestList.map(certIdOf);
    const nonce = extensions ? nonceOf(extensions) : undefined;
    if (!nonce) return { malformed: false, requests };
    // asn1js decodes a copy of the bytes: offsets in it are offsets in the request
    const nonceAt = nonce.byteOffset - decoded.result.valueBeforeDecodeView.byteOffset;
    return { malformed: false, requests, nonce, nonceAt };
  } catch (err) {
    if (err instanceof Malformed) return { malformed: true, reason: err.message };
    throw err;
  }
}

/** A request with a nonce, read before: its bytes, and where its nonce lies in them. */
interface Remembered {
  bytes: Uint8Array;
  nonceAt: number;
  nonceEnd: number;
  requests: CertIdAsked[];
}

const remembered: Remembered[] = [];
const REMEMBERED_MAX = 64;

const sameBytes = (a: Uint8Array, b: Uint8Array, from: number, to: number) =>
  Buffer.compare(a.subarray(from, to), b.subarray(from, to)) === 0;

/**
 * readOcspRequest for a responder that is asked again and again: a client asking about the same
 * certificates sends the same bytes around a new nonce of the same length (RFC 8954 §2.1), and the
 * nonce is an OCTET STRING's content, which the decode leaves as opaque bytes; so a request equal
 * to one read before everywhere but in its nonce is that question with this nonce, without a
 * second decode.
 */
export function readOcspRequestAgain(der: Uint8Array): OcspQuestion {
  for (const r of remembered)
    if (
      r.bytes.length === der.length &&
      sameBytes(r.bytes, der, 0, r.nonceAt) &&
      sameBytes(r.bytes, der, r.nonceEnd, der.length)
    ) {
      const nonce = new Uint8Array(der.subarray(r.nonceAt, r.nonceEnd)); // a copy: der may be a pooled Buffer
      return { malformed: false, requests: r.requests, nonce, nonceAt: r.nonceAt };
    }
  const q = readOcspRequest(der);
  if (!q.malformed && q.nonce && q.nonceAt !== undefined) {
    if (remembered.length >= REMEMBERED_MAX) remembered.shift();
    const nonceEnd = q.nonceAt + q.nonce.length;
    remembered.push({ bytes: new Uint8Array(der), nonceAt: q.nonceAt, nonceEnd, requests: q.requests });
  }
  return q;
}
