// The journey of one Enter: omnibox → URL → HSTS → the document's transactions and their redirects →
// HTML → subresources → what would be painted → the HAR. Each request is a transaction
// (transaction.ts); failures end in Chrome's error names, with the step that failed, and a complete HAR.
import type { Emitter } from '../common/events.js';
import { nextTraceparent } from '../common/trace.js';
import { NetError } from './connect.js';
import type { BrowserContext } from './context.js';
import type { BrowserEvent } from './events.js';
import { toHar, waterfall } from './har.js';
import { omnibox, urlParts } from './omnibox.js';
import { cssUrls, type PageSummary, parsePage, renderText } from './page.js';
import type { ConnectionPools } from './pools.js';
import { type Fetched, newRecord, type PageLoad, transaction } from './transaction.js';

const MAX_REDIRECTS = 20;

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

type Progress = Omit<BrowseResult, 'har' | 'waterfall'>;

/** One page load with the browser's context, over these connection pools (closed at its end). */
export async function browse(
  context: BrowserContext,
  network: ConnectionPools,
  text: string,
  opts: BrowseOptions = {},
): Promise<BrowseResult> {
  const events = context.events;
  const started = Date.now();
  const trace = nextTraceparent(undefined).trace;
  const page: PageLoad = {
    events,
    trace,
    network,
    cache: context.cache,
    hsts: context.hsts,
    cookies: context.cookies,
    noCache: opts.noCache === true,
    records: [],
  };
  const result: Progress = { typed: text, painted: [], trace };
  try {
    // JOURNEY 1–3: omnibox, URL parts, punycode
    const url = typedUrl(events, text, trace);
    result.url = url.href;
    const { doc, final } = await navigate(page, url, opts.referrer ? new URL(opts.referrer) : undefined);
    result.finalUrl = final.href;
    result.status = doc.record.status;
    const onContentLoad = Date.now() - started;
    await paint(page, result, doc, final, started);
    const har = toHar(
      {
        title: result.page?.title ?? final.href,
        startedAt: started,
        onContentLoad,
        onLoad: Date.now() - started,
      },
      page.records,
    );
    return { ...result, har, waterfall: waterfall(page.records) };
  } catch (err) {
    failed(page, result, err);
    const har = toHar(
      { title: result.url ?? text, startedAt: started, onContentLoad: -1, onLoad: -1 },
      page.records,
    );
    return { ...result, har, waterfall: waterfall(page.records) };
  } finally {
    context.cache.save();
    await network.closeAll();
  }
}

