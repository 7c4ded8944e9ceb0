// The built-in listeners: router, IP blocklist, API versioning, JSON view, response headers and the
// error page. Each is a small function registered with a priority, as in Symfony.
import { randomBytes } from 'node:crypto';
import { errorPage } from '../pages.js';
import type { EventDispatcher } from './dispatcher.js';
import { HttpException, Response } from './http.js';
import type { ControllerEvent, ExceptionEvent, RequestEvent, ResponseEvent, ViewEvent } from './kernel.js';
import type { Router } from './router.js';

/** JOURNEY 28: the router listener puts _route, _controller and the placeholders on the request. */
export function routerListener(router: Router) {
  return function RouterListener(e: RequestEvent) {
    const attrs = router.match(e.request.path, e.request.method);
    for (const [k, v] of Object.entries(attrs)) e.request.attributes.set(k, v);
  };
}

/** JOURNEY 27: blocked clients get a 404 page before routing runs (as in the story). */
export function ipBlocklistListener(blocked: Set<string>) {
  return function IpBlocklistListener(e: RequestEvent) {
    if (blocked.has(e.request.clientIp)) {
      e.request.attributes.set('_blocked', true);
      e.setResponse(
        new Response(errorPage(404, 'Not Found', 'There is nothing here.'), 404, {
          'content-type': 'text/html; charset=utf-8',
        }),
      );
    }
  };
}

/** JOURNEY 29: Accept: application/vnd.example.v2+json (or X-API-Version: 2) swaps in the v2 controller. */
export function apiVersionListener(v2: Record<string, ControllerEvent['controller']>) {
  return function ApiVersionListener(e: ControllerEvent) {
    const accept = e.request.header('accept') ?? '';
    const wantsV2 =
      /application\/vnd\.example\.v2\+json/.test(accept) || e.request.header('x-api-version') === '2';
    const replacement = v2[e.controller.name];
    if (wantsV2 && replacement) {
      e.controller = replacement;
      e.request.attributes.set('_api_version', 2);
    }
  };
}

/** JOURNEY 31: data from a controller becomes a JSON response. */
export function JsonViewListener(e: ViewEvent) {
  if (e.controllerResult !== undefined && typeof e.controllerResult === 'object') {
    const v2 = e.request.attributes.get('_api_version') === 2;
    e.setResponse(
      new Response(`${JSON.stringify(e.controllerResult, null, 2)}\n`, 200, {
        'content-type': v2 ? 'application/vnd.example.v2+json' : 'application/json',
        vary: 'Accept, X-API-Version',
      }),
    );
  }
}

/** JOURNEY 32: caching policy — public pages cached by the proxy for a day, personal ones never. */
export function CacheHeadersListener(e: ResponseEvent) {
  const r = e.response;
  if (r.headers.has('cache-control')) return;
  const route = e.request.attributes.get('_route');
  if (r.status >= 400) r.headers.set('cache-control', 'no-store');
  else if (route === 'hej' || route === 'about' || route === 'search')
    r.headers.set('cache-control', 'public, s-maxage=86400, max-age=60');
  else r.headers.set('cache-control', 'private, no-store');
}

export function VisitorCookieListener(e: ResponseEvent) {
  if (e.request.cookies.visitor || e.request.attributes.get('_route') === 'hej') return; // a cookie would make /hej uncacheable
  // RFC 6265 §4.1.2.5: Secure when the visit came over https (the proxy says so in X-Forwarded-Proto)
  const secure = e.request.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
  e.response.cookies.push(
    `visitor=${randomBytes(6).toString('hex')}; Path=/${secure}; HttpOnly; SameSite=Lax`,
  );
}

export function debugTokenListener(tokenOf: (r: ResponseEvent['request']) => string) {
  return function DebugTokenListener(e: ResponseEvent) {
    const token = tokenOf(e.request);
    e.response.headers.set('x-debug-token', token);
    e.response.headers.set('x-debug-token-link', `/_profiler/${token}`);
  };
}

/** JOURNEY 33: every error becomes a page with its status. */
export function ErrorPageListener(e: ExceptionEvent) {
  const status = e.error instanceof HttpException ? e.error.status : 500;
  const title =
    { 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error' }[status] ?? 'Error';
  const detail =
    status === 500
      ? 'Something broke on the server. The kernel turned the exception into this page.'
      : e.error.message;
  const res = new Response(errorPage(status, title, detail), status, {
    'content-type': 'text/html; charset=utf-8',
  });
  if (e.error instanceof HttpException)
    for (const [k, v] of Object.entries(e.error.headers)) res.headers.set(k, v);
  e.setResponse(res);
}

export function registerDefaults(
  d: EventDispatcher,
  deps: {
    router: Router;
    blocked: Set<string>;
    v2: Record<string, ControllerEvent['controller']>;
    tokenOf: (r: ResponseEvent['request']) => string;
  },
): void {
  d.addListener('kernel.request', ipBlocklistListener(deps.blocked), 256, 'IpBlocklistListener');
  d.addListener('kernel.request', routerListener(deps.router), 32, 'RouterListener');
  d.addListener('kernel.controller', apiVersionListener(deps.v2), 0, 'ApiVersionListener');
  d.addListener('kernel.view', JsonViewListener, 0, 'JsonViewListener');
  d.addListener('kernel.response', CacheHeadersListener, 0, 'CacheHeadersListener');
  d.addListener('kernel.response', VisitorCookieListener, -10, 'VisitorCookieListener');
  d.addListener('kernel.response', debugTokenListener(deps.tokenOf), -128, 'DebugTokenListener');
  d.addListener('kernel.exception', ErrorPageListener, -128, 'ErrorPageListener');
}
