// The lab CA's certificates against their profiles, as pkilint's lint_pkix_cert and
// lint_cabf_serverauth_cert check them (pkilint is a Python package the lab cannot install here):
// RFC 5280 for every certificate, and the CA/Browser Forum Baseline Requirements (BR 2.x) §7.1.2 for
// each type — root (§7.1.2.1), TLS subordinate CA (§7.1.2.6), OCSP responder (§7.1.2.8) and
// domain-validated subscriber (§7.1.2.7). Two findings are allowed, as in the lab's README: names
// under .test (internal names, BR §7.1.2.7.12) and the root's single-label name constraint.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  CertificatePolicies,
  CRLDistributionPoints,
  ExtendedKeyUsage,
  type Extension,
  KeyUsage,
  KeyUsageFlags,
  NameConstraints,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALG, type Hierarchy, loadOrCreateHierarchy } from '../../../services/ca/hierarchy.js';
import { issueLeaf } from '../../../services/ca/issue.js';

const OID = {
  countryName: '2.5.4.6',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  certificatePolicies: '2.5.29.32',
  anyPolicy: '2.5.29.32.0',
  crlDistributionPoints: '2.5.29.31',
  subjectAltName: '2.5.29.17',
  nameConstraints: '2.5.29.30',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  ocsp: '1.3.6.1.5.5.7.48.1',
  caIssuers: '1.3.6.1.5.5.7.48.2',
  domainValidated: '2.23.140.1.2.1',
};
const DAY = 86_400_000;

/** One parsed certificate, with the questions every profile asks of it. */
class Cert {
  readonly c: Certificate;
  constructor(der: ArrayBuffer) {
    this.c = AsnConvert.parse(der, Certificate);
  }
  get tbs() {
    return this.c.tbsCertificate;
  }
  /** subject attribute types in DER order, one entry per attribute */
  subjectTypes(): string[] {
    return this.tbs.subject.flatMap((rdn) => rdn.map((a) => a.type));
  }
  subjectValue(type: string): string | undefined {
    for (const rdn of this.tbs.subject) for (const a of rdn) if (a.type === type) return a.value.toString();
    return undefined;
  }
  ext(oid: string): Extension | undefined {
    return this.tbs.extensions?.find((e) => e.extnID === oid);
  }
  parsed<T>(oid: string, type: new () => T): T | undefined {
    const e = this.ext(oid);
    return e ? AsnConvert.parse(e.extnValue.buffer, type) : undefined;
  }
  days(): number {
    return (this.tbs.validity.notAfter.getTime() - this.tbs.validity.notBefore.getTime()) / DAY;
  }
  ski(): string | undefined {
    const s = this.parsed(OID.subjectKeyIdentifier, SubjectKeyIdentifier);
    return s && Buffer.from(s.buffer).toString('hex');
  }
  akiKeyId(): string | undefined {
    const a = this.parsed(OID.authorityKeyIdentifier, AuthorityKeyIdentifier);
    return a?.keyIdentifier && Buffer.from(a.keyIdentifier.buffer).toString('hex');
  }
  ekus(): string[] {
    return [...(this.parsed(OID.extKeyUsage, ExtendedKeyUsage) ?? [])];
  }
  policies(): string[] {
    return (this.parsed(OID.certificatePolicies, CertificatePolicies) ?? []).map((p) => p.policyIdentifier);
  }
  keyUsage(): number {
    const ku = this.parsed(OID.keyUsage, KeyUsage);
    return ku ? ku.toNumber() : 0;
  }
}

