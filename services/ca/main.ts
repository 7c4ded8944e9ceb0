// The certificate authority at ca.test: issues every certificate the lab uses, publishes its CRLs and
// answers OCSP, over plain HTTP on port 80 (as real CAs publish them; the data is signed). Lab hosts
// get their certificates through ACME (/acme/, RFC 8555), which checks that they control the names;
// POST /issue (a CSR, no check) answers only this machine's addresses, where the lab's CLI runs.
//
// Events (contract v1, docs/EVENTS.md), generated from services/ca/events.ts by `npx tsx lab-cli/events-doc.ts`:
//   ca.ready  the hierarchy in use (created or loaded)
//       data {root, intermediate, created}
//   ca.issue  a certificate signed: from a CSR, after ACME validation (kind acme), or a bad one for a story
//       data {serial, names[], notAfter?, requester?, kind?, account?}
//   ca.revoke  a certificate revoked
//       data {serial, names[], reason}
//   ocsp.request  an OCSP question (RFC 6960)
//       data {serials[], nonce?, method: GET|POST, from}
//   ocsp.response  what the CA answered
//       data {statuses [{serial, status: good|revoked|unknown, reason?, revokedAt?}], thisUpdate, nextUpdate, malformed, reason?}
//   crl.fetch  a CRL downloaded
//       data {ca: intermediate|root, entries, from}
//   http.refused  a request the CA will not serve
//       data {from, path?, status, reason}
//   acme.account  ACME: an account opened
//       data {account, alg, thumbprint, contact[], from}
//   acme.order  ACME: an order placed, or its status changed
//       data {order, account, names[], status: pending|ready|processing|valid|invalid, from?, problem? {type, detail, status}}
//   acme.challenge  ACME: the client says a challenge is ready
//       data {challenge, type: http-01|dns-01, name, token, account, from}
//   acme.validate  ACME: the CA checked a challenge itself
//       data {type: http-01|dns-01, name, ok, at?, problem? {type, detail, status}, from}
//   acme.refused  ACME: a request refused with a problem document (RFC 8555 §6.7)
//       data {from, path?, type, detail, status}
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { createBatchedEmitter } from '../common/batched-emitter.js';
import { alsoListen, closeAll } from '../common/listen.js';
import { guard, runService } from '../common/service.js';
import { addressOf, hostAt, peerNamer, port, project, ulaNet } from '../common/settings.js';
import { networks } from '../common/topology.js';
import { createAcmeServer } from './acme/server.js';
import { makeBadCert } from './badcert.js';
import type { CaCommands } from './commands.js';
import type { CaEvent } from './events.js';
import { type Hierarchy, loadOrCreateHierarchy, x509 } from './hierarchy.js';
import { lingeringClose, TooLarge } from './http-limits.js';
import {
  buildCrl,
  CaRefusal,
  checkNames,
  IssuedDb,
  issueLeaf,
  REVOCATION_REASONS,
  type ReasonName,
  readCsr,
  record,
} from './issue.js';
import { answerOcsp, MAX_OCSP_REQUEST } from './ocsp.js';
import { ocspCacheHeaders, ocspExchangeEvents } from './ocsp-events.js';

const MAX_BODY = 64 * 1024;

