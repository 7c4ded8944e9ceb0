import { describe, expect, it } from 'vitest';
import { createEmitter, type LabEvent } from '../../../services/common/events.js';
import type { Backend, BackendReply } from '../../../services/proxy/backend.js';
import { type FlowDeps, handleRequest, notModified } from '../../../services/proxy/flow.js';
import { ObjectStore } from '../../../services/proxy/store.js';
import { defaultVcl, type ProxyRequest } from '../../../services/proxy/vcl.js';
import { proxyRequest } from '../../support/proxy-request.js';

/** An in-memory app: counts fetches, answers what `reply` says, can be made to fail. */
function fakeApp(reply: (n: number, headers: Record<string, string>) => Partial<BackendReply>) {
  const state = { fetches: 0, down: false, healthy: true, delayMs: 0, last: {} as Record<string, string> };
  const backend: Backend = {
    fetch: async (r) => {
      state.fetches++;
      state.last = r.headers;
      if (state.delayMs) await new Promise((ok) => setTimeout(ok, state.delayMs));
      if (state.down) throw new Error('connect ECONNREFUSED');
      return {
        status: 200,
        headers: {},
        body: Buffer.from(`body ${state.fetches}`),
        ms: 1,
        ...reply(state.fetches, r.headers),
      };
    },
    healthy: () => state.healthy,
    close: () => {},
  };
  return { state, backend };
}

function setup(reply: Parameters<typeof fakeApp>[0], maxBytes = 1 << 20) {
  const app = fakeApp(reply);
  const events: LabEvent[] = [];
  const deps: FlowDeps = {
    vcl: defaultVcl,
    store: new ObjectStore(maxBytes),
    backend: app.backend,
    events: createEmitter('proxy', (line) => events.push(JSON.parse(line))),
    backendHeaders: () => ({ via: '1.1 proxy' }),
  };
  return { app, deps, events };
}

let n = 0;
const req = (over: Partial<ProxyRequest> = {}) => proxyRequest({ url: `/t${n}`, ...over });
const T0 = Date.parse('2026-11-24T12:00:00Z');

