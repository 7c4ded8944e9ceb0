// How the CA checks a challenge (RFC 8555 §8.3, §8.4): from its own lab address, it looks the name up
// through the lab's resolver, then fetches http://NAME/.well-known/acme-challenge/TOKEN from port 80 of
// that address (http-01), or reads the TXT records of _acme-challenge.NAME (dns-01).
import { Resolver } from 'node:dns/promises';
import { request } from 'node:http';
import { dnsTxtValue } from './jws.js';

/** Why a validation failed, as an ACME error type (RFC 8555 §6.7). */
export class ValidationError extends Error {
  constructor(
    readonly type: 'connection' | 'dns' | 'unauthorized' | 'incorrectResponse',
    message: string,
  ) {
    super(message);
  }
}

export interface Validator {
  /** the CA's own lab address: every validation request goes out from it */
  source: string;
  /** the lab resolver, "address:port" */
  resolver: string;
  /** the port a web server listens on for http (80, shifted on a lab with a port offset) */
  httpPort: number;
  timeoutMs?: number;
}

export interface Validated {
  /** where the CA looked: "127.58.2.80:80" or the TXT name */
  at: string;
  detail: string;
}

function resolverFor(v: Validator): Resolver {
  // one try, a short timeout: a stuck lookup must not hold the order for long
  const r = new Resolver({ timeout: v.timeoutMs ?? 3000, tries: 1 });
  r.setLocalAddress(v.source);
  r.setServers([v.resolver]);
  return r;
}

const dnsProblem = (what: string, err: NodeJS.ErrnoException) =>
  new ValidationError('dns', `the lab resolver has no ${what} (${err.code ?? err.message})`);

/** RFC 8555 §8.3: the body of the HTTP answer must be the key authorization (trailing whitespace allowed). */
export async function validateHttp01(
  v: Validator,
  name: string,
  token: string,
  keyAuth: string,
): Promise<Validated> {
  let address: string;
  try {
    [address] = await resolverFor(v).resolve4(name);
  } catch (err) {
    throw dnsProblem(`address for ${name}`, err as NodeJS.ErrnoException);
  }
  const at = `${address}:${v.httpPort}`;
  const path = `/.well-known/acme-challenge/${token}`;
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        host: address,
        port: v.httpPort,
        path,
        localAddress: v.source,
        headers: { host: name, 'user-agent': 'enterlab-ca-acme-validator', accept: '*/*' },
        timeout: v.timeoutMs ?? 3000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        // a key authorization is short: anything past 8 KiB is not one
        res.on('data', (c: string) => {
          text += c;
          if (text.length > 8192) res.destroy();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new ValidationError(
          'connection',
          `cannot fetch http://${name}${path} from ${at}: ${err.code ?? err.message}`,
        ),
      ),
    );
    req.end();
  });
  if (status !== 200)
    throw new ValidationError('unauthorized', `http://${name}${path} at ${at} answered ${status}, not 200`);
  if (body.trimEnd() !== keyAuth)
    throw new ValidationError(
      'incorrectResponse',
      `http://${name}${path} at ${at} answered "${body.trim().slice(0, 80)}", not the key authorization`,
    );
  return { at, detail: `GET ${path} with Host ${name} answered the key authorization` };
}

/** RFC 8555 §8.4: one TXT record of _acme-challenge.NAME must be base64url(SHA-256(key authorization)). */
export async function validateDns01(v: Validator, name: string, keyAuth: string): Promise<Validated> {
  const at = `_acme-challenge.${name.replace(/^\*\./, '')}`;
  let records: string[][];
  try {
    records = await resolverFor(v).resolveTxt(at);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENODATA' || e.code === 'ENOTFOUND')
      throw new ValidationError('unauthorized', `no TXT record at ${at}`);
    throw dnsProblem(`TXT record at ${at}`, e);
  }
  const want = dnsTxtValue(keyAuth);
  const found = records.map((r) => r.join(''));
  if (!found.includes(want))
    throw new ValidationError(
      'unauthorized',
      `TXT ${at} is ${found.map((t) => `"${t}"`).join(', ')}, not "${want}"`,
    );
  return { at, detail: `TXT ${at} holds "${want}"` };
}