/** JOURNEY 1–3: what was typed becomes a URL; its parts are told. */
function typedUrl(events: Emitter<BrowserEvent>, text: string, trace: string): URL {
  const typed = omnibox(text);
  events.emit({
    kind: 'omnibox',
    trace,
    summary: `"${text}" is ${typed.kind === 'url' ? 'a URL' : 'a search'}: ${typed.reason} → ${typed.url.href}`,
    data: { text, kind: typed.kind, url: typed.url.href, reason: typed.reason },
  });
  const parts = urlParts(typed.url);
  events.emit({
    kind: 'url.parse',
    trace,
    summary: `scheme ${parts.scheme}, host ${parts.host}, port ${parts.port}, path ${parts.path}${parts.query ? `, query ${parts.query}` : ''}${parts.fragment ? `, fragment ${parts.fragment} (never sent)` : ''}`,
    data: { ...parts, typedHost: text.replace(/^[a-z]+:\/\//i, '').split(/[/:?#]/)[0] },
  });
  return typed.url;
}

/** The document, following HSTS upgrades and redirects, at most 20. */
async function navigate(
  page: PageLoad,
  start: URL,
  from: URL | undefined,
): Promise<{ doc: Fetched; final: URL }> {
  let url = start;
  let referrer = from;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    // JOURNEY 4: HSTS upgrades http:// inside the browser, with no plain-HTTP packet
    const upgraded = url.protocol === 'http:' ? hstsUpgrade(page, url) : undefined;
    if (upgraded) {
      url = upgraded;
      continue;
    }
    const got = await transaction(page, url, 'document', referrer);
    const loc = got.headers.location;
    if ([301, 302, 303, 307, 308].includes(got.record.status) && loc) {
      referrer = url;
      url = new URL(loc, url);
      page.events.emit({
        kind: 'http.redirect',
        trace: page.trace,
        summary: `${got.record.status} redirect to ${url.href}`,
        data: { status: got.record.status, to: url.href },
      });
      continue;
    }
    return { doc: got, final: url };
  }
  throw new NetError('ERR_TOO_MANY_REDIRECTS', `more than ${MAX_REDIRECTS} redirects`, 'http.redirect');
}

/** An http:// URL of an HSTS host: Chrome's internal 307 to https://, recorded in the HAR. */
function hstsUpgrade(page: PageLoad, url: URL): URL | undefined {
  const why = page.hsts.match(url.hostname);
  if (!why) return undefined;
  const to = new URL(url.href);
  to.protocol = 'https:';
  if (to.port === '80') to.port = '';
  Object.assign(newRecord(page, url.href, 'GET', 'document'), {
    status: 307,
    statusText: 'Internal Redirect',
    responseHeaders: [
      ['Location', to.href],
      ['Non-Authoritative-Reason', 'HSTS'],
    ],
    redirectURL: to.href,
  });
  page.events.emit({
    kind: 'hsts.upgrade',
    trace: page.trace,
    summary: `307 Internal Redirect to ${to.href}: ${url.hostname} is HSTS (${why})`,
    data: { from: url.href, to: to.href, why },
  });
  return to;
}

/** JOURNEY 35, 37: an HTML page is parsed, its subresources fetched, and it is painted. */
async function paint(
  page: PageLoad,
  result: Progress,
  doc: Fetched,
  url: URL,
  started: number,
): Promise<void> {
  const events = page.events;
  const trace = page.trace;
  if (!(doc.headers['content-type'] ?? '').includes('html')) {
    result.painted = [doc.body.toString('utf8').slice(0, 2000)];
    events.emit({
      kind: 'page.render',
      trace,
      summary: `painted a ${doc.headers['content-type'] ?? 'document'} of ${doc.body.length} bytes`,
      data: { title: '', requests: page.records.length, ms: Date.now() - started },
    });
    return;
  }
  const summary = parsePage(doc.body.toString('utf8'), url);
  result.page = summary;
  events.emit({
    kind: 'html.parse',
    trace,
    summary: `parsed ${url.href}: "${summary.title}", ${summary.subresources.length} subresources, ${summary.links.length} links`,
    data: {
      title: summary.title,
      subresources: summary.subresources.map((s) => s.url),
      links: summary.links.length,
    },
  });
  // JOURNEY 35: what the page needs (the pools limit the connections)
  await Promise.all(summary.subresources.map((s) => subresource(page, s, url, url)));
  // JOURNEY 37: what would be painted
  result.painted = renderText(summary);
  events.emit({
    kind: 'page.render',
    trace,
    summary: `painted "${summary.title}": ${summary.headings.length} headings, ${summary.links.length} links, ${summary.images.length} images`,
    data: {
      title: summary.title,
      headings: summary.headings,
      links: summary.links.map((l) => l.href),
      images: summary.images.length,
      requests: page.records.length,
      ms: Date.now() - started,
    },
  });
}

/** A stylesheet, script or image (and the images a stylesheet names); its failure is its own. */
async function subresource(
  page: PageLoad,
  sub: { url: string; type: string },
  from: URL,
  doc: URL,
): Promise<void> {
  const su = new URL(sub.url);
  if (su.protocol === 'http:' && doc.protocol === 'https:') return; // mixed content is blocked
  try {
    const r = await transaction(page, su, sub.type, from);
    if (sub.type === 'stylesheet' && r.record.status === 200)
      await Promise.all(
        cssUrls(r.body.toString('utf8'), su).map((u) =>
          subresource(page, { url: u, type: 'image' }, su, doc),
        ),
      );
  } catch (err) {
    const e =
      err instanceof NetError ? err : new NetError('ERR_FAILED', (err as Error).message, 'subresource');
    const rec = page.records.find((x) => x.url === su.href && !x.status);
    if (rec) rec.error = e.code;
    page.events.emit({
      kind: 'subresource.error',
      trace: page.trace,
      summary: `${su.href}: ${e.code}`,
      data: { url: su.href, code: e.code, step: e.step },
    });
  }
}

/** The page failed: Chrome's error page, and the request it failed on marked in the HAR. */
function failed(page: PageLoad, result: Progress, err: unknown): void {
  const e = err instanceof NetError ? err : new NetError('ERR_FAILED', (err as Error).message, 'unknown');
  result.error = { code: e.code, step: e.step, message: e.message };
  const rec = page.records.find((r) => !r.status);
  if (rec) rec.error = e.code;
  page.events.emit({
    kind: 'page.error',
    trace: page.trace,
    summary: `${e.code} at ${e.step}: ${e.message}`,
    data: { code: e.code, step: e.step, message: e.message, url: result.url },
  });
  result.painted = [`This site can’t be reached`, `${e.code} (at ${e.step})`, e.message];
}