await runService<CaEvent, CaCommands>('ca', async (ctx) => {
  const s = ctx.settings;
  const urls = { base: `http://ca.test${ctx.port(80) === 80 ? '' : `:${ctx.port(80)}`}` };
  const ipRanges = [
    '172.28.0.0/16',
    'fd28::/16',
    ...(s.runtime === 'local' ? [`${s.block}.0.0/16`, ulaNet(s)] : []),
  ];
  const dir = join(ctx.stateDir, 'pki');
  let { h, created } = await loadOrCreateHierarchy(dir, urls, ipRanges);
  const db = new IssuedDb(dir);
  const inLab = (ip: string) =>
    !!hostAt(ip, s) ||
    ip.startsWith('172.28.') ||
    ip.startsWith('fd28:') ||
    (s.runtime === 'local' && ip.startsWith(`${s.block}.`));
  // POST /issue signs any CSR under .test without a check of control: it is for the lab's own CLI on
  // this machine only (its loopback address, and its side of each lab network, .1, which no lab host
  // has). Lab hosts get their certificates through ACME, which checks (services/ca/acme/).
  const machine = new Set([
    '127.0.0.1',
    '::1',
    ...networks.flatMap((n) => [project(`172.28.${n.index}.1`, s), project(`fd28:${n.index}::1`, s)]),
  ]);
  const mayIssue = (addr: string) => machine.has(addr);
  const who = peerNamer(s);
  // OCSP answers come by the thousand: their events are written in batches, once per loop turn
  const ocspEvents = createBatchedEmitter<CaEvent>(ctx.host);
  let crlCache: { der: Buffer; at: number } | undefined;

  const announce = () =>
    ctx.events.emit({
      kind: 'ca.ready',
      summary: `${created ? 'created' : 'loaded'} the lab's PKI: ${h.root.cert.subject} → ${h.intermediate.cert.subject}`,
      data: { root: h.root.cert.serialNumber, intermediate: h.intermediate.cert.serialNumber, created },
    });
  announce();

  const pem = (c: x509.X509Certificate) => `${c.toString('pem').trim()}\n`;
  const send = (
    res: ServerResponse,
    status: number,
    type: string,
    body: string | Uint8Array,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };
  const refuse = (req: IncomingMessage, res: ServerResponse, status: number, reason: string) => {
    ctx.events.emit({
      kind: 'http.refused',
      summary: `refuses ${req.method} ${req.url} from ${who(req.socket.remoteAddress ?? '')}: ${reason}`,
      data: { from: who(req.socket.remoteAddress ?? ''), path: req.url, status, reason },
    });
    send(res, status, 'text/plain; charset=utf-8', `${reason}\n`);
  };
  /** The request body, or a TooLarge refusal as soon as it passes the limit (declared or sent). */
  const readBody = (req: IncomingMessage, limit: number) =>
    new Promise<Buffer>((resolve, reject) => {
      if (Number(req.headers['content-length'] ?? 0) > limit) return reject(new TooLarge(limit));
      const chunks: Buffer[] = [];
      let n = 0;
      const onData = (c: Buffer) => {
        n += c.length;
        if (n <= limit) return void chunks.push(c);
        req.off('data', onData);
        reject(new TooLarge(limit));
      };
      req.on('data', onData);
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  /**
   * RFC 9110 §15.5.14: 413, then the connection closes. The rest of the body is read and dropped
   * meanwhile (RFC 9112 §9.6): closing a socket with unread data would reset it, and the client could
   * lose the 413 it has not read yet.
   */
  const tooLarge = (req: IncomingMessage, res: ServerResponse, err: TooLarge) => {
    req.resume();
    lingeringClose(req.socket);
    res.setHeader('Connection', 'close');
    refuse(req, res, 413, err.message);
  };

  const ocsp = (req: IncomingMessage, res: ServerResponse, body: Uint8Array, method: 'GET' | 'POST') => {
    const a = answerOcsp(body, h, db);
    for (const ev of ocspExchangeEvents(a, who(req.socket.remoteAddress ?? ''), method)) ocspEvents.emit(ev);
    send(res, 200, 'application/ocsp-response', a.der, ocspCacheHeaders(a, method, Date.now()));
  };

  // RFC 8555: the ACME server under /acme/ (services/ca/acme/)
  const acme = createAcmeServer({
    events: ctx.events,
    validator: {
      source: ctx.address(),
      resolver: `${addressOf('resolver', s)}:${port(53, s)}`,
      httpPort: port(80, s),
    },
    checkNames: (names) => checkNames(names, inLab),
    issue: (csrDer, names, requester, account) => issueFromAcme(csrDer, names, requester, account),
    who,
    readBody: (req) => readBody(req, MAX_BODY),
  });

  /** finalize: the CSR must name exactly the order's names (RFC 8555 §7.4), then the usual leaf. */
  const issueFromAcme = async (csrDer: Buffer, names: string[], requester: string, account: string) => {
    const csr = await readCsr(x509.PemConverter.encode(new Uint8Array(csrDer), 'CERTIFICATE REQUEST'));
    const asked = [...new Set(csr.names.map((n) => n.toLowerCase()))].sort();
    const ordered = [...names].sort();
    if (asked.join(',') !== ordered.join(','))
      throw new CaRefusal(`the CSR names ${asked.join(', ') || 'nothing'}, the order ${ordered.join(', ')}`);
    const cert = await issueLeaf(h, urls, csr.publicKey, ordered);
    db.records.push(record(cert, ordered, requester));
    db.save();
    ctx.events.emit({
      kind: 'ca.issue',
      summary: `issues a certificate for ${ordered.join(', ')} to ${requester} (ACME account ${account}) after validation (serial ${cert.serialNumber.slice(0, 12)}…)`,
      data: {
        serial: cert.serialNumber,
        names: ordered,
        notAfter: cert.notAfter.toISOString(),
        requester,
        kind: 'acme',
        account,
      },
    });
    return { chain: `${pem(cert)}${pem(h.intermediate.cert)}`, names: ordered };
  };

  const routes = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      if (await acme(req, res)) return;
    } catch (err) {
      if (err instanceof TooLarge) return tooLarge(req, res, err);
      throw err;
    }
    const url = new URL(req.url ?? '/', 'http://ca.test');
    const p = url.pathname;
    const addr = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (p === '/root.pem') return send(res, 200, 'application/x-pem-file', pem(h.root.cert));
      if (p === '/intermediate.pem')
        return send(res, 200, 'application/x-pem-file', pem(h.intermediate.cert));
      if (p === '/chain.pem')
        return send(res, 200, 'application/x-pem-file', `${pem(h.intermediate.cert)}${pem(h.root.cert)}`);
      if (p === '/root.cer')
        return send(res, 200, 'application/pkix-cert', new Uint8Array(h.root.cert.rawData));
      if (p === '/intermediate.cer')
        return send(res, 200, 'application/pkix-cert', new Uint8Array(h.intermediate.cert.rawData));
      const crl = /^\/crl\/(intermediate|root)\.crl$/.exec(p);
      if (crl) {
        const which = crl[1] as 'intermediate' | 'root';
        const der =
          which === 'intermediate' ? await intermediateCrl() : Buffer.from(await buildCrl(h, db, 'root'));
        const entries =
          which === 'intermediate' ? db.records.filter((r) => r.status === 'revoked').length : 0;
        ctx.events.emit({
          kind: 'crl.fetch',
          summary: `${who(addr)} downloads the ${which} CRL (${entries} revoked)`,
          data: { ca: which, entries, from: who(addr) },
        });
        return send(res, 200, 'application/pkix-crl', der);
      }
      if (p.startsWith('/ocsp/')) {
        let body: Buffer;
        try {
          body = Buffer.from(decodeURIComponent(p.slice('/ocsp/'.length)), 'base64');
        } catch {
          body = Buffer.alloc(0);
        }
        return ocsp(req, res, body, 'GET');
      }
      if (p === '/')
        return send(
          res,
          200,
          'text/plain; charset=utf-8',
          'enterlab CA (ca.test): /acme/directory /root.pem /intermediate.pem /chain.pem /crl/intermediate.crl /ocsp /issue\n',
        );
      return refuse(req, res, 404, `no such resource: ${p}`);
    }
    if (req.method === 'POST' && p === '/ocsp') {
      let body: Buffer;
      try {
        body = await readBody(req, MAX_OCSP_REQUEST);
      } catch (err) {
        if (err instanceof TooLarge) return tooLarge(req, res, err);
        return ocsp(req, res, new Uint8Array(0), 'POST');
      }
      return ocsp(req, res, body, 'POST');
    }
    if (req.method === 'POST' && p === '/issue') {
      if (!mayIssue(addr))
        return refuse(
          req,
          res,
          403,
          `POST /issue is for the lab's CLI on this machine only, not ${who(addr)}: a lab host proves it controls its names through ACME at ${urls.base}/acme/directory (RFC 8555)`,
        );
      try {
        const csr = await readCsr((await readBody(req, MAX_BODY)).toString('utf8'));
        checkNames(csr.names, inLab);
        const cert = await issueLeaf(h, urls, csr.publicKey, csr.names);
        db.records.push(record(cert, csr.names, who(addr)));
        db.save();
        ctx.events.emit({
          kind: 'ca.issue',
          summary: `issues a certificate for ${csr.names.join(', ')} to ${who(addr)} (serial ${cert.serialNumber.slice(0, 12)}…, until ${cert.notAfter.toISOString().slice(0, 10)})`,
          data: {
            serial: cert.serialNumber,
            names: csr.names,
            notAfter: cert.notAfter.toISOString(),
            requester: who(addr),
          },
        });
        return send(res, 200, 'application/x-pem-file', `${pem(cert)}${pem(h.intermediate.cert)}`);
      } catch (err) {
        if (err instanceof TooLarge) return tooLarge(req, res, err);
        if (err instanceof CaRefusal) return refuse(req, res, 400, err.message);
        throw err;
      }
    }
    if (['/ocsp', '/issue'].includes(p)) return refuse(req, res, 405, `${req.method} is not allowed here`);
    return refuse(req, res, 405, `${req.method} is not allowed`);
  };

  const intermediateCrl = async () => {
    if (!crlCache || Date.now() - crlCache.at > 3_600_000)
      crlCache = { der: Buffer.from(await buildCrl(h, db)), at: Date.now() };
    return crlCache.der;
  };

  const server = createServer(
    // idle and slow connections are checked every second (Node's default is 30 s)
    {
      requestTimeout: 10_000,
      headersTimeout: 5_000,
      maxHeaderSize: 8192,
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => {
      routes(req, res).catch((err) => {
        guard(ctx.events, `ca ${req.method} ${req.url}`, err);
        if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
        else res.destroy();
      });
    },
  );
  server.on('clientError', (_err, sock) => sock.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(Object.assign(err, { address: ctx.address(), port: ctx.port(80) })),
    );
    server.listen(ctx.port(80), ctx.address(), () => resolve());
  });
  // ca.test has an AAAA too: the same server answers on the IPv6 address
  const v6 = ctx.address6();
  const also = v6 ? [await alsoListen(server, ctx.port(80), v6)] : [];

  const revoke = (target: string, reason: ReasonName) => {
    const found = db.find(target).filter((r) => r.status === 'good');
    if (!found.length)
      throw new Error(`no good certificate with serial or name "${target}" (see lab ca list)`);
    const at = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    for (const r of found) {
      r.status = 'revoked';
      r.revokedAt = at;
      r.reason = reason;
    }
    db.crlNumber++;
    db.save();
    crlCache = undefined; // JOURNEY 21: the CRL is regenerated on revocation
    for (const r of found) {
      ctx.events.emit({
        kind: 'ca.revoke',
        summary: `revokes ${r.names.join(', ')} (serial ${r.serial.slice(0, 12)}…): ${reason}`,
        data: { serial: r.serial, names: r.names, reason },
      });
    }
    return found.map(({ pem: _p, ...rest }) => rest);
  };

  ctx.control.register('ca.list', () => db.records.map(({ pem: _p, ...rest }) => rest));
  ctx.control.register('ca.revoke', (args) => {
    const target = String(args.target ?? '');
    const reason = String(args.reason ?? 'unspecified') as ReasonName;
    if (!target) throw new Error('ca.revoke needs a name or a serial');
    if (!(reason in REVOCATION_REASONS))
      throw new Error(`reason must be one of ${Object.keys(REVOCATION_REASONS).join(', ')}`);
    return revoke(target, reason);
  });
  ctx.control.register('ca.trust', () => ({
    pem: pem(h.root.cert),
    url: `${urls.base}/root.pem`,
    subject: h.root.cert.subject,
  }));
  ctx.control.register('ca.reset', async () => {
    ({ h, created } = await loadOrCreateHierarchy(dir, urls, ipRanges, true));
    db.records = [];
    db.crlNumber = 1;
    db.save();
    crlCache = undefined;
    announce();
    return { root: h.root.cert.serialNumber };
  });
  ctx.control.register('ca.badcert', async (args) => {
    const kind = String(args.kind ?? '');
    const name = String(args.name ?? '');
    const made = await makeBadCert(h as Hierarchy, urls, kind, name);
    ctx.events.emit({
      kind: 'ca.issue',
      summary: `makes a ${kind} certificate for ${name} (for the bad-cert story)`,
      data: { names: [name], kind, serial: made.serial },
    });
    return made;
  });

  return {
    listening: [`http ${ctx.address()}:${ctx.port(80)}`, ...(v6 ? [`http [${v6}]:${ctx.port(80)}`] : [])],
    close: () =>
      Promise.all([new Promise<void>((r) => server.close(() => r())), closeAll(also)]).then(() =>
        ocspEvents.flush(),
      ),
  };
});
