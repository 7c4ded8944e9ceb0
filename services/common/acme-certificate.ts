// A lab host's certificate through ACME (RFC 8555): a key and a CSR, an order at
// http://ca.test/acme/, proved over http-01 on the host's own port 80 (its web server's, or a
// standalone one while the web server is not up yet: services/common/acme-challenges.ts). At a lab's
// start the CA, the lab's DNS or the port 80 that a name points at may still be coming up: an order
// that failed for one of those reasons (RFC 8555 §6.7 "connection", "dns", or no CA yet) is made again
// until `waitMs` has passed; any other refusal ends it at once.
import './x509-crypto.js';
import { webcrypto } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import {
  type ChallengeRelay,
  publishChallenge,
  startStandaloneChallenges,
  unpublishChallenge,
} from './acme-challenges.js';
import { AcmeClient, AcmeClientError, accountKey, labTransport, obtainWithHttp01 } from './acme-client.js';
import type { Certificate } from './certificate.js';
import { addressOf, type LabSettings, port } from './settings.js';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

function write(path: string, data: string): void {
  writeFileSync(`${path}.tmp`, data, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export interface AcmeOptions {
  /**
   * Who answers http-01 on this host's port 80: its own web server, which calls answerAcmeChallenge
   * ('served', for renewals), or a standalone server for the time of the order ('standalone', the
   * default: the first certificate, before the web server starts).
   */
  http01?: 'served' | 'standalone';
  /** the standalone server relays the challenges it has no answer for (the proxy's, to web2) */
  relay?: ChallengeRelay;
  /** how long to keep trying while the CA, the DNS or a port 80 are still coming up */
  waitMs?: number;
}

/** How long a host starting beside the CA keeps trying (under the local runtime's 20 s for a host to be ready). */
export const ACME_START_WAIT_MS = 15_000;

const TRANSIENT_PROBLEMS = ['connection', 'dns'];
const TRANSIENT_ERRNO = ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT'];

/** Whether an order failed because something it needs was not up yet, so trying again can succeed. */
export function isTransient(err: unknown): boolean {
  if (err instanceof AcmeClientError) {
    const type = err.problem?.type ?? '';
    return TRANSIENT_PROBLEMS.some((t) => type === `urn:ietf:params:acme:error:${t}`);
  }
  const e = err as NodeJS.ErrnoException;
  return TRANSIENT_ERRNO.includes(e.code ?? '') || /no answer from the CA/.test(e.message ?? '');
}

/** A certificate for `names` through ACME, tried again on transient failures until `opts.waitMs`. */
export async function obtainCertificateViaAcme(
  settings: LabSettings,
  stateDir: string,
  source: string,
  names: string[],
  label = 'server',
  opts: AcmeOptions = {},
): Promise<Certificate> {
  const deadline = Date.now() + (opts.waitMs ?? ACME_START_WAIT_MS);
  for (let pause = 250; ; pause = Math.min(pause * 2, 2000)) {
    try {
      return await orderOnce(settings, stateDir, source, names, label, opts);
    } catch (err) {
      if (!isTransient(err) || Date.now() + pause > deadline) {
        const tried =
          opts.waitMs === 0 ? '' : ` (tried for ${Math.round((opts.waitMs ?? ACME_START_WAIT_MS) / 1000)} s)`;
        throw new Error(
          `no certificate through ACME: ${(err as Error).message}${isTransient(err) ? tried : ''}`,
        );
      }
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

async function orderOnce(
  settings: LabSettings,
  stateDir: string,
  source: string,
  names: string[],
  label: string,
  opts: AcmeOptions,
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
  const stopStandalone =
    (opts.http01 ?? 'standalone') === 'standalone'
      ? await startStandaloneChallenges(source, port(80, settings), opts.relay)
      : undefined;
  let chain: string;
  try {
    chain = await obtainWithHttp01(
      client,
      names,
      new Uint8Array(csr.rawData),
      publishChallenge,
      unpublishChallenge,
    );
  } finally {
    stopStandalone?.();
  }
  const key = x509.PemConverter.encode(
    await webcrypto.subtle.exportKey('pkcs8', keys.privateKey),
    'PRIVATE KEY',
  );
  write(join(stateDir, `${label}.key`), key);
  write(join(stateDir, `${label}.chain.pem`), chain);
  const leaf = new x509.X509Certificate(chain);
  return { key, chain, serial: leaf.serialNumber, notAfter: leaf.notAfter, fresh: true };
}
