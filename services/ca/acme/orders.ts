// The CA's ACME orders (RFC 8555 §7.1.3–7.4): the objects (order, authorization, challenge), their
// JSON views, and their life: a new order with its authorizations and challenges, a validation that
// moves them on, the finalize that signs the CSR. server.ts does the HTTP, JWS, nonces and accounts.
import { type KeyObject, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { keyAuthorization } from './jws.js';
import { AcmeProblem } from './problems.js';
import type { AcmeOptions } from './server.js';
import { type Validated, ValidationError, validateDns01, validateHttp01 } from './validate.js';

export type Status = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
export type ChallengeType = 'http-01' | 'dns-01';

export interface Account {
  id: string;
  key: KeyObject;
  thumbprint: string;
  contact: string[];
  orders: string[];
}
export interface Challenge {
  id: string;
  authz: string;
  type: ChallengeType;
  token: string;
  status: Status;
  validated?: string;
  error?: AcmeProblem;
}
export interface Authorization {
  id: string;
  account: string;
  name: string;
  wildcard: boolean;
  status: Status;
  expires: string;
  challenges: Challenge[];
}
export interface Order {
  id: string;
  account: string;
  status: Status;
  expires: string;
  names: string[];
  authzs: string[];
  certificate?: string;
  error?: AcmeProblem;
}

const DAY = 86_400_000;
const MAX_OBJECTS = 10_000;
export const id = () => randomBytes(12).toString('base64url');

/** keeps a map bounded: the oldest entry goes first (Map keeps insertion order) */
export const bounded = <V>(m: Map<string, V> | Set<string>, max: number) => {
  while (m.size > max) m.delete(m.keys().next().value as string);
};

const identifier = (name: string) => ({ type: 'dns', value: name });

// The JSON views of each object (RFC 8555 §7.1.2–7.1.5)
export const orderJson = (base: string, ord: Order) => ({
  status: ord.status,
  expires: ord.expires,
  identifiers: ord.names.map(identifier),
  authorizations: ord.authzs.map((a) => `${base}/authz/${a}`),
  finalize: `${base}/finalize/${ord.id}`,
  ...(ord.certificate ? { certificate: `${base}/cert/${ord.certificate}` } : {}),
  ...(ord.error ? { error: ord.error.toJSON() } : {}),
});
export const challengeJson = (base: string, c: Challenge) => ({
  type: c.type,
  url: `${base}/chall/${c.id}`,
  status: c.status,
  token: c.token,
  ...(c.validated ? { validated: c.validated } : {}),
  ...(c.error ? { error: c.error.toJSON() } : {}),
});
export const authzJson = (base: string, a: Authorization) => ({
  identifier: identifier(a.name),
  status: a.status,
  expires: a.expires,
  challenges: a.challenges.map((c) => challengeJson(base, c)),
  ...(a.wildcard ? { wildcard: true } : {}),
});
export const accountJson = (base: string, acct: Account) => ({
  status: 'valid',
  contact: acct.contact,
  orders: `${base}/acct/${acct.id}/orders`,
});

/** The server's orders, authorizations, challenges and certificates, and what happens to them. */
export function createOrderBook(o: Pick<AcmeOptions, 'events' | 'validator' | 'checkNames' | 'issue'>) {
  const orders = new Map<string, Order>();
  const authzs = new Map<string, Authorization>();
  const challenges = new Map<string, Challenge>();
  const certs = new Map<string, string>();

  const setOrderStatus = (ord: Order, status: Status, error?: AcmeProblem) => {
    ord.status = status;
    ord.error = error;
    o.events.emit({
      kind: 'acme.order',
      summary: `order ${ord.id} for ${ord.names.join(', ')} is ${status}${error ? `: ${error.detail}` : ''}`,
      data: {
        order: ord.id,
        account: ord.account,
        names: ord.names,
        status,
        ...(error ? { problem: error.toJSON() } : {}),
      },
    });
  };

  /** RFC 8555 §7.5.1: the CA checks the challenge, then the authorization and its order follow. */
  const runValidation = async (acct: Account, authz: Authorization, c: Challenge) => {
    const keyAuth = keyAuthorization(c.token, acct.key);
    let result: Validated;
    try {
      result =
        c.type === 'http-01'
          ? await validateHttp01(o.validator, authz.name, c.token, keyAuth)
          : await validateDns01(o.validator, authz.name, keyAuth);
    } catch (err) {
      const e =
        err instanceof ValidationError
          ? new AcmeProblem(err.type, err.message, 403)
          : new AcmeProblem('serverInternal', (err as Error).message, 500);
      c.status = 'invalid';
      c.error = e;
      authz.status = 'invalid';
      o.events.emit({
        kind: 'acme.validate',
        summary: `${c.type} for ${authz.name} fails: ${e.detail}`,
        data: { type: c.type, name: authz.name, ok: false, problem: e.toJSON(), from: o.validator.source },
      });
      for (const ord of orders.values())
        if (ord.authzs.includes(authz.id) && ord.status === 'pending') setOrderStatus(ord, 'invalid', e);
      return;
    }
    c.status = 'valid';
    c.validated = new Date().toISOString();
    authz.status = 'valid';
    o.events.emit({
      kind: 'acme.validate',
      summary: `${c.type} for ${authz.name} passes: ${result.detail} (asked from ${o.validator.source} at ${result.at})`,
      data: { type: c.type, name: authz.name, ok: true, at: result.at, from: o.validator.source },
    });
    for (const ord of orders.values()) {
      if (ord.status !== 'pending' || !ord.authzs.includes(authz.id)) continue;
      if (ord.authzs.every((a) => authzs.get(a)?.status === 'valid')) setOrderStatus(ord, 'ready');
    }
  };

  /** the account's own object of that kind, else 404 / 403 */
  const owned = <T extends { account: string }>(
    m: Map<string, T>,
    key: string,
    acct: Account,
    what: string,
  ) => {
    const v = m.get(key);
    if (!v) throw new AcmeProblem('malformed', `no such ${what}`, 404);
    if (v.account !== acct.id)
      throw new AcmeProblem('unauthorized', `this ${what} belongs to another account`, 403);
    return v;
  };

  const newOrder = (acct: Account, payload: Record<string, unknown>) => {
    const ids = payload.identifiers;
    if (!Array.isArray(ids) || ids.length === 0)
      throw new AcmeProblem('malformed', 'newOrder needs "identifiers": [{"type":"dns","value":…}]');
    const names: string[] = [];
    for (const i of ids as { type?: unknown; value?: unknown }[]) {
      if (i?.type !== 'dns' || typeof i.value !== 'string')
        throw new AcmeProblem('unsupportedIdentifier', 'only identifiers of type "dns" are supported');
      if (isIP(i.value))
        throw new AcmeProblem('rejectedIdentifier', `${i.value} is an address, not a DNS name`);
      names.push(i.value.toLowerCase());
    }
    try {
      o.checkNames(names);
    } catch (err) {
      throw new AcmeProblem('rejectedIdentifier', (err as Error).message);
    }
    const expires = new Date(Date.now() + 7 * DAY).toISOString();
    const ord: Order = {
      id: id(),
      account: acct.id,
      status: 'pending',
      expires,
      names: [...new Set(names)],
      authzs: [],
    };
    for (const name of ord.names) {
      const wildcard = name.startsWith('*.');
      const authz: Authorization = {
        id: id(),
        account: acct.id,
        name: wildcard ? name.slice(2) : name,
        wildcard,
        status: 'pending',
        expires,
        challenges: [],
      };
      // RFC 8555 §7.1.3: a wildcard is proved by dns-01 only
      for (const type of (wildcard ? ['dns-01'] : ['http-01', 'dns-01']) as ChallengeType[]) {
        const c: Challenge = {
          id: id(),
          authz: authz.id,
          type,
          token: randomBytes(32).toString('base64url'),
          status: 'pending',
        };
        authz.challenges.push(c);
        challenges.set(c.id, c);
      }
      authzs.set(authz.id, authz);
      ord.authzs.push(authz.id);
    }
    orders.set(ord.id, ord);
    acct.orders.push(ord.id);
    for (const m of [orders, authzs, challenges, certs] as Map<string, unknown>[]) bounded(m, MAX_OBJECTS);
    return ord;
  };

  /** RFC 8555 §7.4: the CSR names exactly the order's identifiers. */
  const finalize = async (acct: Account, ord: Order, payload: Record<string, unknown>, from: string) => {
    if (ord.status !== 'ready')
      throw new AcmeProblem(
        'orderNotReady',
        `order ${ord.id} is ${ord.status}, not ready: prove every name first`,
        403,
      );
    if (typeof payload.csr !== 'string')
      throw new AcmeProblem('malformed', 'finalize needs "csr" (base64url DER)');
    let issued: { chain: string; names: string[] };
    try {
      issued = await o.issue(Buffer.from(payload.csr, 'base64url'), ord.names, from, acct.id);
    } catch (err) {
      throw new AcmeProblem('badCSR', (err as Error).message);
    }
    const certId = id();
    certs.set(certId, issued.chain);
    ord.certificate = certId;
    setOrderStatus(ord, 'valid');
  };

  return { orders, authzs, challenges, certs, owned, newOrder, runValidation, finalize };
}
