// The CA's ACME server (RFC 8555), at http://ca.test/acme/: a client proves it controls a name before
// the CA signs it. Directory → nonce → account (a JWS with its key) → order → one authorization per
// name, each with an http-01 and a dns-01 challenge → the CA validates the one the client picks →
// finalize with a CSR for exactly the order's names → certificate chain (PEM).
//
// Events: acme.account, acme.order (each status change), acme.challenge (the client says "ready"),
// acme.validate (what the CA checked and where, ok or the problem), acme.refused (a problem answered).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Emitter } from '../../common/events.js';
import type { CaEvent } from '../events.js';
import { importJwk, JwsError, type ParsedJws, parseJws, thumbprint, verifyJws } from './jws.js';
import {
  type Account,
  accountJson,
  authzJson,
  bounded,
  challengeJson,
  createOrderBook,
  id,
  orderJson,
} from './orders.js';
import { AcmeProblem } from './problems.js';
import type { Validator } from './validate.js';

export interface AcmeOptions {
  events: Emitter<CaEvent>;
  validator: Validator;
  /** names the CA may sign at all (.test, lab addresses); throws a refusal otherwise */
  checkNames(names: string[]): void;
  /** signs a CSR (DER) whose names the server checked: returns the PEM chain, leaf first */
  issue(
    csrDer: Buffer,
    names: string[],
    requester: string,
    account: string,
  ): Promise<{ chain: string; names: string[] }>;
  /** the lab host behind a peer address, for events */
  who(address: string): string;
  readBody(req: IncomingMessage): Promise<Buffer>;
}

const MAX_NONCES = 10_000;

