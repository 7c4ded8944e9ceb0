// The web-server layer on express, the "Apache" of the story (JOURNEY 25): virtual hosts by Host,
// an access log in combined log format, static files, and the front controller into the kernel.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import express, {
  type Request as ExpressRequest,
  type Response as ExpressResponse,
  type NextFunction,
} from 'express';
import { PROJECT_ROOT } from '../common/settings.js';
import { parseCookies, Request } from './kernel/http.js';
import type { HttpKernel } from './kernel/kernel.js';

export const STATIC_DIR = join(PROJECT_ROOT, 'services', 'app', 'static');

export interface WebDeps {
  kernel: HttpKernel;
  /** the proxy's backend address: the only peer whose X-Forwarded-For is believed */
  trustedProxy: string;
  vhosts: { www: string[]; cdn: string[]; search: string[] };
  onVhost(host: string, vhost: string | undefined, req: ExpressRequest): void;
  onAccess(line: string, req: ExpressRequest, res: ExpressResponse, ms: number): void;
  /** /_profiler/<token> on the www site */
  profile(token: string, req: ExpressRequest, res: ExpressResponse): void;
  /** per-request bookkeeping for the profiler */
  begin(req: Request, raw: ExpressRequest): void;
  end(req: Request, status: number): void;
}

export function clientIp(raw: ExpressRequest, trustedProxy: string): string {
  const peer = (raw.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  const xff = raw.headers['x-forwarded-for'];
  if (peer === trustedProxy && typeof xff === 'string') {
    const last = xff
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .pop();
    if (last) return last; // the address the proxy saw, appended by it
  }
  return peer;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Apache's %t: [24/Nov/2026:13:26:25 +0000] */
export function clfDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** The site's files by URL path, read once: the front controller then costs no stat(2) per request. */
export function staticPaths(root: string): Set<string> {
  const entries = readdirSync(root, { recursive: true, withFileTypes: true });
  return new Set(
    entries.filter((e) => e.isFile()).map((e) => `/${join(e.parentPath, e.name).slice(root.length + 1)}`),
  );
}

function hostOf(raw: ExpressRequest): string {
  return (raw.headers.host ?? '').toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
}

export function buildWebServer(d: WebDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // access log, combined format (as events), written when the response is done
  app.use((req, res, next) => {
    const t0 = performance.now();
    res.on('finish', () => {
      const ms = performance.now() - t0;
      const date = clfDate(new Date());
      const line = `${clientIp(req, d.trustedProxy)} - - [${date}] "${req.method} ${req.originalUrl} HTTP/${req.httpVersion}" ${res.statusCode} ${res.getHeader('content-length') ?? '-'} "${req.headers.referer ?? '-'}" "${req.headers['user-agent'] ?? '-'}"`;
      d.onAccess(line, req, res, ms);
    });
    next();
  });
  // virtual hosts: an unknown Host is refused here, the kernel never sees it
  app.use((req, res, next) => {
    const host = hostOf(req);
    const vhost = d.vhosts.www.includes(host)
      ? 'www'
      : d.vhosts.cdn.includes(host)
        ? 'cdn'
        : d.vhosts.search.includes(host)
          ? 'search'
          : undefined;
    d.onVhost(host, vhost, req);
    if (!vhost) {
      res
        .status(421)
        .type('text/plain')
        .send(`421 Misdirected Request: this server has no site called "${host || '(no Host header)'}"\n`);
      return;
    }
    res.locals.vhost = vhost;
    next();
  });
  const statics = {
    www: express.static(join(STATIC_DIR, 'www'), {
      etag: true,
      lastModified: true,
      maxAge: '1h',
      index: false,
    }),
    cdn: express.static(join(STATIC_DIR, 'cdn'), {
      etag: true,
      lastModified: true,
      maxAge: '7d',
      immutable: false,
      index: false,
    }),
  };
  const wwwFiles = staticPaths(join(STATIC_DIR, 'www'));
  app.use((req, res, next) => {
    const v = res.locals.vhost as string;
    if (v === 'cdn')
      return statics.cdn(req, res, () =>
        res.status(404).type('text/plain').send('404 Not Found on the CDN\n'),
      );
    if (v === 'www' && wwwFiles.has(req.path)) return statics.www(req, res, next);
    next();
  });
  app.get('/_profiler/:token', (req, res, next) =>
    res.locals.vhost === 'www' ? d.profile(String(req.params.token), req, res) : next(),
  );
  const readBody = express.text({ type: '*/*', limit: '64kb' });
  // only methods that carry a body pay for the body parser
  app.use((req, res, next) =>
    req.method === 'GET' || req.method === 'HEAD' ? next() : readBody(req, res, next),
  );
  // the front controller: everything else goes to the kernel (Apache's rewrite to index.php)
  app.use((req, res, next) => {
    const v = res.locals.vhost as string;
    const url = new URL(req.originalUrl, 'http://x');
    const path = v === 'search' && url.pathname === '/' ? '/search' : url.pathname;
    const lower: Record<string, string> = {};
    for (const [k, val] of Object.entries(req.headers)) if (typeof val === 'string') lower[k] = val;
    const request = new Request(
      req.method,
      path,
      url.searchParams,
      lower,
      parseCookies(req.headers.cookie),
      clientIp(req, d.trustedProxy),
      hostOf(req),
      typeof req.body === 'string' ? req.body : '',
    );
    d.begin(request, req);
    d.kernel
      .handle(request)
      .then((response) => {
        res.status(response.status);
        for (const [k, val] of response.headers) res.setHeader(k, val);
        if (response.cookies.length) res.setHeader('set-cookie', response.cookies);
        res.setHeader('content-length', Buffer.byteLength(response.body));
        res.on('finish', () => {
          d.kernel.terminate(request, response).finally(() => d.end(request, response.status));
        });
        res.end(req.method === 'HEAD' ? undefined : response.body);
      })
      .catch(next);
  });
  app.use(
    (
      err: Error & { status?: number; type?: string },
      _req: ExpressRequest,
      res: ExpressResponse,
      _next: NextFunction,
    ) => {
      const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
      res
        .status(status)
        .type('text/plain')
        .send(
          `${status} ${status === 413 ? 'Payload Too Large' : status === 400 ? 'Bad Request' : 'Internal Server Error'}\n`,
        );
    },
  );
  return app;
}