describe('the request flow (recv → hash → hit | miss | pass → deliver)', () => {
  it('misses, stores, then hits without asking the app, Age growing', async () => {
    n++;
    const { app, deps, events } = setup(() => ({ headers: { 'cache-control': 'max-age=60' } }));
    const a = await handleRequest(deps, req(), T0);
    const b = await handleRequest(deps, req(), T0 + 7_000);
    expect([a.xCache, b.xCache]).toEqual(['MISS', 'HIT']);
    expect(b.headers.age).toBe('7');
    expect(app.state.fetches).toBe(1);
    expect(events.find((e) => e.kind === 'cache.store')?.data).toMatchObject({
      ttl: 60,
      from: 'Cache-Control: max-age',
    });
    expect(events.filter((e) => e.kind === 'cache.lookup').map((e) => e.data?.result)).toEqual([
      'miss',
      'hit',
    ]);
  });

  it('coalesces concurrent misses into one backend fetch', async () => {
    n++;
    const { app, deps } = setup(() => ({ headers: { 'cache-control': 'max-age=60' } }));
    app.state.delayMs = 30;
    const all = await Promise.all(Array.from({ length: 20 }, () => handleRequest(deps, req(), T0)));
    expect(app.state.fetches).toBe(1);
    expect(new Set(all.map((d) => d.body.toString()))).toEqual(new Set(['body 1']));
  });

  it('does not share an uncacheable answer with waiters, and remembers it (hit-for-miss)', async () => {
    n++;
    const { app, deps } = setup((k) => ({ headers: { 'set-cookie': `session=${k}` } }));
    app.state.delayMs = 20;
    const all = await Promise.all([handleRequest(deps, req(), T0), handleRequest(deps, req(), T0)]);
    expect(new Set(all.map((d) => d.headers['set-cookie'])).size).toBe(2);
    const third = await handleRequest(deps, req(), T0 + 1000);
    expect(third.xCache).toBe('PASS');
  });

  it('keeps Vary variants apart', async () => {
    n++;
    const { app, deps } = setup((_k, h) => ({
      headers: { vary: 'Accept-Language', 'cache-control': 'max-age=60' },
      body: Buffer.from(h['accept-language'] ?? 'none'),
    }));
    const sv = await handleRequest(deps, req({ headers: { 'accept-language': 'sv' } }), T0);
    const en = await handleRequest(deps, req({ headers: { 'accept-language': 'en' } }), T0);
    const sv2 = await handleRequest(deps, req({ headers: { 'accept-language': 'sv' } }), T0);
    expect([sv.body.toString(), en.body.toString(), sv2.body.toString(), sv2.xCache]).toEqual([
      'sv',
      'en',
      'sv',
      'HIT',
    ]);
    expect(app.state.fetches).toBe(2);
  });

  it('answers If-None-Match and If-Modified-Since from the cache with 304', async () => {
    n++;
    const lm = new Date(T0 - 3_600_000).toUTCString();
    const { deps } = setup(() => ({
      headers: { etag: '"v1"', 'last-modified': lm, 'cache-control': 'max-age=60' },
    }));
    await handleRequest(deps, req(), T0);
    expect((await handleRequest(deps, req({ headers: { 'if-none-match': '"v1"' } }), T0)).status).toBe(304);
    expect((await handleRequest(deps, req({ headers: { 'if-none-match': '"v0"' } }), T0)).status).toBe(200);
    expect(
      (await handleRequest(deps, req({ headers: { 'if-modified-since': new Date(T0).toUTCString() } }), T0))
        .status,
    ).toBe(304);
    expect(notModified({ 'if-none-match': 'W/"v1"' }, { etag: '"v1"' })).toBe(true);
  });

  it('revalidates an expired object with the validators it holds', async () => {
    n++;
    const { app, deps } = setup((k) =>
      k === 1
        ? { headers: { etag: '"v1"', 'cache-control': 'max-age=1, must-revalidate' } }
        : {
            status: 304,
            headers: { etag: '"v1"', 'cache-control': 'max-age=1, must-revalidate' },
            body: Buffer.alloc(0),
          },
    );
    await handleRequest(deps, req(), T0);
    const again = await handleRequest(deps, req(), T0 + 5000);
    expect(app.state.last['if-none-match']).toBe('"v1"');
    expect([again.status, again.body.toString()]).toEqual([200, 'body 1']);
  });

  it('serves a stale object in grace and refreshes it in the background', async () => {
    n++;
    const { app, deps, events } = setup(() => ({
      headers: { 'cache-control': 'max-age=1, stale-while-revalidate=30' },
    }));
    await handleRequest(deps, req(), T0);
    const stale = await handleRequest(deps, req(), T0 + 5000);
    expect([stale.xCache, stale.body.toString()]).toEqual(['HIT', 'body 1']);
    await new Promise((ok) => setTimeout(ok, 10));
    expect(app.state.fetches).toBe(2);
    expect(events.some((e) => e.kind === 'cache.lookup' && e.data?.result === 'stale')).toBe(true);
  });

  it('serves stale when the app is down (stale-if-error), and 503 when nothing is stored', async () => {
    n++;
    const { app, deps } = setup(() => ({ headers: { 'cache-control': 'max-age=1' } }));
    await handleRequest(deps, req(), T0);
    app.state.down = true;
    const stale = await handleRequest(deps, req(), T0 + 60_000);
    expect([stale.status, stale.body.toString()]).toEqual([200, 'body 1']);
    app.state.healthy = false;
    expect((await handleRequest(deps, req(), T0 + 70_000)).status).toBe(200);
    expect((await handleRequest(deps, req({ url: '/never-seen' }), T0)).status).toBe(503);
  });

  it('passes requests with credentials and POSTs their body', async () => {
    n++;
    const { app, deps } = setup(() => ({}));
    const out = await handleRequest(deps, req({ method: 'POST', body: Buffer.from('a=1') }), T0);
    expect(out.xCache).toBe('PASS');
    expect(app.state.last['content-length']).toBe('3');
  });
});

