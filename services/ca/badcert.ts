// Certificates that are wrong on purpose, for the bad-cert story (JOURNEY 20): expired, issued for
// another name, or signed by a root nobody trusts. Each comes with its key so the proxy can serve it.
import { webcrypto } from 'node:crypto';
import { ALG, type CaUrls, exportKeyPem, type Hierarchy, newSerial, x509 } from './hierarchy.js';
import { issueLeaf } from './issue.js';

export const BAD_KINDS = ['expired', 'wrongname', 'untrusted'] as const;
export type BadKind = (typeof BAD_KINDS)[number];

const DAY = 86_400_000;

export async function makeBadCert(
  h: Hierarchy,
  urls: CaUrls,
  kind: string,
  name: string,
): Promise<{ key: string; chain: string; serial: string }> {
  if (!BAD_KINDS.includes(kind as BadKind)) throw new Error(`kind must be one of ${BAD_KINDS.join(', ')}`);
  if (!/^([a-z0-9-]+\.)+test$/.test(name)) throw new Error(`${name} is not a name under .test`);
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  let cert: x509.X509Certificate;
  let chain: string;
  if (kind === 'expired') {
    const now = Date.now();
    cert = await issueLeaf(h, urls, keys.publicKey, [name], {
      notBefore: new Date(now - 30 * DAY),
      notAfter: new Date(now - DAY),
    });
    chain = `${cert.toString('pem')}\n${h.intermediate.cert.toString('pem')}\n`;
  } else if (kind === 'wrongname') {
    cert = await issueLeaf(h, urls, keys.publicKey, [`not-${name}`]);
    chain = `${cert.toString('pem')}\n${h.intermediate.cert.toString('pem')}\n`;
  } else {
    const rogueKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const rogue = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: newSerial(),
      name: 'CN=Unknown Root CA, O=nobody trusts this',
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 365 * DAY),
      keys: rogueKeys,
      signingAlgorithm: ALG,
      extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
    });
    cert = await issueLeaf(h, urls, keys.publicKey, [name], { signer: { cert: rogue, keys: rogueKeys } });
    chain = `${cert.toString('pem')}\n${rogue.toString('pem')}\n`;
  }
  return { key: await exportKeyPem(keys.privateKey), chain, serial: cert.serialNumber };
}
