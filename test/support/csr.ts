// A P-256 key and a CSR made by OpenSSL, as a workshop makes them for the CA: `<dir>/<name>.key` and
// `<dir>/<name>.csr` (PEM). Returns the CSR's path.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export function opensslCsr(dir: string, name: string, san: string): string {
  const out = join(dir, `${name}.csr`);
  execFileSync(
    'openssl',
    [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, `${name}.key`),
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=${san}`,
      '-out',
      out,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return out;
}
