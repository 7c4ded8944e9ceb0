// web2: another web server on the internet network. It answers every Host with a page that says so:
// the hosts-file story points www.example.test here (JOURNEY 6). HTTPS with a chain from the lab CA.
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { obtainCertificate } from '../common/certificate.js';
import { alsoListen, closeAll } from '../common/listen.js';
import type { RunningService, ServiceContext } from '../common/service.js';
import { hostSpec } from '../common/topology.js';
import { traceId } from '../common/trace.js';
import { web2Page } from './pages.js';

export async function startWeb2(ctx: ServiceContext): Promise<RunningService> {
  const handler = (scheme: string) => (req: IncomingMessage, res: ServerResponse) => {
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
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const servers = [createHttp(handler('http'))];
  const listening = [`http ${ctx.address()}:${ctx.port(80)}`];
  let tlsNote: string | undefined;
  try {
    const names = ['www.example.test', 'web2.example.test', ...(hostSpec('proxy').names ?? [])];
    const cert = await obtainCertificate(ctx.settings, ctx.stateDir, ctx.address(), [...new Set(names)]);
    servers.push(createHttps({ key: cert.key, cert: cert.chain }, handler('https')));
    listening.push(`https ${ctx.address()}:${ctx.port(443)}`);
  } catch (err) {
    tlsNote = `HTTPS off: ${(err as Error).message}`;
  }
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
      await Promise.all([
        ...servers.map((s) => new Promise<void>((r) => s.close(() => r()))),
        closeAll(also),
      ]);
    },
  };
}
