// The journey of one Enter: omnibox → URL → HSTS → HTTP cache → request (cookies, Referer,
// traceparent) → redirects → HTML → subresources → what would be painted. Failures end in Chrome's
// error names, with the step that failed, and a complete HAR entry.
import { randomBytes } from 'node:crypto';
import type { CookieJar } from 'tough-cookie';
import type { Emitter } from '../common/events.js';
import { nextTraceparent } from '../common/trace.js';
import { NetError } from './connect.js';
import type { Engine } from './engine.js';
import type { BrowserEvent } from './events.js';
import { emptyTimings, type RequestRecord, toHar, totalTime, waterfall } from './har.js';
import type { HstsStore } from './hsts.js';
import type { HttpCache } from './httpcache.js';
import { omnibox, urlParts } from './omnibox.js';
import { cssUrls, type PageSummary, parsePage, renderText } from './page.js';

export const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) enterlab/0.1 (like Chrome/131)';
const MAX_REDIRECTS = 20;
const ACCEPT: Record<string, string> = {
  document: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  stylesheet: 'text/css,*/*;q=0.1',
  script: '*/*',
  image: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
};

export interface BrowseOptions {
  noCache?: boolean;
  /** the page a link was clicked on (JOURNEY 22: the Referer of the navigation) */
  referrer?: string;
}

export interface BrowseResult {
  typed: string;
  url?: string;
  finalUrl?: string;
  status?: number;
  error?: { code: string; step: string; message: string };
  page?: PageSummary;
  painted: string[];
  waterfall: string[];
  har: ReturnType<typeof toHar>;
  trace: string;
}

export interface NavigatorDeps {
  events: Emitter<BrowserEvent>;
  engine: Engine;
  hsts: HstsStore;
  cache: HttpCache;
  cookies: CookieJar;
}

/** Referrer-Policy strict-origin-when-cross-origin (the default in browsers). */
export function referrerFor(from: URL | undefined, to: URL): string | undefined {
  if (!from) return undefined;
  if (from.protocol === 'https:' && to.protocol === 'http:') return undefined;
  if (from.origin === to.origin) return `${from.origin}${from.pathname}${from.search}`;
  return `${from.origin}/`;
}

