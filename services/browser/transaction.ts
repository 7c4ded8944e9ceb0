// One request of a page load, as Chromium's HttpCache::Transaction and URLRequestHttpJob do it:
// the request headers (cookies, Referer, traceparent) → the HTTP cache (JOURNEY 5) → the network
// (JOURNEY 22, the connection pools) → Set-Cookie and HSTS learned → a 304 reuses the stored copy,
// a fresh answer is stored. It fills the HAR record of the request as it goes.
import { randomBytes } from 'node:crypto';
import type { CookieJar } from 'tough-cookie';
import type { Emitter } from '../common/events.js';
import type { BrowserEvent } from './events.js';
import { emptyTimings, type RequestRecord, totalTime } from './har.js';
import type { HstsStore } from './hsts.js';
import type { Response } from './http-stream.js';
import type { HttpCache, Stored } from './httpcache.js';
import type { ConnectionPools } from './pools.js';

export const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) enterlab/0.1 (like Chrome/131)';
const ACCEPT: Readonly<Record<string, string>> = {
  document: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  stylesheet: 'text/css,*/*;q=0.1',
  script: '*/*',
  image: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
};

/** What a transaction uses of its page load. */
export interface PageLoad {
  events: Emitter<BrowserEvent>;
  trace: string;
  network: ConnectionPools;
  cache: HttpCache;
  hsts: HstsStore;
  cookies: CookieJar;
  /** lab browse --no-cache: the HTTP cache is neither read nor revalidated */
  noCache: boolean;
  /** the HAR records of the page, in the order the requests started */
  records: RequestRecord[];
}

export interface Fetched {
  record: RequestRecord;
  body: Buffer;
  headers: Record<string, string>;
}

/** Referrer-Policy strict-origin-when-cross-origin (the default in browsers). */
export function referrerFor(from: URL | undefined, to: URL): string | undefined {
  if (!from) return undefined;
  if (from.protocol === 'https:' && to.protocol === 'http:') return undefined;
  if (from.origin === to.origin) return `${from.origin}${from.pathname}${from.search}`;
  return `${from.origin}/`;
}

/** A new HAR record, started now, for a request not answered yet. */
export function newRecord(page: PageLoad, url: string, method: string, type: string): RequestRecord {
  const rec: RequestRecord = {
    id: page.records.length + 1,
    url,
    method,
    type,
    startedAt: performance.timeOrigin + performance.now(),
    timings: emptyTimings(),
    status: 0,
    statusText: '',
    httpVersion: 'HTTP/1.1',
    requestHeaders: [],
    responseHeaders: [],
    bodySize: 0,
    mimeType: '',
    redirectURL: '',
  };
  page.records.push(rec);
  return rec;
}

export async function transaction(
  page: PageLoad,
  target: URL,
  type: string,
  referrer: URL | undefined,
  method = 'GET',
): Promise<Fetched> {
  // JOURNEY 2: the fragment never leaves the browser
  const url = new URL(target.href);
  url.hash = '';
  const rec = newRecord(page, url.href, method, type);
  const span = randomBytes(8).toString('hex');
  const headers = await requestHeaders(page, url, type, referrer, span);
  // JOURNEY 5: the browser's HTTP cache first (for these request headers, should the response Vary)
  const cached = page.noCache ? undefined : page.cache.lookup(url.href, headers);
  if (cached?.fresh && method === 'GET') return fromCache(page, rec, url, cached);
  if (cached) {
    // stale: ask whether it changed (RFC 9111 §4.3.1)
    if (cached.stored.headers.etag) headers['if-none-match'] = cached.stored.headers.etag;
    if (cached.stored.headers['last-modified'])
      headers['if-modified-since'] = cached.stored.headers['last-modified'];
  }
  rec.requestHeaders = Object.entries(headers);
  const t0 = performance.now();
  // JOURNEY 22: the request goes out once its connection is up (never when TLS failed)
  const res = await page.network.request(url, method, headers, page.trace, () =>
    page.events.emit({
      kind: 'http.request',
      trace: page.trace,
      span,
      summary: `${method} ${url.href}${headers.referer ? ` (Referer: ${headers.referer})` : ''}${headers['if-none-match'] ? ' (conditional)' : ''}`,
      data: {
        id: rec.id,
        method,
        url: url.href,
        type,
        headers,
        host: url.host,
        path: `${url.pathname}${url.search}`,
      },
    }),
  );
  record(rec, res, url, performance.now() - t0);
  page.events.emit({
    kind: 'http.response',
    trace: page.trace,
    parent: span,
    summary:
      `${res.status} ${res.statusText || ''} for ${url.href} over ${res.httpVersion} on connection ${res.conn.id}, ${res.body.length} bytes${res.headers['x-cache'] ? `, X-Cache: ${res.headers['x-cache']}` : ''}`.replace(
        '  ',
        ' ',
      ),
    data: {
      id: rec.id,
      url: url.href,
      status: res.status,
      httpVersion: res.httpVersion,
      connection: res.conn.id,
      bytes: res.body.length,
      headers: res.headers,
      ms: Math.round(totalTime(rec.timings) * 100) / 100,
    },
  });
  for (const sc of (res.headers['set-cookie'] ?? '').split('\n').filter(Boolean))
    await page.cookies.setCookie(sc, url.href, { ignoreError: true });
  learnHsts(page, url, res);
  if (res.status === 304 && cached) {
    const s = page.cache.refresh(url.href, res.headers);
    emitCache(page, url, `${url.href}: 304 Not Modified, the cached copy is reused`, 'revalidated');
    rec.fromCache = 'disk';
    return { record: rec, body: Buffer.from(s?.body ?? '', 'base64'), headers: { ...s?.headers } };
  }
  if (page.cache.store(url.href, res.status, res.headers, res.body, method, headers))
    emitCache(page, url, `${url.href} stored in the browser's cache`, 'stored');
  return { record: rec, body: res.body, headers: res.headers };
}

