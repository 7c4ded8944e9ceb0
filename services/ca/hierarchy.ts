// The lab's PKI: a root whose name constraints permit only .test and the lab's addresses, an
// intermediate that issues leaves, and an OCSP responder. Keys and certificates live in the CA's
// state dir and survive restarts; every write is atomic (temp file + rename).
import '../common/x509-crypto.js';
import { randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  id_ce_nameConstraints,
  NameConstraints,
} from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';

export const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface KeyedCert {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export interface Hierarchy {
  root: KeyedCert;
  intermediate: KeyedCert;
  responder: KeyedCert;
}

/** URLs the certificates point at: http://ca.test[:port]/… */
export interface CaUrls {
  base: string;
}

export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  // the CA's keys (and its database) are for the CA's user only
  writeFileSync(tmp, data, { mode: 0o600 });
  renameSync(tmp, path);
}

export function newSerial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive INTEGER (RFC 5280 §4.1.2.2)
  if (b[0] === 0) b[0] = 1;
  return b.toString('hex');
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKeys(pem: string, cert: x509.X509Certificate): Promise<CryptoKeyPair> {
  const privateKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decode(pem)[0], ALG, true, [
    'sign',
  ]);
  const publicKey = await cert.publicKey.export(ALG, ['verify']);
  return { privateKey: privateKey as CryptoKey, publicKey: publicKey as CryptoKey };
}

/**
 * The CA/Browser Forum reserved policy for domain-validated server certificates (BR §7.1.6.1): the
 * intermediate and every leaf assert it (BR §7.1.2.6.5, §7.1.2.7.9).
 */
export const DOMAIN_VALIDATED = '2.23.140.1.2.1';

/**
 * CA subject names (BR §7.1.2.10.2, order per §7.1.4.2): countryName, organizationName, commonName;
 * no organizationalUnitName. The country is the ISO 3166-1 code of the CA's (here, notional) seat.
 */
export const CA_COUNTRY = 'SE';
export const caName = (cn: string) => `C=${CA_COUNTRY}, O=enterlab, CN=${cn}`;

/**
 * RFC 5280 §4.2.1.10: DNS names under .test and the lab's address ranges only.
 * The lab's safety: a root trusted in a real browser profile can never vouch for a real site. The
 * dNSName constraint "test" is a single label: pkilint flags it (it expects a registrable domain),
 * but RFC 5280 §4.2.1.10 defines the match on labels, so "test" permits exactly the names under .test.
 */
export function nameConstraintsExtension(ipRanges: string[]): x509.Extension {
  const subtrees = [
    new GeneralSubtree({ base: new GeneralName({ dNSName: 'test' }) }),
    ...ipRanges.map((cidr) => new GeneralSubtree({ base: new GeneralName({ iPAddress: cidr }) })),
  ];
  const value = AsnConvert.serialize(
    new NameConstraints({ permittedSubtrees: new GeneralSubtrees(subtrees) }),
  );
  return new x509.Extension(id_ce_nameConstraints, true, value);
}

async function createHierarchy(urls: CaUrls, ipRanges: string[]): Promise<Hierarchy> {
  const now = Date.now();
  const rootKeys = await generateKeys();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: caName('enterlab Root CA'),
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 3650 * DAY),
    keys: rootKeys,
    signingAlgorithm: ALG,
    extensions: [
      // BR §7.1.2.1.4: no pathLenConstraint on a root
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
      // BR §7.1.2.1.3: the root's authority key identifier is its own key's
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
      // not in the BR's root profile (a warning for linters): kept, it is what makes the lab safe
      nameConstraintsExtension(ipRanges),
    ],
  });
  const interKeys = await generateKeys();
  const intermediate = await x509.X509CertificateGenerator.create({
    serialNumber: newSerial(),
    subject: caName('enterlab Issuing CA 1'),
    issuer: root.subject,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 1825 * DAY),
    publicKey: interKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(interKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
      new x509.CRLDistributionPointsExtension([`${urls.base}/crl/root.crl`]),
      new x509.AuthorityInfoAccessExtension({ caIssuers: [`${urls.base}/root.cer`] }),
      // BR §7.1.2.6.5: the policy its leaves are issued under; §7.1.2.6.6: TLS server certificates only
      new x509.CertificatePolicyExtension([DOMAIN_VALIDATED]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  const respKeys = await generateKeys();
  const responder = await x509.X509CertificateGenerator.create({
    serialNumber: newSerial(),
    subject: caName('enterlab OCSP Responder'),
    issuer: intermediate.subject,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 365 * DAY),
    publicKey: respKeys.publicKey,
    signingKey: interKeys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.ocspSigning]),
      // RFC 6960 §4.2.2.2.1: id-pkix-ocsp-nocheck, a NULL value
      new x509.Extension('1.3.6.1.5.5.7.48.1.5', false, new asn1js.Null().toBER()),
      await x509.SubjectKeyIdentifierExtension.create(respKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(interKeys.publicKey),
    ],
  });
  return {
    root: { cert: root, keys: rootKeys },
    intermediate: { cert: intermediate, keys: interKeys },
    responder: { cert: responder, keys: respKeys },
  };
}

const PARTS = ['root', 'intermediate', 'responder'] as const;

export async function loadOrCreateHierarchy(
  dir: string,
  urls: CaUrls,
  ipRanges: string[],
  fresh = false,
): Promise<{ h: Hierarchy; created: boolean }> {
  mkdirSync(dir, { recursive: true });
  if (!fresh && PARTS.every((p) => existsSync(join(dir, `${p}.pem`)) && existsSync(join(dir, `${p}.key`)))) {
    const load = async (p: (typeof PARTS)[number]): Promise<KeyedCert> => {
      const cert = new x509.X509Certificate(readFileSync(join(dir, `${p}.pem`), 'utf8'));
      return { cert, keys: await importKeys(readFileSync(join(dir, `${p}.key`), 'utf8'), cert) };
    };
    return {
      h: {
        root: await load('root'),
        intermediate: await load('intermediate'),
        responder: await load('responder'),
      },
      created: false,
    };
  }
  const h = await createHierarchy(urls, ipRanges);
  for (const p of PARTS) {
    writeAtomic(join(dir, `${p}.key`), await exportKeyPem(h[p].keys.privateKey));
    writeAtomic(join(dir, `${p}.pem`), h[p].cert.toString('pem'));
  }
  return { h, created: true };
}

export { x509 };
