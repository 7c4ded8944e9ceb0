// web2: another web server on the internet network. It answers every Host with a page that says so:
// the hosts-file story points www.example.test here (JOURNEY 6). HTTPS with a chain from the lab CA,
// the lab's TLS policy, and its OCSP answer stapled, as the proxy does (JOURNEY 21). The certificate
// comes through the CA's ACME server before web2 listens (a standalone port 80 answers the http-01
// challenges meanwhile); the CA's checks for the proxy's names go to the proxy, which relays them
// here. Renewals are answered on web2's own port 80.
//
// Events: http.request {method, host, path, scheme} · ocsp.staple {status, nextUpdate} · tls.renew {serial, names, notAfter}
// Control: tls.info, tls.renew (a fresh certificate from the CA), ocsp.refresh (staple again now).
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { answerAcmeChallenge } from '../common/acme-challenges.js';
import { alsoListen, closeAll } from '../common/listen.js';
import type { RunningService, ServiceContext } from '../common/service.js';
import { loadTlsIdentity, type TlsIdentity } from '../common/tls-identity.js';
import { enableSessionIdResumption, SERVER_POLICY } from '../common/tls-policy.js';
import { hostSpec } from '../common/topology.js';
import { traceId } from '../common/trace.js';
import type { Web2Commands } from './commands.js';
import type { AppEvent } from './events.js';
import { web2Page } from './pages.js';

/** web2 stands in for www.example.test (hosts-file story), so its certificate names the proxy's names too. */
export function web2Names(): string[] {
  return [...new Set(['www.example.test', 'web2.example.test', ...(hostSpec('proxy').names ?? [])])];
}

/** The same HTTP/1 limits as the proxy's ports: slow or idle clients are closed within seconds. */
const HTTP1 = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  connectionsCheckingInterval: 1_000,
};

export async function startWeb2(ctx: ServiceContext<AppEvent, Web2Commands>): Promise<RunningService> {
  const handler = (scheme: string) => (req: IncomingMessage, res: ServerResponse) => {
    // RFC 8555 §8.3: an ACME http-01 answer of a renewal comes first on port 80
    if (scheme === 'http' && answerAcmeChallenge(req, res)) return;
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    ctx.events.emit({
      kind: 'http.request',
      trace: traceId(req.headers.traceparent),
      summary: `web2 answers ${req.method} ${scheme}://${host}${req.url}`,
      data: { method: req.method, host, path: req.url, scheme },
    });
    const body = web2Page(host);
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      server: 'web2',
      // RFC 6797 §7.2: HSTS only over a secure transport (as the proxy sends it for www)
      ...(scheme === 'https' ? { 'strict-transport-security': 'max-age=31536000' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const servers = [createHttp(HTTP1, handler('http'))];
  const listening = [`http ${ctx.address()}:${ctx.port(80)}`];
  let tlsNote: string | undefined;
  let tls: TlsIdentity | undefined;
  try {
    tls = await loadTlsIdentity(ctx.settings, ctx.stateDir, ctx.address(), web2Names(), ctx.events);
    const identity = tls;
    const https = createHttps(
      { ...SERVER_POLICY, key: identity.key(), cert: identity.chain() },
      handler('https'),
    );
    enableSessionIdResumption(https);
    // RFC 6066 §8: the OCSP answer goes in the handshake to a client that asks (status_request)
    https.on('OCSPRequest', (_c: Buffer, _i: Buffer, cb: (err: Error | null, resp?: Buffer) => void) =>
      cb(null, identity.staple()),
    );
    // a ClientHello that never comes, or a bad one, ends that connection only
    https.on('tlsClientError', (_err, sock) => sock.destroy());
    identity.attach(https);
    servers.push(https);
    listening.push(`https ${ctx.address()}:${ctx.port(443)}`);
  } catch (err) {
    tlsNote = `HTTPS off: ${(err as Error).message}`;
  }
  const noTls = () => {
    throw new Error(tlsNote ?? 'web2 has no certificate');
  };
  ctx.control.register('tls.info', () => tls?.info() ?? noTls());
  ctx.control.register('tls.renew', () => tls?.renew() ?? noTls());
  ctx.control.register('ocsp.refresh', () => tls?.refreshStaple() ?? noTls());
  await Promise.all(
    servers.map(
      (s, i) =>
        new Promise<void>((resolve, reject) => {
          const p = ctx.port(i === 0 ? 80 : 443);
          s.once('error', (err: NodeJS.ErrnoException) =>
            reject(Object.assign(err, { address: ctx.address(), port: p })),
          );
          s.listen(p, ctx.address(), () => resolve());
        }),
    ),
  );
  // and on the IPv6 address: every address the lab publishes for web2 answers
  const v6 = ctx.address6();
  const also = v6
    ? await Promise.all(servers.map((s, i) => alsoListen(s, ctx.port(i === 0 ? 80 : 443), v6)))
    : [];
  if (v6) listening.push(...listening.map((l) => l.replace(ctx.address(), `[${v6}]`)));
  if (tlsNote) ctx.events.emit({ kind: 'service.note', summary: tlsNote, data: { tls: false } });
  return {
    listening,
    close: async () => {
      tls?.stop();
      await Promise.all([
        ...servers.map((s) => new Promise<void>((r) => s.close(() => r()))),
        closeAll(also),
      ]);
    },
  };
}