describe('Range and the waiting list (wrong bodies never delivered)', () => {
  const TEN = () => ({
    headers: { 'cache-control': 'max-age=60', etag: '"e1"' },
    body: Buffer.from('0123456789'),
  });

  it('fetches the whole object on a Range miss, answers 206 from it, and a plain request gets the 200 (RFC 9111 §3.4)', async () => {
    n++;
    const { app, deps } = setup(TEN);
    const first = await handleRequest(deps, req({ headers: { range: 'bytes=0-4' } }), T0);
    expect(app.state.last.range).toBeUndefined();
    expect([first.status, first.headers['content-range'], first.body.toString()]).toEqual([
      206,
      'bytes 0-4/10',
      '01234',
    ]);
    const plain = await handleRequest(deps, req(), T0);
    expect([plain.status, plain.xCache, plain.body.toString(), plain.headers['content-range']]).toEqual([
      200,
      'HIT',
      '0123456789',
      undefined,
    ]);
    expect(app.state.fetches).toBe(1);
  });

  it('answers suffix, open-ended and unsatisfiable ranges from a stored 200 (RFC 9110 §14.1.2, §15.5.17)', async () => {
    n++;
    const { deps } = setup(TEN);
    await handleRequest(deps, req(), T0);
    const ask = async (range: string, extra: Record<string, string> = {}) => {
      const out = await handleRequest(deps, req({ headers: { range, ...extra } }), T0);
      return [out.status, out.headers['content-range'], out.body.toString()];
    };
    expect(await ask('bytes=-3')).toEqual([206, 'bytes 7-9/10', '789']);
    expect(await ask('bytes=7-')).toEqual([206, 'bytes 7-9/10', '789']);
    expect(await ask('bytes=20-')).toEqual([416, 'bytes */10', '']);
    expect(await ask('bytes=0-1,4-5')).toEqual([200, undefined, '0123456789']);
    expect(await ask('bytes=0-1', { 'if-range': '"other"' })).toEqual([200, undefined, '0123456789']);
    expect(await ask('bytes=0-1', { 'if-range': '"e1"' })).toEqual([206, 'bytes 0-1/10', '01']);
  });

  it('passes Range through on a pass and stores nothing partial; a 206 to a fetch without Range is a 503 (RFC 9111 §3.3)', async () => {
    n++;
    const { app, deps } = setup((_k, h) =>
      h.range
        ? { status: 206, headers: { 'content-range': 'bytes 0-4/10' }, body: Buffer.from('01234') }
        : {},
    );
    const passed = await handleRequest(
      deps,
      req({ headers: { range: 'bytes=0-4', authorization: 'Basic eDp5' } }),
      T0,
    );
    expect([passed.status, passed.xCache, app.state.last.range]).toEqual([206, 'PASS', 'bytes=0-4']);
    expect(deps.store.objects).toBe(0);
    n++;
    const broken = setup(() => ({ status: 206, headers: { 'content-range': 'bytes 0-4/10' } }));
    const out = await handleRequest(broken.deps, req(), T0);
    expect(out.status).toBe(503);
    expect(broken.deps.store.objects).toBe(0);
  });

  it('sends waiters back to the lookup: 50 concurrent requests over 5 variants each get their own (RFC 9111 §4.1)', async () => {
    n++;
    const { app, deps, events } = setup((_k, h) => ({
      headers: { vary: 'Accept, X-API-Version', 'cache-control': 'max-age=60' },
      body: Buffer.from(`v${h['x-api-version']}`),
    }));
    app.state.delayMs = 20;
    const versions = Array.from({ length: 50 }, (_, i) => String(1 + (i % 5)));
    const all = await Promise.all(
      versions.map((v) => handleRequest(deps, req({ headers: { 'x-api-version': v } }), T0)),
    );
    expect(all.map((d) => d.body.toString())).toEqual(versions.map((v) => `v${v}`));
    expect(app.state.fetches).toBe(5);
    expect(events.filter((e) => e.kind === 'cache.lookup' && e.data?.waiting).length).toBeGreaterThan(0);
  });
});

describe('the object store', () => {
  it('evicts the least recently used objects to stay under its bound', async () => {
    n++;
    const { deps } = setup(
      () => ({ headers: { 'cache-control': 'max-age=60' }, body: Buffer.alloc(1000) }),
      10_000,
    );
    for (let i = 0; i < 30; i++) await handleRequest(deps, req({ url: `/lru${i}` }), T0);
    expect(deps.store.bytes).toBeLessThanOrEqual(10_000);
    expect(deps.store.stats.evictions).toBeGreaterThan(0);
    expect(deps.store.lookup('www.example.test/lru29', {})).toBeDefined();
    expect(deps.store.lookup('www.example.test/lru0', {})).toBeUndefined();
  });
  it('purges one URL and bans by regex', async () => {
    n++;
    const { deps } = setup(() => ({ headers: { 'cache-control': 'max-age=60' } }));
    for (const u of ['/a', '/img/1', '/img/2']) await handleRequest(deps, req({ url: u }), T0);
    expect(deps.store.purge('www.example.test/a')).toBe(1);
    expect(deps.store.ban(/^www\.example\.test\/img\//)).toBe(2);
    expect(deps.store.objects).toBe(0);
  });
});
