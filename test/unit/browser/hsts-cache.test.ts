import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HSTS_PRELOAD, HstsStore } from '../../../services/browser/hsts.js';
import { freshnessLifetime, HttpCache } from '../../../services/browser/httpcache.js';

const profile = () => mkdtempSync(join(tmpdir(), 'browser-unit-'));

describe('HSTS (JOURNEY 4, RFC 6797)', () => {
  it('matches a preloaded host', () => {
    const s = new HstsStore(join(profile(), 'hsts.json'));
    expect(s.match(HSTS_PRELOAD[0].host)).toBe('preloaded');
    expect(s.match('search.test')).toBeUndefined();
  });
  it('learns max-age and includeSubDomains, and keeps them in the profile', () => {
    const path = join(profile(), 'hsts.json');
    new HstsStore(path).learn('example.test', 'max-age=3600; includeSubDomains', 1000);
    const again = new HstsStore(path);
    expect(again.match('example.test', 2000)).toMatch(/learned/);
    expect(again.match('www.example.test', 2000)).toMatch(/learned/);
    expect(again.match('www.example.test', 1000 + 3601_000)).toBeUndefined();
  });
  it('does not extend to subdomains without includeSubDomains', () => {
    const s = new HstsStore(join(profile(), 'hsts.json'));
    s.learn('www.example.test', 'max-age=60', 0);
    expect(s.match('www.example.test', 1)).toBeDefined();
    expect(s.match('a.www.example.test', 1)).toBeUndefined();
  });
  it('forgets a host on max-age=0 and ignores a header without max-age', () => {
    const s = new HstsStore(join(profile(), 'hsts.json'));
    s.learn('www.example.test', 'max-age=60', 0);
    s.learn('www.example.test', 'max-age=0', 0);
    expect(s.match('www.example.test', 1)).toBeUndefined();
    expect(s.learn('x.test', 'includeSubDomains')).toBeUndefined();
  });
});

describe('private HTTP cache (JOURNEY 5, RFC 9111)', () => {
  it('derives freshness from max-age minus Age, Expires, or the Last-Modified heuristic', () => {
    expect(freshnessLifetime({ 'cache-control': 'max-age=60', age: '10' })).toBe(50);
    expect(
      freshnessLifetime({ expires: 'Thu, 01 Jan 2026 00:01:00 GMT', date: 'Thu, 01 Jan 2026 00:00:00 GMT' }),
    ).toBe(60);
    expect(
      freshnessLifetime({
        'last-modified': 'Thu, 01 Jan 2026 00:00:00 GMT',
        date: 'Thu, 01 Jan 2026 00:10:00 GMT',
      }),
    ).toBe(60);
    expect(freshnessLifetime({ 'cache-control': 'no-store' })).toBeUndefined();
  });
  it('serves a fresh entry, then reports it stale, and a 304 freshens it', () => {
    const path = join(profile(), 'cache.json');
    const c = new HttpCache(path);
    const url = 'https://www.example.test/a.css';
    expect(
      c.store(url, 200, { 'cache-control': 'max-age=1', etag: '"x"' }, Buffer.from('body'), 'GET', {}),
    ).toBe(true);
    c.save();
    const again = new HttpCache(path);
    const now = Date.now();
    expect(again.lookup(url, {}, now)?.fresh).toBe(true);
    const later = again.lookup(url, {}, now + 5000);
    expect(later?.fresh).toBe(false);
    expect(later?.stored.headers.etag).toBe('"x"');
    again.refresh(url, { 'cache-control': 'max-age=100' });
    expect(again.lookup(url, {})?.fresh).toBe(true);
    expect(Buffer.from(again.lookup(url, {})?.stored.body ?? '', 'base64').toString()).toBe('body');
  });
  it('does not store no-store, POST, a 500, or a stale response without a validator', () => {
    const c = new HttpCache(join(profile(), 'cache.json'));
    expect(c.store('u1', 200, { 'cache-control': 'no-store' }, Buffer.alloc(0), 'GET', {})).toBe(false);
    expect(c.store('u2', 200, { 'cache-control': 'max-age=60' }, Buffer.alloc(0), 'POST', {})).toBe(false);
    expect(c.store('u3', 500, { 'cache-control': 'max-age=60' }, Buffer.alloc(0), 'GET', {})).toBe(false);
    expect(c.store('u4', 200, {}, Buffer.alloc(0), 'GET', {})).toBe(false);
  });
  it('treats no-cache as always stale (revalidate first)', () => {
    const c = new HttpCache(join(profile(), 'cache.json'));
    c.store('u', 200, { 'cache-control': 'max-age=60, no-cache', etag: '"1"' }, Buffer.alloc(0), 'GET', {});
    expect(c.lookup('u', {})?.fresh).toBe(false);
  });
  it('honours Vary: a response is used only for a request with the same values (RFC 9111 §4.1)', () => {
    const c = new HttpCache(join(profile(), 'cache.json'));
    const url = 'https://www.example.test/api';
    const json = { accept: 'application/json', 'accept-language': 'sv' };
    const headers = { 'cache-control': 'max-age=60', vary: 'Accept, X-API-Version', etag: '"j"' };
    expect(c.store(url, 200, headers, Buffer.from('{}'), 'GET', json)).toBe(true);
    expect(c.lookup(url, json)?.fresh).toBe(true);
    // a header it does not vary on may differ; one it varies on may not, even when absent before
    expect(c.lookup(url, { ...json, 'accept-language': 'en' })?.fresh).toBe(true);
    expect(c.lookup(url, { ...json, accept: 'text/html' })).toBeUndefined();
    expect(c.lookup(url, { ...json, 'x-api-version': '2' })).toBeUndefined();
    // the HTML variant replaces it (one entry per URL), and then the JSON request misses
    c.store(url, 200, headers, Buffer.from('<p>'), 'GET', { accept: 'text/html' });
    expect(c.lookup(url, { accept: 'text/html' })?.fresh).toBe(true);
    expect(c.lookup(url, json)).toBeUndefined();
  });
  it('never stores Vary: * (it matches no later request)', () => {
    const c = new HttpCache(join(profile(), 'cache.json'));
    expect(
      c.store('u', 200, { 'cache-control': 'max-age=60', vary: 'Accept, *' }, Buffer.alloc(0), 'GET', {}),
    ).toBe(false);
    expect(c.lookup('u', {})).toBeUndefined();
  });
  it('keeps the Vary values in the profile', () => {
    const path = join(profile(), 'cache.json');
    const c = new HttpCache(path);
    c.store('u', 200, { 'cache-control': 'max-age=60', vary: 'accept' }, Buffer.alloc(0), 'GET', {
      accept: 'a',
    });
    c.save();
    const again = new HttpCache(path);
    expect(again.lookup('u', { accept: 'a' })?.fresh).toBe(true);
    expect(again.lookup('u', { accept: 'b' })).toBeUndefined();
  });
});
