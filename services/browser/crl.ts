// JOURNEY 21, last resort: no stapled answer and no OCSP answer — the CRL named in the certificate's
// CRL distribution points (RFC 5280 §4.2.1.13), checked against the issuer's signature and its dates.
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { OcspVerdict } from './ocsp.js';

const der = (b: Buffer) => new Uint8Array(b).slice().buffer;
const CRL_DISTRIBUTION_POINTS = '2.5.29.31';

/** The first http URL in the certificate's CRL distribution points, if any. */
export function crlUrlOf(leafDer: Buffer): string | undefined {
  const leaf = pkijs.Certificate.fromBER(der(leafDer));
  const ext = leaf.extensions?.find((e) => e.extnID === CRL_DISTRIBUTION_POINTS);
  if (!ext) return undefined;
  const dps = new pkijs.CRLDistributionPoints({
    schema: asn1js.fromBER(ext.extnValue.valueBlock.valueHexView).result,
  });
  for (const dp of dps.distributionPoints)
    for (const name of (dp.distributionPoint as pkijs.GeneralName[] | undefined) ?? [])
      if (name.type === 6 && /^http:/.test(String(name.value))) return String(name.value);
  return undefined;
}

export async function crlStatus(
  crlDer: Buffer,
  leafDer: Buffer,
  issuerDer: Buffer,
  now = new Date(),
): Promise<OcspVerdict> {
  const leaf = pkijs.Certificate.fromBER(der(leafDer));
  const issuer = pkijs.Certificate.fromBER(der(issuerDer));
  const crl = pkijs.CertificateRevocationList.fromBER(der(crlDer));
  if (!(await crl.verify({ issuerCertificate: issuer })))
    throw new Error('the CRL signature does not verify against the issuer');
  if (crl.nextUpdate && crl.nextUpdate.value.getTime() < now.getTime())
    throw new Error('the CRL is out of date');
  const serial = Buffer.from(leaf.serialNumber.valueBlock.valueHexView).toString('hex');
  const hit = crl.revokedCertificates?.find(
    (r) => Buffer.from(r.userCertificate.valueBlock.valueHexView).toString('hex') === serial,
  );
  const issued = crl.thisUpdate.value.toISOString();
  return hit
    ? { status: 'revoked', detail: `revoked on ${hit.revocationDate.value.toISOString()} (CRL of ${issued})` }
    : { status: 'good', detail: `not on the CRL of ${issued}` };
}