/** RFC 5280 findings that apply to every certificate, as lint_pkix_cert reports them. */
function rfc5280Findings(x: Cert): string[] {
  const f: string[] = [];
  const serial = Buffer.from(x.tbs.serialNumber);
  // §4.1.2.2: a positive integer of at most 20 octets
  if (serial.length > 20 || (serial[0] & 0x80) !== 0) f.push('rfc5280 §4.1.2.2 serial');
  // §4.1.1.2: the signature algorithm inside and outside the signed part are the same
  if (x.tbs.signature.algorithm !== x.c.signatureAlgorithm.algorithm) f.push('rfc5280 §4.1.1.2 signature');
  // §4.1.2.1: extensions need version 3
  if (x.tbs.version !== 2) f.push('rfc5280 §4.1.2.1 version');
  // §4.2: an extension appears at most once
  const ids = (x.tbs.extensions ?? []).map((e) => e.extnID);
  if (new Set(ids).size !== ids.length) f.push('rfc5280 §4.2 duplicate extension');
  // §4.2.1.1: AKI with a key identifier (a self-signed root may leave it out; ours has it)
  if (!x.akiKeyId()) f.push('rfc5280 §4.2.1.1 authorityKeyIdentifier');
  // §4.2.1.6: an empty subject needs a critical SAN
  if (x.tbs.subject.length === 0 && !x.ext(OID.subjectAltName)?.critical)
    f.push('rfc5280 §4.2.1.6 empty subject without critical SAN');
  const bc = x.parsed(OID.basicConstraints, BasicConstraints);
  if (bc?.cA) {
    // §4.2.1.9: critical on a CA; §4.2.1.2: a CA has a subject key identifier; §4.2.1.3: keyCertSign
    if (!x.ext(OID.basicConstraints)?.critical) f.push('rfc5280 §4.2.1.9 basicConstraints not critical');
    if (!x.ski()) f.push('rfc5280 §4.2.1.2 CA without subjectKeyIdentifier');
    if (!(x.keyUsage() & KeyUsageFlags.keyCertSign)) f.push('rfc5280 §4.2.1.3 CA without keyCertSign');
  }
  // §4.2.1.3: keyUsage SHOULD be critical
  if (x.ext(OID.keyUsage) && !x.ext(OID.keyUsage)?.critical) f.push('rfc5280 §4.2.1.3 keyUsage not critical');
  return f;
}

/** BR §7.1.2.10.2 / §7.1.4.2: C, O, CN in that order, one each; no OU; an ISO 3166-1 country. */
function caSubjectFindings(x: Cert): string[] {
  const f: string[] = [];
  const order = x.subjectTypes();
  if (order.join() !== [OID.countryName, OID.organizationName, OID.commonName].join())
    f.push(`br §7.1.4.2 subject order ${order.join(' ')}`);
  if (order.includes(OID.organizationalUnitName)) f.push('br §7.1.2.10.2 organizationalUnitName');
  if (!/^[A-Z]{2}$/.test(x.subjectValue(OID.countryName) ?? '') || x.subjectValue(OID.countryName) === 'XX')
    f.push('br §7.1.2.10.2 countryName');
  return f;
}

function rootFindings(x: Cert): string[] {
  const f = [...rfc5280Findings(x), ...caSubjectFindings(x)];
  const bc = x.parsed(OID.basicConstraints, BasicConstraints);
  if (!bc?.cA) f.push('br §7.1.2.1.4 basicConstraints cA');
  if (bc?.pathLenConstraint !== undefined) f.push('br §7.1.2.1.4 pathLenConstraint on a root');
  if (x.keyUsage() !== (KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)) f.push('br §7.1.2.1.4 keyUsage');
  if (x.ext(OID.extKeyUsage)) f.push('br §7.1.2.1.4 extKeyUsage on a root');
  if (x.ext(OID.certificatePolicies)) f.push('br §7.1.2.1.4 certificatePolicies on a root');
  // §7.1.2.1.3: the AKI, when present, names the root's own key
  if (x.akiKeyId() !== x.ski()) f.push('br §7.1.2.1.3 authorityKeyIdentifier');
  // §7.1.2.1.1: a root is valid between 2922 and 9132 days
  if (x.days() < 2922 || x.days() > 9132) f.push(`br §7.1.2.1.1 validity ${x.days()} days`);
  return f;
}