export function createAcmeServer(o: AcmeOptions) {
  const nonces = new Set<string>();
  const accounts = new Map<string, Account>();
  const byThumbprint = new Map<string, string>();
  const { orders, authzs, challenges, certs, owned, newOrder, runValidation, finalize } = createOrderBook(o);

  const newNonce = () => {
    const n = randomBytes(16).toString('base64url');
    nonces.add(n);
    bounded(nonces, MAX_NONCES);
    return n;
  };

  const baseOf = (req: IncomingMessage) => `http://${req.headers.host ?? 'ca.test'}/acme`;
  const directory = (base: string) => ({
    newNonce: `${base}/new-nonce`,
    newAccount: `${base}/new-account`,
    newOrder: `${base}/new-order`,
    meta: { website: `http://${base.split('/')[2]}/`, externalAccountRequired: false },
  });

  // RFC 8555 §6.5: a fresh nonce on every response; §7.1: a link to the directory
  const reply = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const type = headers['Content-Type'] ?? 'application/json';
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body, null, 1);
    res.writeHead(status, {
      'Replay-Nonce': newNonce(),
      'Cache-Control': 'no-store',
      Link: `<${baseOf(req)}/directory>;rel="index"`,
      ...(text ? { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) } : {}),
      ...headers,
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  };
  const problem = (req: IncomingMessage, res: ServerResponse, p: AcmeProblem) => {
    o.events.emit({
      kind: 'acme.refused',
      summary: `ACME ${req.url} from ${o.who(req.socket.remoteAddress ?? '')}: ${p.type}: ${p.detail}`,
      data: {
        from: o.who(req.socket.remoteAddress ?? ''),
        path: req.url,
        type: p.type,
        detail: p.detail,
        status: p.status,
      },
    });
    reply(req, res, p.status, p.toJSON(), { 'Content-Type': 'application/problem+json' });
  };

  /**
   * RFC 8555 §6.2–6.4: a JWS whose nonce this server gave out (used once), whose "url" is this request's
   * URL, signed by the key in "jwk" (new accounts only) or by the account named in "kid".
   */
  const authenticate = async (req: IncomingMessage, base: string, path: string, allowJwk: boolean) => {
    if (!/^application\/jose\+json\b/i.test(req.headers['content-type'] ?? ''))
      throw new AcmeProblem(
        'malformed',
        'an ACME POST has Content-Type application/jose+json (RFC 8555 §6.2)',
        415,
      );
    const jws = parseJws(await o.readBody(req));
    if (!nonces.delete(jws.header.nonce))
      throw new AcmeProblem(
        'badNonce',
        `the nonce ${jws.header.nonce.slice(0, 24)} is unknown or was used already`,
      );
    if (jws.header.url !== `${base}${path}`)
      throw new AcmeProblem(
        'unauthorized',
        `the JWS "url" is ${jws.header.url}, but this request is for ${base}${path}`,
        401,
      );
    if (jws.header.jwk) {
      if (!allowJwk)
        throw new AcmeProblem(
          'malformed',
          'this request must name its account with "kid", not carry a "jwk"',
        );
      const key = importJwk(jws.header.jwk);
      verifyJws(jws, key);
      return { jws, key, account: undefined };
    }
    if (allowJwk)
      throw new AcmeProblem('malformed', 'newAccount is signed with "jwk", the account key itself');
    const acctId = /\/acme\/acct\/([\w-]+)$/.exec(jws.header.kid ?? '')?.[1];
    const account = acctId ? accounts.get(acctId) : undefined;
    if (!account)
      throw new AcmeProblem(
        'accountDoesNotExist',
        `no account ${jws.header.kid} (create one with newAccount)`,
      );
    verifyJws(jws, account.key);
    return { jws, key: account.key, account };
  };

  const payloadOf = (jws: ParsedJws): Record<string, unknown> => {
    if (jws.payload.length === 0) return {};
    try {
      const v = JSON.parse(jws.payload.toString('utf8'));
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v;
    } catch {}
    throw new AcmeProblem('malformed', 'the JWS payload is not a JSON object');
  };

  /** Handles /acme/…; false if the path is not ACME's. */
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = new URL(req.url ?? '/', 'http://ca.test').pathname;
    if (!path.startsWith('/acme/')) return false;
    await serve(req, res, path);
    return true;
  };

  async function serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const base = baseOf(req);
    const sub = path.slice('/acme'.length);
    const from = o.who(req.socket.remoteAddress ?? '');
    try {
      if (sub === '/directory') {
        if (req.method !== 'GET' && req.method !== 'HEAD')
          throw new AcmeProblem('malformed', 'GET the directory', 405);
        return reply(req, res, 200, directory(base));
      }
      if (sub === '/new-nonce') {
        // RFC 8555 §7.2: HEAD answers 200, GET 204
        if (req.method === 'HEAD') return reply(req, res, 200);
        if (req.method === 'GET') return reply(req, res, 204);
        throw new AcmeProblem('malformed', 'HEAD or GET a nonce', 405);
      }
      if (req.method !== 'POST')
        throw new AcmeProblem(
          'malformed',
          `${req.method} is not allowed: ACME resources are POSTed (RFC 8555 §6.3)`,
          405,
        );

      if (sub === '/new-account') {
        const { jws, key } = await authenticate(req, base, sub, true);
        const payload = payloadOf(jws);
        const print = thumbprint(key);
        const existing = accounts.get(byThumbprint.get(print) ?? '');
        if (existing)
          return reply(req, res, 200, accountJson(base, existing), {
            Location: `${base}/acct/${existing.id}`,
          });
        if (payload.onlyReturnExisting === true)
          throw new AcmeProblem('accountDoesNotExist', 'no account has this key');
        const contact = Array.isArray(payload.contact)
          ? payload.contact.filter((c): c is string => typeof c === 'string')
          : [];
        const acct: Account = { id: id(), key, thumbprint: print, contact, orders: [] };
        accounts.set(acct.id, acct);
        byThumbprint.set(print, acct.id);
        o.events.emit({
          kind: 'acme.account',
          summary: `${from} opens ACME account ${acct.id} with a ${jws.header.alg} key (thumbprint ${print.slice(0, 12)}…)`,
          data: { account: acct.id, alg: jws.header.alg, thumbprint: print, contact, from },
        });
        return reply(req, res, 201, accountJson(base, acct), { Location: `${base}/acct/${acct.id}` });
      }

      const { jws, account } = await authenticate(req, base, sub, false);
      const acct = account as Account;
      const payload = payloadOf(jws);
      const m = /^\/(acct|order|authz|chall|finalize|cert)\/([\w-]+)(\/orders)?$/.exec(sub);

      if (sub === '/new-order') {
        const ord = newOrder(acct, payload);
        o.events.emit({
          kind: 'acme.order',
          summary: `${from} (account ${acct.id}) orders a certificate for ${ord.names.join(', ')}`,
          data: { order: ord.id, account: acct.id, names: ord.names, status: ord.status, from },
        });
        return reply(req, res, 201, orderJson(base, ord), { Location: `${base}/order/${ord.id}` });
      }
      if (!m) throw new AcmeProblem('malformed', `no such ACME resource: ${sub}`, 404);
      const [, kind, key, ordersList] = m;
      if (kind === 'acct') {
        if (key !== acct.id) throw new AcmeProblem('unauthorized', 'this is another account', 403);
        if (ordersList)
          return reply(req, res, 200, {
            orders: acct.orders.filter((x) => orders.has(x)).map((x) => `${base}/order/${x}`),
          });
        if (Array.isArray(payload.contact))
          acct.contact = payload.contact.filter((c): c is string => typeof c === 'string');
        return reply(req, res, 200, accountJson(base, acct));
      }
      if (kind === 'order') return reply(req, res, 200, orderJson(base, owned(orders, key, acct, 'order')));
      if (kind === 'authz')
        return reply(req, res, 200, authzJson(base, owned(authzs, key, acct, 'authorization')));
      if (kind === 'chall') {
        const c = challenges.get(key);
        const authz = c ? owned(authzs, c.authz, acct, 'challenge') : undefined;
        if (!c || !authz) throw new AcmeProblem('malformed', 'no such challenge', 404);
        const up = { Link: `<${base}/authz/${authz.id}>;rel="up"` };
        // RFC 8555 §7.5.1: an empty object says "ready"; a POST-as-GET only reads
        if (jws.payload.length > 0 && c.status === 'pending' && authz.status === 'pending') {
          c.status = 'processing';
          o.events.emit({
            kind: 'acme.challenge',
            summary: `${from} (account ${acct.id}) is ready for ${c.type} on ${authz.name}: the CA will check ${
              c.type === 'http-01'
                ? `http://${authz.name}/.well-known/acme-challenge/${c.token.slice(0, 12)}…`
                : `TXT _acme-challenge.${authz.name}`
            }`,
            data: { challenge: c.id, type: c.type, name: authz.name, token: c.token, account: acct.id, from },
          });
          void runValidation(acct, authz, c);
          return reply(req, res, 200, challengeJson(base, c), { ...up, 'Retry-After': '1' });
        }
        return reply(req, res, 200, challengeJson(base, c), up);
      }
      if (kind === 'finalize') {
        const ord = owned(orders, key, acct, 'order');
        await finalize(acct, ord, payload, from);
        return reply(req, res, 200, orderJson(base, ord), { Location: `${base}/order/${ord.id}` });
      }
      // kind === 'cert': RFC 8555 §7.4.2, the PEM chain, leaf first
      const chain = certs.get(key);
      if (!chain || ![...orders.values()].some((x) => x.certificate === key && x.account === acct.id))
        throw new AcmeProblem('malformed', 'no such certificate', 404);
      return reply(req, res, 200, chain, { 'Content-Type': 'application/pem-certificate-chain' });
    } catch (err) {
      if (err instanceof AcmeProblem) return problem(req, res, err);
      if (err instanceof JwsError)
        return problem(
          req,
          res,
          new AcmeProblem(err.type, err.message, err.type === 'unauthorized' ? 403 : 400),
        );
      throw err;
    }
  }
}
