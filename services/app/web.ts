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
import { parseCookies, Request, type Response } from './kernel/http.js';
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
  /** an error after the response was sent (a kernel.terminate listener threw) */
  failed(where: string, err: unknown): void;
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

type Vhost = 'www' | 'cdn' | 'search';

/** Apache's combined log format, written when the response is done; then the kernel's terminate. */
function finished(d: WebDeps, req: ExpressRequest, res: ExpressResponse, ip: string, t0: number): void {
  const ms = performance.now() - t0;
  const line = `${ip} - - [${clfDate(new Date())}] "${req.method} ${req.originalUrl} HTTP/${req.httpVersion}" ${res.statusCode} ${res.getHeader('content-length') ?? '-'} "${req.headers.referer ?? '-'}" "${req.headers['user-agent'] ?? '-'}"`;
  d.onAccess(line, req, res, ms);
  (res.locals.terminate as (() => void) | undefined)?.();
}

function vhostOf(d: WebDeps, host: string): Vhost | undefined {
  if (d.vhosts.www.includes(host)) return 'www';
  if (d.vhosts.cdn.includes(host)) return 'cdn';
  if (d.vhosts.search.includes(host)) return 'search';
  return undefined;
}

/** RFC 9112 §3.2: more than one Host field is a bad request */
function hostFields(raw: string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') n++;
  return n;
}

/** The path and query of the request target, as the URL parser gives them. */
export function pathAndQuery(target: string): { path: string; query: URLSearchParams } {
  // origin-form (RFC 9112 §3.2.1) kept as a path even when it starts with "//"; absolute-form parsed as is
  const url = target.startsWith('/') ? new URL(`http://x${target}`) : new URL(target, 'http://x/');
  return { path: url.pathname, query: url.searchParams };
}

/** The front controller: everything else goes to the kernel (Apache's rewrite to index.php). */
function frontController(
  d: WebDeps,
  req: ExpressRequest,
  res: ExpressResponse,
  next: NextFunction,
  host: string,
  ip: string,
) {
  const { path, query } = pathAndQuery(req.originalUrl);
  const headers: Record<string, string> = {};
  for (const k in req.headers) {
    const v = req.headers[k];
    if (typeof v === 'string') headers[k] = v;
  }
  const request = new Request(
    req.method,
    res.locals.vhost === 'search' && path === '/' ? '/search' : path,
    query,
    headers,
    parseCookies(req.headers.cookie),
    ip,
    host,
    typeof req.body === 'string' ? req.body : '',
  );
  d.begin(request, req);
  d.kernel
    .handle(request)
    .then((response) => send(d, req, res, request, response))
    .catch(next); // the exception listener itself failed
}

function send(d: WebDeps, req: ExpressRequest, res: ExpressResponse, request: Request, response: Response) {
  res.statusCode = response.status;
  for (const [k, val] of response.headers) res.setHeader(k, val);
  if (response.cookies.length) res.setHeader('set-cookie', response.cookies);
  res.setHeader('content-length', Buffer.byteLength(response.body));
  // JOURNEY 33: kernel.terminate runs once the response is on the wire
  res.locals.terminate = () =>
    d.kernel
      .terminate(request, response)
      .catch((err) => d.failed('kernel.terminate', err))
      .finally(() => d.end(request, response.status));
  res.end(req.method === 'HEAD' ? undefined : response.body);
}

const PROFILER = /^\/_profiler\/([0-9a-f]+)$/;

export function buildWebServer(d: WebDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
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
      index: false,
    }),
  };
  const wwwFiles = staticPaths(join(STATIC_DIR, 'www'));
  const readBody = express.text({ type: '*/*', limit: '64kb' });
  const cdnMiss = (res: ExpressResponse) => () =>
    res.status(404).type('text/plain').send('404 Not Found on the CDN\n');

  // one middleware, read top to bottom: log, virtual host, static files, profiler, front controller
  app.use((req, res, next) => {
    const t0 = performance.now();
    const ip = clientIp(req, d.trustedProxy);
    res.on('finish', () => finished(d, req, res, ip, t0));
    // JOURNEY 25: virtual hosts: an unknown Host is refused here, the kernel never sees it
    if (hostFields(req.rawHeaders) > 1) {
      res.status(400).type('text/plain').send('400 Bad Request: more than one Host header\n');
      return;
    }
    const host = hostOf(req);
    const vhost = vhostOf(d, host);
    d.onVhost(host, vhost, req);
    if (!vhost) {
      res
        .status(421)
        .type('text/plain')
        .send(`421 Misdirected Request: this server has no site called "${host || '(no Host header)'}"\n`);
      return;
    }
    res.locals.vhost = vhost;
    if (vhost === 'cdn') return statics.cdn(req, res, cdnMiss(res));
    if (vhost === 'www' && wwwFiles.has(req.path)) return statics.www(req, res, next);
    const token = vhost === 'www' && req.method === 'GET' ? PROFILER.exec(req.path)?.[1] : undefined;
    if (token) return d.profile(token, req, res);
    // only methods that carry a body pay for the body parser
    if (req.method === 'GET' || req.method === 'HEAD') return frontController(d, req, res, next, host, ip);
    readBody(req, res, (err?: unknown) => (err ? next(err) : frontController(d, req, res, next, host, ip)));
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
