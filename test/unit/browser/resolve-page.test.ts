import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { sortAddresses } from '../../../services/browser/connect.js';
import {
  emptyTimings,
  type RequestRecord,
  toHar,
  totalTime,
  waterfall,
} from '../../../services/browser/har.js';
import { cssUrls, parsePage } from '../../../services/browser/page.js';
import { candidates, parseHosts, parseResolvConf } from '../../../services/browser/resolve.js';
import { PROJECT_ROOT } from '../../../services/common/settings.js';

describe('resolv.conf and hosts (JOURNEY 6-7)', () => {
  it('reads nameservers (at most 3), search, and options with their limits', () => {
    const c = parseResolvConf(
      '# lab\nnameserver 127.46.2.53\nnameserver fd28:2::53\nnameserver 1.1.1.1\nnameserver 9.9.9.9\nnameserver bogus\nsearch example.test test\noptions ndots:2 timeout:1 attempts:9\n',
    );
    expect(c.nameservers).toEqual(['127.46.2.53', 'fd28:2::53', '1.1.1.1']);
    expect(c.search).toEqual(['example.test', 'test']);
    expect(c).toMatchObject({ ndots: 2, timeout: 1, attempts: 5 });
  });
  it('uses the defaults of resolv.conf(5) when options are absent', () => {
    expect(parseResolvConf('')).toMatchObject({ ndots: 1, timeout: 5, attempts: 2, nameservers: [] });
  });
  it('tries a name with enough dots first, a short one with the search list first', () => {
    const conf = parseResolvConf('search example.test\noptions ndots:1');
    expect(candidates('www.example.test', conf)).toEqual([
      'www.example.test',
      'www.example.test.example.test',
    ]);
    expect(candidates('www', conf)).toEqual(['www.example.test', 'www']);
    expect(candidates('www.', conf)).toEqual(['www']);
  });
  it('parses a hosts file: comments, several names, both families, case-insensitive', () => {
    const h = parseHosts(
      '127.0.0.1 localhost # me\n127.46.2.81 WWW.example.test www2\n::1 localhost\nnot-an-ip x\n',
    );
    expect(h.get('localhost')).toEqual(['127.0.0.1', '::1']);
    expect(h.get('www.example.test')).toEqual(['127.46.2.81']);
    expect(h.has('x')).toBe(false);
  });
});

describe('happy eyeballs address order (RFC 8305 §4)', () => {
  it('interleaves the families, IPv6 first', () => {
    expect(sortAddresses(['fd28:2::80', 'fd28:2::81'], ['172.28.2.80'])).toEqual([
      'fd28:2::80',
      '172.28.2.80',
      'fd28:2::81',
    ]);
    expect(sortAddresses([], ['a', 'b'])).toEqual(['a', 'b']);
  });
});

describe('page (JOURNEY 35, 37)', () => {
  const html = `<!doctype html><title>Hej</title><link rel=stylesheet href="/s.css">
    <script src="https://cdn.example.test/a.js"></script><h1>Hej!</h1><h2>Sub</h2>
    <p>Text <a href="/about">About</a></p><img src="i.png" alt="pic"><template><img src="t.png"></template>`;
  it('finds title, headings, links, images and subresources resolved against the base', () => {
    const p = parsePage(html, new URL('https://www.example.test/dir/page'));
    expect(p.title).toBe('Hej');
    expect(p.headings).toEqual([
      { level: 1, text: 'Hej!' },
      { level: 2, text: 'Sub' },
    ]);
    expect(p.links).toContainEqual({ text: 'About', href: 'https://www.example.test/about' });
    expect(p.images[0]).toMatchObject({ alt: 'pic', src: 'https://www.example.test/dir/i.png' });
    const urls = p.subresources.map((s) => `${s.type} ${s.url}`);
    expect(urls).toContain('stylesheet https://www.example.test/s.css');
    expect(urls).toContain('script https://cdn.example.test/a.js');
    expect(urls).toContain('image https://www.example.test/dir/i.png');
  });
  it('finds url()s in CSS, quoted or not, skipping data: URLs', () => {
    const u = cssUrls(
      'body{background:url(/bg.png)} .a{background:url(\'x/y.svg\')} .b{background:url("data:image/png;base64,AA")}',
      new URL('https://cdn.example.test/css/s.css'),
    );
    expect(u).toContain('https://cdn.example.test/bg.png');
    expect(u).toContain('https://cdn.example.test/css/x/y.svg');
    expect(u.some((x) => x.startsWith('data:'))).toBe(false);
  });
});

describe('HAR 1.2 and the waterfall', () => {
  const rec = (id: number, extra: Partial<RequestRecord> = {}): RequestRecord => ({
    id,
    url: `https://www.example.test/${id}`,
    method: 'GET',
    type: 'document',
    startedAt: 1_700_000_000_000 + id,
    timings: { ...emptyTimings(), blocked: 1, dns: 2, connect: 5, ssl: 3, send: 0.1, wait: 4, receive: 1 },
    status: 200,
    statusText: 'OK',
    httpVersion: 'HTTP/2',
    requestHeaders: [['user-agent', 'x']],
    responseHeaders: [['content-type', 'text/html']],
    bodySize: 10,
    mimeType: 'text/html',
    redirectURL: '',
    connection: 'c1',
    ...extra,
  });
  it('counts ssl inside connect in the total', () => {
    expect(totalTime(rec(1).timings)).toBeCloseTo(13.1);
  });
  it('validates against the HAR 1.2 schema, with connection, _fromCache and a failed entry', () => {
    const har = toHar({ title: 'Hej', startedAt: 1_700_000_000_000, onContentLoad: 20, onLoad: 30 }, [
      rec(1),
      rec(2, { fromCache: 'disk', timings: emptyTimings() }),
      rec(3, { status: 0, statusText: '', error: 'ERR_CONNECTION_REFUSED', connection: undefined }),
    ]);
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(
      JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/support/har-1.2.schema.json'), 'utf8')),
    );
    expect(validate(har), JSON.stringify(validate.errors)).toBe(true);
    expect(har.log.entries[0].connection).toBe('c1');
    expect((har.log.entries[1] as Record<string, unknown>)._fromCache).toBe('disk');
    expect(waterfall([rec(1), rec(2)]).join('\n')).toMatch(/www\.example\.test/);
  });
});
