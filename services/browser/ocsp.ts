// The browser's side of OCSP (RFC 6960): build a request for the server's certificate, and read an
// answer — stapled in the handshake or fetched from the CA — checking that it is about this
// certificate and signed by its issuer (or a responder the issuer delegated to).
import * as pkijs from 'pkijs';

pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: globalThis.crypto }));

const der = (b: Buffer) => new Uint8Array(b).slice().buffer;

export interface OcspVerdict {
  status: 'good' | 'revoked' | 'unknown';
  detail: string;
}

export async function ocspStatus(response: Buffer, leafDer: Buffer, issuerDer: Buffer): Promise<OcspVerdict> {
  const leaf = pkijs.Certificate.fromBER(der(leafDer));
  const issuer = pkijs.Certificate.fromBER(der(issuerDer));
  const ocsp = pkijs.OCSPResponse.fromBER(der(response));
  const status = ocsp.responseStatus.valueBlock.valueDec;
  if (status !== 0 || !ocsp.responseBytes) throw new Error(`the responder answered status ${status}`);
  const basic = pkijs.BasicOCSPResponse.fromBER(
    new Uint8Array(ocsp.responseBytes.response.valueBlock.valueHexView).slice().buffer,
  );
  if (!(await basic.verify({ trustedCerts: [issuer] })))
    throw new Error('the OCSP response signature does not verify against the issuer');
  const serial = Buffer.from(leaf.serialNumber.valueBlock.valueHexView).toString('hex');
  const single = basic.tbsResponseData.responses.find(
    (r) => Buffer.from(r.certID.serialNumber.valueBlock.valueHexView).toString('hex') === serial,
  );
  if (!single) throw new Error('the OCSP response is about another certificate');
  if (single.nextUpdate && single.nextUpdate.getTime() < Date.now())
    throw new Error('the OCSP response is out of date');
  const tag = (single.certStatus as { idBlock: { tagNumber: number } }).idBlock.tagNumber;
  const verdict = (['good', 'revoked', 'unknown'] as const)[tag] ?? 'unknown';
  return {
    status: verdict,
    detail: `${verdict}, produced ${basic.tbsResponseData.producedAt.toISOString()}`,
  };
}

export async function ocspRequestFor(
  leafDer: Buffer,
  issuerDer: Buffer,
): Promise<{ request: Buffer; check(response: Buffer): Promise<OcspVerdict> }> {
  const leaf = pkijs.Certificate.fromBER(der(leafDer));
  const issuer = pkijs.Certificate.fromBER(der(issuerDer));
  const req = new pkijs.OCSPRequest();
  await req.createForCertificate(leaf, { hashAlgorithm: 'SHA-1', issuerCertificate: issuer });
  return {
    request: Buffer.from(req.toSchema(true).toBER(false)),
    check: (r) => ocspStatus(r, leafDer, issuerDer),
  };
}