function intermediateFindings(x: Cert, root: Cert): string[] {
  const f = [...rfc5280Findings(x), ...caSubjectFindings(x)];
  const bc = x.parsed(OID.basicConstraints, BasicConstraints);
  if (!bc?.cA) f.push('br §7.1.2.6 basicConstraints cA');
  if (x.akiKeyId() !== root.ski()) f.push('br §7.1.2.11.1 authorityKeyIdentifier');
  // §7.1.2.6.5 (§7.1.2.10.5): a reserved policy, and not anyPolicy for a CA outside the root's operator
  const policies = x.policies();
  if (!policies.includes(OID.domainValidated) || policies.includes(OID.anyPolicy))
    f.push(`br §7.1.2.10.5 certificatePolicies ${policies.join(' ')}`);
  // §7.1.2.10.6: TLS server authentication only, not critical
  if (x.ekus().join() !== OID.serverAuth || x.ext(OID.extKeyUsage)?.critical)
    f.push(`br §7.1.2.10.6 extKeyUsage ${x.ekus().join(' ')}`);
  // §7.1.2.10.7: keyCertSign and cRLSign
  if ((x.keyUsage() & (KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)) === 0)
    f.push('br §7.1.2.10.7 keyUsage');
  const crldp = x.parsed(OID.crlDistributionPoints, CRLDistributionPoints);
  if (!crldp?.length) f.push('br §7.1.2.11.2 cRLDistributionPoints');
  if (x.days() > 1826 * 1.5) f.push('validity');
  return f;
}

function responderFindings(x: Cert, issuer: Cert): string[] {
  const f = [...rfc5280Findings(x), ...caSubjectFindings(x)];
  if (x.akiKeyId() !== issuer.ski()) f.push('br §7.1.2.8.? authorityKeyIdentifier');
  // §7.1.2.8.5: id-kp-OCSPSigning only; §7.1.2.8.6: id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1)
  if (x.ekus().join() !== OID.ocspSigning) f.push(`br §7.1.2.8.5 extKeyUsage ${x.ekus().join(' ')}`);
  if (!x.ext(OID.ocspNoCheck)) f.push('br §7.1.2.8.6 id-pkix-ocsp-nocheck');
  // §7.1.2.8.7: digitalSignature only, critical
  if (x.keyUsage() !== KeyUsageFlags.digitalSignature) f.push('br §7.1.2.8.7 keyUsage');
  if (x.parsed(OID.basicConstraints, BasicConstraints)?.cA) f.push('br §7.1.2.8.4 basicConstraints cA');
  if (x.ext(OID.subjectAltName) || x.ext(OID.nameConstraints))
    f.push('br §7.1.2.8.2 SAN or name constraints');
  return f;
}

function leafFindings(x: Cert, issuer: Cert): string[] {
  const f = rfc5280Findings(x);
  // §7.1.2.7.2: a DV subject has no attribute but an optional CN (kept: GnuTLS refuses an empty subject)
  if (x.subjectTypes().some((t) => t !== OID.commonName) || x.subjectTypes().length > 1)
    f.push(`br §7.1.2.7.2 subject ${x.subjectTypes().join(' ')}`);
  // RFC 5280 §4.2.1.6: a non-empty subject goes with a SAN that is not critical
  if (x.tbs.subject.length > 0 && x.ext(OID.subjectAltName)?.critical)
    f.push('rfc5280 §4.2.1.6 critical SAN with a subject');
  if (x.akiKeyId() !== issuer.ski()) f.push('br §7.1.2.11.1 authorityKeyIdentifier');
  // §7.1.2.7.7: OCSP and caIssuers over http
  const aia = x.parsed(OID.authorityInfoAccess, AuthorityInfoAccessSyntax) ?? [];
  for (const method of [OID.ocsp, OID.caIssuers])
    if (
      !aia.some(
        (a) => a.accessMethod === method && /^http:/.test(a.accessLocation.uniformResourceIdentifier ?? ''),
      )
    )
      f.push(`br §7.1.2.7.7 authorityInformationAccess ${method}`);
  if (x.policies().join() !== OID.domainValidated)
    f.push(`br §7.1.2.7.9 certificatePolicies ${x.policies()}`);
  if (x.ekus().join() !== OID.serverAuth) f.push(`br §7.1.2.7.10 extKeyUsage ${x.ekus().join(' ')}`);
  // §7.1.2.7.11: an ECDSA key signs only (digitalSignature)
  if (x.keyUsage() !== KeyUsageFlags.digitalSignature) f.push('br §7.1.2.7.11 keyUsage');
  if (x.parsed(OID.basicConstraints, BasicConstraints)?.cA) f.push('br §7.1.2.7.8 basicConstraints cA');
  if (!x.parsed(OID.subjectAltName, SubjectAlternativeName)?.length) f.push('br §7.1.2.7.12 subjectAltName');
  // §7.1.2.7.6: subjectKeyIdentifier NOT RECOMMENDED on a subscriber certificate
  if (x.ext(OID.subjectKeyIdentifier)) f.push('br §7.1.2.7.6 subjectKeyIdentifier');
  // §6.3.2: at most 398 days
  if (x.days() > 398) f.push(`br §6.3.2 validity ${x.days()} days`);
  return f;
}