/** What Chrome sends with every request of this type. */
async function requestHeaders(
  page: PageLoad,
  url: URL,
  type: string,
  referrer: URL | undefined,
  span: string,
): Promise<Record<string, string>> {
  const headers: Record<string, string> = {
    'user-agent': USER_AGENT,
    accept: ACCEPT[type] ?? '*/*',
    'accept-language': 'en-GB,en;q=0.9,sv;q=0.8',
    'accept-encoding': 'gzip, deflate, br',
    traceparent: `00-${page.trace}-${span}-01`,
  };
  if (type === 'document') headers['upgrade-insecure-requests'] = '1';
  const referer = referrerFor(referrer, url);
  if (referer) headers.referer = referer;
  const cookie = await page.cookies.getCookieString(url.href);
  if (cookie) headers.cookie = cookie;
  return headers;
}

/** A fresh stored response: no network at all. */
function fromCache(
  page: PageLoad,
  rec: RequestRecord,
  url: URL,
  cached: { stored: Stored; age: number },
): Fetched {
  const body = Buffer.from(cached.stored.body, 'base64');
  Object.assign(rec, {
    status: cached.stored.status,
    statusText: 'OK',
    fromCache: 'disk',
    bodySize: body.length,
    mimeType: cached.stored.headers['content-type'] ?? '',
  });
  rec.responseHeaders = Object.entries(cached.stored.headers);
  rec.timings = { ...emptyTimings(), send: 0, wait: 0, receive: 0 };
  page.events.emit({
    kind: 'cache.browser',
    trace: page.trace,
    summary: `${url.href} from the browser's cache (fresh for ${Math.round(cached.stored.freshFor - cached.age)} s more): no network`,
    data: { url: url.href, result: 'fresh', age: Math.round(cached.age) },
  });
  return { record: rec, body, headers: cached.stored.headers };
}

/** The response into the HAR record, with DevTools' phases (blocked is what the rest leaves). */
function record(rec: RequestRecord, res: Response, url: URL, elapsed: number): void {
  const connPart = Math.max(0, res.conn.connect) + Math.max(0, res.conn.dns);
  rec.timings = {
    blocked: Math.max(0, elapsed - connPart - res.send - res.wait - res.receive),
    dns: res.conn.dns >= 0 ? res.conn.dns : -1,
    connect: res.conn.connect >= 0 ? res.conn.connect : -1,
    ssl: res.conn.ssl >= 0 ? res.conn.ssl : -1,
    send: res.send,
    wait: res.wait,
    receive: res.receive,
  };
  Object.assign(rec, {
    status: res.status,
    statusText: res.statusText,
    httpVersion: res.httpVersion,
    responseHeaders: res.rawHeaders,
    bodySize: res.body.length,
    mimeType: res.headers['content-type'] ?? '',
    connection: res.conn.id,
    serverIPAddress: res.conn.remote.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''),
    redirectURL: res.headers.location ? new URL(res.headers.location, url).href : '',
  });
}

/** JOURNEY 4: Strict-Transport-Security, believed only over https (RFC 6797 §8.1). */
function learnHsts(page: PageLoad, url: URL, res: Response): void {
  const header = res.headers['strict-transport-security'];
  if (url.protocol !== 'https:' || !header) return;
  if (page.hsts.learn(url.hostname, header))
    page.events.emit({
      kind: 'hsts.learn',
      trace: page.trace,
      summary: `learned HSTS for ${url.hostname} (${header})`,
      data: { host: url.hostname, header },
    });
}

function emitCache(page: PageLoad, url: URL, summary: string, result: 'stored' | 'revalidated'): void {
  page.events.emit({
    kind: 'cache.browser',
    trace: page.trace,
    summary,
    data: { url: url.href, result },
  });
}
