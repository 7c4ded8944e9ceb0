// A lab host's certificate through ACME (RFC 8555) instead of POST /issue: a key and a CSR as in
// certificate.ts, an order at http://ca.test/acme/, proved over http-01 on the host's own port 80.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { publishChallenge, unpublishChallenge } from './acme-challenges.js';
import { AcmeClient, accountKey, labTransport, obtainWithHttp01 } from './acme-client.js';
import type { Certificate } from './certificate.js';
import { addressOf, type LabSettings, port } from './settings.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

function write(path: string, data: string): void {
  writeFileSync(`${path}.tmp`, data, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export async function obtainCertificateViaAcme(
  settings: LabSettings,
  stateDir: string,
  source: string,
  names: string[],
  label = 'server',
): Promise<Certificate> {
  const caPort = port(80, settings);
  const directory = `http://ca.test${caPort === 80 ? '' : `:${caPort}`}/acme/directory`;
  const client = new AcmeClient(
    directory,
    labTransport(addressOf('ca', settings), caPort, source),
    accountKey(join(stateDir, 'acme-account.key')),
  );
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: 'dns' as const, value: n }))),
    ],
  });
  const chain = await obtainWithHttp01(
    client,
    names,
    new Uint8Array(csr.rawData),
    publishChallenge,
    unpublishChallenge,
  );
  const key = x509.PemConverter.encode(
    await webcrypto.subtle.exportKey('pkcs8', keys.privateKey),
    'PRIVATE KEY',
  );
  write(join(stateDir, `${label}.key`), key);
  write(join(stateDir, `${label}.chain.pem`), chain);
  const leaf = new x509.X509Certificate(chain);
  return { key, chain, serial: leaf.serialNumber, notAfter: leaf.notAfter, fresh: true };
}
