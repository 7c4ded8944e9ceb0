// How a lab host gets its TLS certificate: the one saved in its state dir while it is still good,
// else a new one through the CA's ACME server (acme-certificate.ts: a key of its own, a CSR for its
// names, proved over http-01), saved for the next start. Also the plain GETs to ca.test (root.pem).
import './x509-crypto.js';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { type AcmeOptions, obtainCertificateViaAcme } from './acme-certificate.js';
import { addressOf, type LabSettings, port } from './settings.js';

export interface Certificate {
  key: string;
  /** leaf first, then the intermediate */
  chain: string;
  serial: string;
  notAfter: Date;
  /** fetched now (true) or reused from the state dir */
  fresh: boolean;
}

export function fetchFromCa(
  settings: LabSettings,
  source: string,
  path: string,
  body?: string | Buffer,
  contentType = 'application/pkcs10',
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: addressOf('ca', settings),
        port: port(80, settings),
        path,
        method: body === undefined ? 'GET' : 'POST',
        localAddress: source,
        headers: {
          host: 'ca.test',
          ...(body !== undefined
            ? { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }
            : {}),
        },
        timeout: 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('the CA did not answer in 5 s')));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(Object.assign(new Error(`cannot reach the CA at ca.test: ${err.message}`), { code: err.code })),
    );
    req.end(body);
  });
}

/** How long a host starting beside the CA waits for it to listen (the local runtime starts most hosts at once). */
export const CA_START_WAIT_MS = 15_000;

/** A request to the CA, retried while it is not listening yet (it may still be starting, as this host is). */
async function askCa(settings: LabSettings, source: string, path: string, body?: string) {
  const deadline = Date.now() + CA_START_WAIT_MS;
  for (;;) {
    try {
      return await fetchFromCa(settings, source, path, body);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const derOf = (pem: string) => x509.PemConverter.decode(pem).map((d) => Buffer.from(d));

/**
 * Whether a saved chain was issued by the CA's intermediate of today: after `lab ca reset` the CA has
 * a new hierarchy, and a leaf of the old one would not verify (the cache is keyed by issuer too).
 * If the CA cannot be asked, the saved chain is kept (it is checked again on the next renewal).
 */
async function issuedByCurrentCa(settings: LabSettings, source: string, chain: string): Promise<boolean> {
  let current: Buffer | undefined;
  try {
    const res = await askCa(settings, source, '/intermediate.pem');
    if (res.status === 200) current = derOf(res.body.toString('utf8'))[0];
  } catch {
    return true;
  }
  const saved = derOf(chain)[1];
  return !current || (!!saved && saved.equals(current));
}

/**
 * Reuses the saved certificate while it covers the names, has a week left and comes from the CA's
 * current intermediate (unless `force`); otherwise orders one through ACME.
 */
export async function obtainCertificate(
  settings: LabSettings,
  stateDir: string,
  source: string,
  names: string[],
  label = 'server',
  { force = false, ...acme }: AcmeOptions & { force?: boolean } = {},
): Promise<Certificate> {
  const keyPath = join(stateDir, `${label}.key`);
  const chainPath = join(stateDir, `${label}.chain.pem`);
  if (!force && existsSync(keyPath) && existsSync(chainPath)) {
    const chain = readFileSync(chainPath, 'utf8');
    const leaf = new x509.X509Certificate(chain);
    const san = leaf.getExtension(x509.SubjectAlternativeNameExtension);
    const has = new Set(san?.names.items.map((n) => n.value) ?? []);
    if (
      names.every((n) => has.has(n)) &&
      leaf.notAfter.getTime() - Date.now() > 7 * 86_400_000 &&
      (await issuedByCurrentCa(settings, source, chain))
    ) {
      return {
        key: readFileSync(keyPath, 'utf8'),
        chain,
        serial: leaf.serialNumber,
        notAfter: leaf.notAfter,
        fresh: false,
      };
    }
  }
  return obtainCertificateViaAcme(settings, stateDir, source, names, label, acme);
}