const dir = mkdtempSync(join(tmpdir(), 'ca-profiles-'));
let h: Hierarchy;
let root: Cert;
let inter: Cert;
let responder: Cert;
let leaf: Cert;

beforeAll(async () => {
  ({ h } = await loadOrCreateHierarchy(dir, { base: 'http://ca.test' }, ['172.28.0.0/16', 'fd28::/16']));
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const issued = await issueLeaf(h, { base: 'http://ca.test' }, keys.publicKey, [
    'www.example.test',
    'example.test',
    '172.28.2.80',
  ]);
  root = new Cert(h.root.cert.rawData);
  inter = new Cert(h.intermediate.cert.rawData);
  responder = new Cert(h.responder.cert.rawData);
  leaf = new Cert(issued.rawData);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the lab CA certificates pass the RFC 5280 and Baseline Requirements profiles', () => {
  it('the root: C, O, CN and no OU; no pathLenConstraint, no EKU or policies; its name constraints kept', () => {
    expect(rootFindings(root)).toEqual([]);
    const nc = root.parsed(OID.nameConstraints, NameConstraints);
    // the single-label dNSName "test": the one pkilint finding the lab keeps (RFC 5280 §4.2.1.10)
    expect(nc?.permittedSubtrees?.map((s) => s.base.dNSName).filter(Boolean)).toEqual(['test']);
    expect(root.ext(OID.nameConstraints)?.critical).toBe(true);
  });

  it('the intermediate: C, O, CN; the domain-validated policy; serverAuth only; its AKI names the root', () => {
    expect(intermediateFindings(inter, root)).toEqual([]);
  });

  it('the OCSP responder: OCSPSigning only, ocsp-nocheck, digitalSignature, issued by the intermediate', () => {
    expect(responderFindings(responder, inter)).toEqual([]);
  });

  it('a leaf: only a CN (one of its SAN names), a SAN not critical, the DV policy, no SKI, AIA and CRL DP over http', () => {
    expect(leafFindings(leaf, inter)).toEqual([]);
    expect(leaf.subjectTypes()).toEqual([OID.commonName]);
    expect(leaf.ext(OID.subjectAltName)?.critical).toBe(false);
  });

  it('the checks find what pkilint found on the old profiles (they can fail)', () => {
    // the subject and extensions the lab used to issue, checked by the same functions
    const old = new Cert(h.root.cert.rawData);
    old.tbs.subject.reverse(); // CN first, as before
    expect(caSubjectFindings(old).join()).toMatch(/subject order/);
    old.tbs.subject.reverse();
    const noPolicy = new Cert(h.intermediate.cert.rawData);
    noPolicy.tbs.extensions = noPolicy.tbs.extensions?.filter((e) => e.extnID !== OID.certificatePolicies);
    expect(intermediateFindings(noPolicy, root).join()).toMatch(/certificatePolicies/);
    const withSki = new Cert(h.intermediate.cert.rawData); // has an SKI, as the old leaves did
    expect(leafFindings(withSki, root).join()).toMatch(/subjectKeyIdentifier/);
    const rootAsLeaf = new Cert(h.root.cert.rawData);
    expect(rootFindings(new Cert(h.intermediate.cert.rawData)).join()).toMatch(/pathLenConstraint/);
    expect(leafFindings(rootAsLeaf, root).join()).toMatch(/subject/);
  });
});
