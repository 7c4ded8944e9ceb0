// HAR 1.2 (the format DevTools exports) and a terminal waterfall, from what the browser recorded.
// Timings come from the same clock as the lab's events.

export interface Timings {
  blocked: number;
  dns: number;
  connect: number;
  ssl: number;
  send: number;
  wait: number;
  receive: number;
}

export interface RequestRecord {
  id: number;
  url: string;
  method: string;
  type: string;
  /** epoch ms (fractional) */
  startedAt: number;
  timings: Timings;
  status: number;
  statusText: string;
  httpVersion: string;
  requestHeaders: [string, string][];
  responseHeaders: [string, string][];
  bodySize: number;
  mimeType: string;
  text?: string;
  redirectURL: string;
  connection?: string;
  serverIPAddress?: string;
  fromCache?: 'disk' | 'memory';
  error?: string;
}

export function emptyTimings(): Timings {
  return { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0 };
}

/** HAR's total: every phase that happened (ssl is already inside connect). */
export function totalTime(t: Timings): number {
  return [t.blocked, t.dns, t.connect, t.send, t.wait, t.receive]
    .filter((x) => x > 0)
    .reduce((a, b) => a + b, 0);
}

const round = (n: number) => Math.round(n * 1000) / 1000;

export function toHar(
  page: { title: string; startedAt: number; onContentLoad: number; onLoad: number },
  records: RequestRecord[],
) {
  return {
    log: {
      version: '1.2',
      creator: { name: 'enterlab browser', version: '0.1.0' },
      browser: { name: 'enterlab', version: '0.1.0' },
      pages: [
        {
          startedDateTime: new Date(page.startedAt).toISOString(),
          id: 'page_1',
          title: page.title,
          pageTimings: { onContentLoad: round(page.onContentLoad), onLoad: round(page.onLoad) },
        },
      ],
      entries: records.map((r) => {
        const u = new URL(r.url);
        return {
          pageref: 'page_1',
          startedDateTime: new Date(r.startedAt).toISOString(),
          time: round(totalTime(r.timings)),
          request: {
            method: r.method,
            url: r.url,
            httpVersion: r.httpVersion,
            cookies: [],
            headers: r.requestHeaders.map(([name, value]) => ({ name, value })),
            queryString: [...u.searchParams].map(([name, value]) => ({ name, value })),
            headersSize: -1,
            bodySize: 0,
          },
          response: {
            status: r.status,
            statusText: r.statusText,
            httpVersion: r.httpVersion,
            cookies: [],
            headers: r.responseHeaders.map(([name, value]) => ({ name, value })),
            content: {
              size: r.bodySize,
              mimeType: r.mimeType || 'x-unknown',
              ...(r.text !== undefined ? { text: r.text } : {}),
            },
            redirectURL: r.redirectURL,
            headersSize: -1,
            bodySize: r.fromCache ? 0 : r.bodySize,
            ...(r.error ? { _error: r.error } : {}),
          },
          cache: {},
          timings: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, round(v)])),
          ...(r.serverIPAddress ? { serverIPAddress: r.serverIPAddress } : {}),
          ...(r.connection ? { connection: r.connection } : {}),
          _fromCache: r.fromCache ?? null,
          _resourceType: r.type,
        };
      }),
    },
  };
}

/** A DevTools-like waterfall: one line per request, phases as letters on a shared time axis. */
export function waterfall(records: RequestRecord[], width = 50): string[] {
  if (!records.length) return [];
  const t0 = Math.min(...records.map((r) => r.startedAt));
  const end = Math.max(...records.map((r) => r.startedAt + totalTime(r.timings)));
  const scale = width / Math.max(end - t0, 1);
  const lines = [
    `${'request'.padEnd(44)} ${'status'.padEnd(7)} ${'conn'.padEnd(6)} ${'ms'.padStart(7)}  q=queue d=dns c=connect s=ssl >=send w=wait r=receive`,
  ];
  for (const r of records) {
    const phases: [string, number][] = [
      ['q', r.timings.blocked],
      ['d', r.timings.dns],
      ['c', r.timings.connect - Math.max(r.timings.ssl, 0)],
      ['s', r.timings.ssl],
      ['>', r.timings.send],
      ['w', r.timings.wait],
      ['r', r.timings.receive],
    ];
    let bar = ' '.repeat(Math.round((r.startedAt - t0) * scale));
    for (const [ch, ms] of phases) if (ms > 0) bar += ch.repeat(Math.max(1, Math.round(ms * scale)));
    const u = new URL(r.url);
    const name = `${u.host}${u.pathname}`;
    const status = r.error
      ? r.error.replace(/^ERR_/, '')
      : r.fromCache
        ? `${r.status} (cache)`
        : String(r.status);
    lines.push(
      `${(name.length > 44 ? `…${name.slice(-43)}` : name).padEnd(44)} ${status.slice(0, 16).padEnd(7)} ${(r.connection ?? '-').padEnd(6)} ${totalTime(r.timings).toFixed(1).padStart(7)}  ${bar}`,
    );
  }
  return lines;
}
