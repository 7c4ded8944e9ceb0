// Leaf certificates from CSRs, the database of what was issued and revoked, and the CRL.

import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLNumber, id_ce_cRLNumber } from '@peculiar/asn1-x509';
import {
  ALG,
  type CaUrls,
  DOMAIN_VALIDATED,
  type Hierarchy,
  newSerial,
  writeAtomic,
  x509,
} from './hierarchy.js';

const DAY = 86_400_000;
export const LEAF_DAYS = 90;

export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  caCompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  privilegeWithdrawn: 9,
} as const;
export type ReasonName = keyof typeof REVOCATION_REASONS;

export interface IssuedRecord {
  serial: string;
  names: string[];
  notBefore: string;
  notAfter: string;
  status: 'good' | 'revoked';
  revokedAt?: string;
  reason?: ReasonName;
  /** the lab host that asked for it (who serves it), if known */
  requester?: string;
  pem: string;
}

export class CaRefusal extends Error {
  readonly code = 'ERR_CA_REFUSED';
}

/** Which names the CA signs: DNS names under .test, addresses inside the lab's ranges. */
export function checkNames(names: string[], inLabRange: (ip: string) => boolean): void {
  if (names.length === 0) throw new CaRefusal('the request names no DNS name or address');
  if (names.length > 32) throw new CaRefusal('at most 32 names a certificate');
  for (const n of names) {
    if (isIP(n)) {
      if (!inLabRange(n)) throw new CaRefusal(`${n} is not an address of the lab`);
      continue;
    }
    const lower = n.toLowerCase();
    if (!/^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)+test$/.test(lower)) {
      throw new CaRefusal(`${n} is not a name under .test: the lab's root may only certify .test (RFC 2606)`);
    }
  }
}

export class IssuedDb {
  private readonly path: string;
  records: IssuedRecord[];
  crlNumber: number;
  /** counts every saved change (issue, revoke, reset): answers made before it are stale */
  revision = 0;

  constructor(dir: string) {
    this.path = join(dir, 'issued.json');
    const saved = existsSync(this.path)
      ? JSON.parse(readFileSync(this.path, 'utf8'))
      : { records: [], crlNumber: 1 };
    this.records = saved.records;
    this.crlNumber = saved.crlNumber;
  }

  save(): void {
    this.revision++;
    writeAtomic(this.path, JSON.stringify({ records: this.records, crlNumber: this.crlNumber }, null, 1));
  }

  bySerial(serial: string): IssuedRecord | undefined {
    const s = serial.toLowerCase().replace(/^0+/, '');
    return this.records.find((r) => r.serial.toLowerCase().replace(/^0+/, '') === s);
  }

  /** `lab ca revoke <name|serial>`: every good certificate with that serial or name. */
  find(nameOrSerial: string): IssuedRecord[] {
    const bySerial = this.bySerial(nameOrSerial);
    if (bySerial) return [bySerial];
    const n = nameOrSerial.toLowerCase();
    return this.records.filter((r) => r.names.some((x) => x.toLowerCase() === n));
  }
}

export async function issueLeaf(
  h: Hierarchy,
  urls: CaUrls,
  publicKey: CryptoKey,
  names: string[],
  opts: {
    notBefore?: Date;
    notAfter?: Date;
    signer?: { cert: x509.X509Certificate; keys: CryptoKeyPair };
  } = {},
): Promise<x509.X509Certificate> {
  const signer = opts.signer ?? h.intermediate;
  const now = Date.now();
  // BR §7.1.2.7.2: a domain-validated subject holds at most a CN, one of the SAN's names (a pkilint
  // warning, not an error). The lab keeps it: GnuTLS clients (kdig +tls) fail the handshake on a
  // certificate whose subject is empty.
  const commonName = names.find((n) => !isIP(n));
  return x509.X509CertificateGenerator.create({
    serialNumber: newSerial(),
    subject: commonName ? `CN=${commonName}` : '',
    issuer: signer.cert.subject,
    notBefore: opts.notBefore ?? new Date(now - 3_600_000),
    notAfter: opts.notAfter ?? new Date(now + LEAF_DAYS * DAY),
    publicKey,
    signingKey: signer.keys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      // RFC 5280 §4.2.1.6: the SAN is critical only when the subject is empty
      new x509.SubjectAlternativeNameExtension(
        names.map((n) => (isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n })),
        !commonName,
      ),
      // BR §7.1.2.7.6: no subject key identifier on a subscriber certificate (NOT RECOMMENDED)
      await x509.AuthorityKeyIdentifierExtension.create(signer.keys.publicKey),
      // BR §7.1.2.7.9: the reserved domain-validated policy
      new x509.CertificatePolicyExtension([DOMAIN_VALIDATED]),
      new x509.AuthorityInfoAccessExtension({
        ocsp: [`${urls.base}/ocsp`],
        caIssuers: [`${urls.base}/intermediate.cer`],
      }),
      new x509.CRLDistributionPointsExtension([`${urls.base}/crl/intermediate.crl`]),
    ],
  });
}

/** Reads a CSR: verifies its signature and returns its key and names (SAN, else CN). */
export async function readCsr(pem: string): Promise<{ publicKey: CryptoKey; names: string[] }> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch {
    throw new CaRefusal('the body is not a PEM certificate request (PKCS #10)');
  }
  if (!(await csr.verify())) throw new CaRefusal("the request's signature does not verify");
  const san = csr.extensions.find((e) => e.type === '2.5.29.17');
  let names = san
    ? new x509.SubjectAlternativeNameExtension(san.rawData).names.items.map((n) => n.value)
    : [];
  if (names.length === 0) {
    const cn = /CN=([^,]+)/.exec(csr.subject)?.[1];
    names = cn ? [cn] : [];
  }
  const alg = csr.publicKey.algorithm as { name: string; namedCurve?: string };
  const publicKey = await csr.publicKey.export(
    alg.name === 'ECDSA'
      ? { name: 'ECDSA', namedCurve: alg.namedCurve ?? 'P-256' }
      : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    ['verify'],
  );
  return { publicKey, names };
}

export function record(cert: x509.X509Certificate, names: string[], requester?: string): IssuedRecord {
  return {
    serial: cert.serialNumber,
    names,
    requester,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    status: 'good',
    pem: cert.toString('pem'),
  };
}

/** The intermediate's CRL (RFC 5280 §5): every revoked serial with date and reason; next update in a day. */
export async function buildCrl(
  h: Hierarchy,
  db: IssuedDb,
  signer: 'intermediate' | 'root' = 'intermediate',
): Promise<ArrayBuffer> {
  const s = h[signer];
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const entries = signer === 'root' ? [] : db.records.filter((r) => r.status === 'revoked');
  const crl = await x509.X509CrlGenerator.create({
    issuer: s.cert.subject,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + DAY),
    entries: entries.map((r) => ({
      serialNumber: r.serial,
      revocationDate: new Date(r.revokedAt as string),
      reason: REVOCATION_REASONS[r.reason ?? 'unspecified'] as x509.X509CrlReason,
    })),
    signingKey: s.keys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(s.keys.publicKey),
      new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(db.crlNumber))),
    ],
  });
  return crl.rawData;
}