export async function browse(
  d: NavigatorDeps,
  text: string,
  opts: BrowseOptions = {},
): Promise<BrowseResult> {
  const ev = d.events;
  const started = Date.now();
  const tp = nextTraceparent(undefined);
  const trace = tp.trace;
  const records: RequestRecord[] = [];
  let nextId = 0;
  const result: Omit<BrowseResult, 'har' | 'waterfall'> = { typed: text, painted: [], trace };

  const fetchOne = async (
    target: URL,
    type: string,
    referrer: URL | undefined,
    method = 'GET',
  ): Promise<{ record: RequestRecord; body: Buffer; headers: Record<string, string> }> => {
    // JOURNEY 2: the fragment never leaves the browser
    const url = new URL(target.href);
    url.hash = '';
    const rec: RequestRecord = {
      id: ++nextId,
      url: url.href,
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
    records.push(rec);
    // JOURNEY 5: the browser's HTTP cache first
    const cached = opts.noCache ? undefined : d.cache.lookup(url.href);
    if (cached?.fresh && method === 'GET') {
      Object.assign(rec, {
        status: cached.stored.status,
        statusText: 'OK',
        fromCache: 'disk',
        bodySize: Buffer.from(cached.stored.body, 'base64').length,
        mimeType: cached.stored.headers['content-type'] ?? '',
      });
      rec.responseHeaders = Object.entries(cached.stored.headers);
      rec.timings = { ...emptyTimings(), send: 0, wait: 0, receive: 0 };
      ev.emit({
        kind: 'cache.browser',
        trace,
        summary: `${url.href} from the browser's cache (fresh for ${Math.round(cached.stored.freshFor - cached.age)} s more): no network`,
        data: { url: url.href, result: 'fresh', age: Math.round(cached.age) },
      });
      return { record: rec, body: Buffer.from(cached.stored.body, 'base64'), headers: cached.stored.headers };
    }
    const span = randomBytes(8).toString('hex');
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      accept: ACCEPT[type] ?? '*/*',
      'accept-language': 'en-GB,en;q=0.9,sv;q=0.8',
      'accept-encoding': 'gzip, deflate, br',
      traceparent: `00-${trace}-${span}-01`,
    };
    if (type === 'document') headers['upgrade-insecure-requests'] = '1';
    const referer = referrerFor(referrer, url);
    if (referer) headers.referer = referer;
    const cookie = await d.cookies.getCookieString(url.href);
    if (cookie) headers.cookie = cookie;
    if (cached && !opts.noCache) {
      // stale: ask whether it changed (RFC 9111 §4.3.1)
      if (cached.stored.headers.etag) headers['if-none-match'] = cached.stored.headers.etag;
      if (cached.stored.headers['last-modified'])
        headers['if-modified-since'] = cached.stored.headers['last-modified'];
    }
    rec.requestHeaders = Object.entries(headers);
    const t0 = performance.now();
    // JOURNEY 22: the request goes out once its connection is up (never when TLS failed)
    const res = await d.engine.request(url, method, headers, trace, () => {
      ev.emit({
        kind: 'http.request',
        trace,
        span,
        summary: `${method} ${url.href}${referer ? ` (Referer: ${referer})` : ''}${headers['if-none-match'] ? ' (conditional)' : ''}`,
        data: {
          id: rec.id,
          method,
          url: url.href,
          type,
          headers,
          host: url.host,
          path: `${url.pathname}${url.search}`,
        },
      });
    });
    const elapsed = performance.now() - t0;
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
    ev.emit({
      kind: 'http.response',
      trace,
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
      await d.cookies.setCookie(sc, url.href, { ignoreError: true });
    if (url.protocol === 'https:' && res.headers['strict-transport-security']) {
      const learned = d.hsts.learn(url.hostname, res.headers['strict-transport-security']);
      if (learned)
        ev.emit({
          kind: 'hsts.learn',
          trace,
          summary: `learned HSTS for ${url.hostname} (${res.headers['strict-transport-security']})`,
          data: { host: url.hostname, header: res.headers['strict-transport-security'] },
        });
    }
    if (res.status === 304 && cached) {
      const s = d.cache.refresh(url.href, res.headers);
      ev.emit({
        kind: 'cache.browser',
        trace,
        summary: `${url.href}: 304 Not Modified, the cached copy is reused`,
        data: { url: url.href, result: 'revalidated' },
      });
      rec.fromCache = 'disk';
      return { record: rec, body: Buffer.from(s?.body ?? '', 'base64'), headers: { ...s?.headers } };
    }
    if (d.cache.store(url.href, res.status, res.headers, res.body, method)) {
      ev.emit({
        kind: 'cache.browser',
        trace,
        summary: `${url.href} stored in the browser's cache`,
        data: { url: url.href, result: 'stored' },
      });
    }
    return { record: rec, body: res.body, headers: res.headers };
  };

  const fail = (err: unknown, rec?: RequestRecord) => {
    const e = err instanceof NetError ? err : new NetError('ERR_FAILED', (err as Error).message, 'unknown');
    result.error = { code: e.code, step: e.step, message: e.message };
    if (rec) rec.error = e.code;
    ev.emit({
      kind: 'page.error',
      trace,
      summary: `${e.code} at ${e.step}: ${e.message}`,
      data: { code: e.code, step: e.step, message: e.message, url: result.url },
    });
  };

  try {
    // JOURNEY 1–3: omnibox, URL parts, punycode
    const typed = omnibox(text);
    ev.emit({
      kind: 'omnibox',
      trace,
      summary: `"${text}" is ${typed.kind === 'url' ? 'a URL' : 'a search'}: ${typed.reason} → ${typed.url.href}`,
      data: { text, kind: typed.kind, url: typed.url.href, reason: typed.reason },
    });
    let url = typed.url;
    const parts = urlParts(url);
    ev.emit({
      kind: 'url.parse',
      trace,
      summary: `scheme ${parts.scheme}, host ${parts.host}, port ${parts.port}, path ${parts.path}${parts.query ? `, query ${parts.query}` : ''}${parts.fragment ? `, fragment ${parts.fragment} (never sent)` : ''}`,
      data: { ...parts, typedHost: text.replace(/^[a-z]+:\/\//i, '').split(/[/:?#]/)[0] },
    });
    result.url = url.href;
    let referrer: URL | undefined = opts.referrer ? new URL(opts.referrer) : undefined;
    let doc: { record: RequestRecord; body: Buffer; headers: Record<string, string> } | undefined;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      // JOURNEY 4: HSTS upgrades http:// inside the browser, with no plain-HTTP packet
      if (url.protocol === 'http:') {
        const why = d.hsts.match(url.hostname);
        if (why) {
          const to = new URL(url.href);
          to.protocol = 'https:';
          if (to.port === '80') to.port = '';
          records.push({
            ...{
              id: ++nextId,
              url: url.href,
              method: 'GET',
              type: 'document',
              startedAt: performance.timeOrigin + performance.now(),
              timings: emptyTimings(),
              status: 307,
              statusText: 'Internal Redirect',
              httpVersion: 'HTTP/1.1',
              requestHeaders: [],
              responseHeaders: [
                ['Location', to.href],
                ['Non-Authoritative-Reason', 'HSTS'],
              ],
              bodySize: 0,
              mimeType: '',
              redirectURL: to.href,
            },
          });
          ev.emit({
            kind: 'hsts.upgrade',
            trace,
            summary: `307 Internal Redirect to ${to.href}: ${url.hostname} is HSTS (${why})`,
            data: { from: url.href, to: to.href, why },
          });
          url = to;
          continue;
        }
      }
      const got = await fetchOne(url, 'document', referrer);
      const loc = got.headers.location;
      if ([301, 302, 303, 307, 308].includes(got.record.status) && loc) {
        referrer = url;
        url = new URL(loc, url);
        ev.emit({
          kind: 'http.redirect',
          trace,
          summary: `${got.record.status} redirect to ${url.href}`,
          data: { status: got.record.status, to: url.href },
        });
        continue;
      }
      doc = got;
      break;
    }
    if (!doc)
      throw new NetError('ERR_TOO_MANY_REDIRECTS', `more than ${MAX_REDIRECTS} redirects`, 'http.redirect');
    result.finalUrl = url.href;
    result.status = doc.record.status;
    const onContentLoad = Date.now() - started;
    if ((doc.headers['content-type'] ?? '').includes('html')) {
      // JOURNEY 35: parse, then fetch what the page needs (the pool limits the connections)
      const page = parsePage(doc.body.toString('utf8'), url);
      result.page = page;
      ev.emit({
        kind: 'html.parse',
        trace,
        summary: `parsed ${url.href}: "${page.title}", ${page.subresources.length} subresources, ${page.links.length} links`,
        data: {
          title: page.title,
          subresources: page.subresources.map((s) => s.url),
          links: page.links.length,
        },
      });
      const loadOne = async (sub: { url: string; type: string }, from: URL): Promise<void> => {
        const su = new URL(sub.url);
        if (su.protocol === 'http:' && url.protocol === 'https:') return; // mixed content is blocked
        try {
          const r = await fetchOne(su, sub.type, from);
          if (sub.type === 'stylesheet' && r.record.status === 200) {
            await Promise.all(
              cssUrls(r.body.toString('utf8'), su).map((u) => loadOne({ url: u, type: 'image' }, su)),
            );
          }
        } catch (err) {
          const e =
            err instanceof NetError ? err : new NetError('ERR_FAILED', (err as Error).message, 'subresource');
          const rec = records.find((x) => x.url === su.href && !x.status);
          if (rec) rec.error = e.code;
          ev.emit({
            kind: 'subresource.error',
            trace,
            summary: `${su.href}: ${e.code}`,
            data: { url: su.href, code: e.code, step: e.step },
          });
        }
      };
      await Promise.all(page.subresources.map((s) => loadOne(s, url)));
      // JOURNEY 37: what would be painted
      result.painted = renderText(page);
      ev.emit({
        kind: 'page.render',
        trace,
        summary: `painted "${page.title}": ${page.headings.length} headings, ${page.links.length} links, ${page.images.length} images`,
        data: {
          title: page.title,
          headings: page.headings,
          links: page.links.map((l) => l.href),
          images: page.images.length,
          requests: records.length,
          ms: Date.now() - started,
        },
      });
    } else {
      result.painted = [doc.body.toString('utf8').slice(0, 2000)];
      ev.emit({
        kind: 'page.render',
        trace,
        summary: `painted a ${doc.headers['content-type'] ?? 'document'} of ${doc.body.length} bytes`,
        data: { title: '', requests: records.length, ms: Date.now() - started },
      });
    }
    const har = toHar(
      {
        title: result.page?.title ?? url.href,
        startedAt: started,
        onContentLoad,
        onLoad: Date.now() - started,
      },
      records,
    );
    return { ...result, har, waterfall: waterfall(records) };
  } catch (err) {
    fail(
      err,
      records.find((r) => !r.status),
    );
    result.painted = [
      `This site can’t be reached`,
      `${result.error?.code} (at ${result.error?.step})`,
      result.error?.message ?? '',
    ];
    const har = toHar(
      { title: result.url ?? text, startedAt: started, onContentLoad: -1, onLoad: -1 },
      records,
    );
    return { ...result, har, waterfall: waterfall(records) };
  } finally {
    d.cache.save();
    await d.engine.closeAll();
  }
}
