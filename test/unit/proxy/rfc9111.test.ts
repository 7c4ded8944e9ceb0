// RFC 9111 / RFC 9110 rules of a shared cache, one behaviour per test, each citing its section.
import { describe, expect, it } from 'vitest';
import { createEmitter, type LabEvent } from '../../../services/common/events.js';
import { type Backend, type BackendReply, endToEnd } from '../../../services/proxy/backend.js';
import { type FlowDeps, handleRequest } from '../../../services/proxy/flow.js';
import { parseHttpDate } from '../../../services/proxy/http-date.js';
import { headerLimitReason, smugglingReason } from '../../../services/proxy/listeners.js';
import { params, setParam } from '../../../services/proxy/params.js';
import { ObjectStore } from '../../../services/proxy/store.js';
import { defaultVcl, type ProxyRequest } from '../../../services/proxy/vcl.js';
import { proxyRequest } from '../../support/proxy-request.js';

const T0 = Date.parse('2026-11-24T12:00:00Z');
let n = 0;

/** an in-memory app answering what `reply` says; `down` makes it refuse, `healthy` is the probe's view */
function setup(reply: (k: number, req: { method: string; url: string }) => Partial<BackendReply>) {
  const app = { fetches: 0, down: false, healthy: true };
  const backend: Backend = {
    fetch: async (r) => {
      app.fetches++;
      if (app.down) throw new Error('connect ECONNREFUSED');
      return {
        status: 200,
        headers: {},
        body: Buffer.from(`body ${app.fetches}`),
        ms: 1,
        ...reply(app.fetches, r),
      };
    },
    healthy: () => app.healthy,
    close: () => {},
  };
  const events: LabEvent[] = [];
  const deps: FlowDeps = {
    vcl: defaultVcl,
    store: new ObjectStore(1 << 20),
    backend,
    events: createEmitter('proxy', (line) => events.push(JSON.parse(line))),
    backendHeaders: () => ({}),
  };
  return { app, deps, events };
}
const req = (over: Partial<ProxyRequest> = {}) => proxyRequest({ url: `/r${n}`, ...over });
const decide = (status: number, headers: Record<string, string>) =>
  defaultVcl.backendResponse(req(), { status, headers }, T0);

describe('stale responses (RFC 9111 §4.2.4, §5.2.2)', () => {
  for (const cc of ['max-age=1, must-revalidate', 'max-age=1, proxy-revalidate', 'no-cache', 's-maxage=1']) {
    it(`never serves "${cc}" stale: 504 when the app is down, a fetch when it is sick`, async () => {
      n++;
      const { app, deps } = setup(() => ({ headers: { 'cache-control': cc } }));
      await handleRequest(deps, req(), T0);
      app.down = true;
      const down = await handleRequest(deps, req(), T0 + 5_000);
      expect(down.status).toBe(504);
      app.healthy = false;
      const sick = await handleRequest(deps, req(), T0 + 6_000);
      expect(sick.status).toBe(504);
      expect(app.fetches).toBe(3);
    });
  }
  it('still serves a plain max-age response stale when the app is down (RFC 5861 §4 stale-if-error)', async () => {
    n++;
    const { app, deps } = setup(() => ({ headers: { 'cache-control': 'max-age=1' } }));
    await handleRequest(deps, req(), T0);
    app.down = true;
    expect((await handleRequest(deps, req(), T0 + 5_000)).body.toString()).toBe('body 1');
  });
});

describe('background refresh (RFC 5861 §3 stale-while-revalidate)', () => {
  it('says so in a cache.refresh-failed event when the refresh fails, and keeps the stale object', async () => {
    n++;
    const { app, deps, events } = setup(() => ({
      headers: { 'cache-control': 'max-age=1, stale-while-revalidate=30' },
    }));
    await handleRequest(deps, req(), T0);
    app.down = true;
    const stale = await handleRequest(deps, req(), T0 + 5_000);
    expect(stale.body.toString()).toBe('body 1');
    await new Promise((ok) => setTimeout(ok, 10));
    expect(events.find((e) => e.kind === 'cache.refresh-failed')?.data).toMatchObject({
      why: 'connect ECONNREFUSED',
    });
    expect(deps.store.lookup(`www.example.test/r${n}`, {})?.body.toString()).toBe('body 1');
  });
});

describe('Age (RFC 9111 §4.2.3, §5.1)', () => {
  it('adds its own time to the Age the origin sent, and the freshness left is max-age − Age', async () => {
    n++;
    const { deps } = setup(() => ({ headers: { 'cache-control': 'max-age=60', age: '30' } }));
    const first = await handleRequest(deps, req(), T0);
    expect(first.headers.age).toBe('30');
    expect((await handleRequest(deps, req(), T0 + 10_000)).headers.age).toBe('40');
    expect(decide(200, { 'cache-control': 'max-age=60', age: '30' }).ttl).toBe(30);
    expect(decide(200, { 'cache-control': 'max-age=60', age: '90' }).ttl).toBeLessThan(0);
  });
  it('ignores an invalid Age for the calculation, and the delivered Age is its own', async () => {
    n++;
    expect(decide(200, { 'cache-control': 'max-age=60', age: '7200abc' }).ttl).toBe(60);
    const { deps } = setup(() => ({ headers: { 'cache-control': 'max-age=60', age: '7200abc' } }));
    await handleRequest(deps, req(), T0);
    expect((await handleRequest(deps, req(), T0 + 3_000)).headers.age).toBe('3');
  });
  it('keeps the origin Age on a pass', async () => {
    n++;
    const { deps } = setup(() => ({ headers: { age: '12' } }));
    const out = await handleRequest(deps, req({ headers: { authorization: 'Basic eDp5' } }), T0);
    expect([out.xCache, out.headers.age]).toEqual(['PASS', '12']);
  });
});

describe('Expires as an HTTP-date only (RFC 9110 §5.6.7, RFC 9111 §5.3)', () => {
  const t = Date.UTC(1994, 10, 6, 8, 49, 37);
  it('reads IMF-fixdate, RFC 850 and asctime', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(t);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(t);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(t);
  });
  it('refuses what Date.parse would accept', () => {
    for (const bad of [
      '1994-11-06T08:49:37Z',
      'Sun, 06-Nov-1994 08:49:37 GMT',
      'Sun 06 Nov 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 8:49:37 GMT',
      'Sun,  06 Nov 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 08:49:37 UTC',
      'Sun, 31 Feb 1994 08:49:37 GMT',
      '0',
    ])
      expect(parseHttpDate(bad), bad).toBeUndefined();
  });
  it('takes an invalid Expires as already expired: not stored', () => {
    const date = 'Tue, 24 Nov 2026 12:00:00 GMT';
    expect(decide(200, { expires: 'Tue, 24 Nov 2026 12:05:00 GMT', date }).ttl).toBe(300);
    expect(decide(200, { expires: '2026-11-24 12:05:00', date })).toMatchObject({ ttl: -1 });
    expect(decide(200, { expires: '0', date })).toMatchObject({ ttl: -1 });
  });
});

describe('what is stored (RFC 9111 §3, §4.1)', () => {
  it('stores 302 and 307 with explicit freshness, not without', () => {
    expect(decide(302, { 'cache-control': 'max-age=60' }).ttl).toBe(60);
    expect(
      decide(307, { expires: 'Tue, 24 Nov 2026 12:01:00 GMT', date: 'Tue, 24 Nov 2026 12:00:00 GMT' }).ttl,
    ).toBe(60);
    expect(decide(302, {}).ttl).toBe(-1);
  });
  it('stores nothing for max-age=0, nor without freshness once default_ttl is 0', () => {
    expect(decide(200, { 'cache-control': 'max-age=0' }).ttl).toBe(-1);
    const before = params.default_ttl;
    setParam('default_ttl', '0');
    try {
      expect(decide(200, {}).ttl).toBe(-1);
    } finally {
      params.default_ttl = before;
    }
    expect(decide(200, {}).ttl).toBe(before);
  });
  it('never stores Vary * in any list form', () => {
    for (const vary of ['*', '*, accept', 'accept, *', 'Accept,*'])
      expect(decide(200, { 'cache-control': 'max-age=60', vary }).ttl, vary).toBe(-1);
  });
  it('answers HEAD from the cache with the Content-Length GET has (RFC 9110 §9.3.2)', async () => {
    n++;
    const { deps } = setup(() => ({
      headers: { 'cache-control': 'max-age=60' },
      body: Buffer.from('0123456789'),
    }));
    await handleRequest(deps, req(), T0);
    const head = await handleRequest(deps, req({ method: 'HEAD' }), T0);
    expect([head.xCache, head.body.length]).toEqual(['HIT', 10]);
  });
});

describe('invalidation by unsafe methods (RFC 9111 §4.4)', () => {
  it('a successful POST removes its URI and the same-host Location, never another host', async () => {
    n++;
    const { deps, events } = setup((_k, r) =>
      r.method === 'POST'
        ? { status: 201, headers: { location: '/items/7', 'content-location': 'https://other.test/x' } }
        : { headers: { 'cache-control': 'max-age=600' } },
    );
    for (const url of ['/items', '/items/7']) await handleRequest(deps, req({ url }), T0);
    const stored = deps.store.lookup('www.example.test/items', {});
    if (stored) deps.store.insert({ ...stored, hash: 'other.test/x' });
    expect(deps.store.objects).toBe(3);
    await handleRequest(deps, req({ method: 'POST', url: '/items', body: Buffer.from('a=1') }), T0);
    expect(deps.store.lookup('www.example.test/items', {})).toBeUndefined();
    expect(deps.store.lookup('www.example.test/items/7', {})).toBeUndefined();
    expect(deps.store.lookup('other.test/x', {})).toBeDefined();
    expect(events.filter((e) => e.kind === 'cache.purge').length).toBe(2);
  });
  it('an unsafe request that fails invalidates nothing', async () => {
    n++;
    const { deps } = setup((_k, r) =>
      r.method === 'DELETE' ? { status: 500 } : { headers: { 'cache-control': 'max-age=600' } },
    );
    await handleRequest(deps, req({ url: '/keep' }), T0);
    await handleRequest(deps, req({ method: 'DELETE', url: '/keep' }), T0);
    expect(deps.store.lookup('www.example.test/keep', {})).toBeDefined();
  });
});

describe('header hygiene and Host (RFC 9110 §7.6.1, RFC 9112 §3.2)', () => {
  it('drops hop-by-hop fields and every field Connection names', () => {
    expect(
      endToEnd({
        connection: 'close, X-Secret',
        'x-secret': '1',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        'content-type': 'text/plain',
      }),
    ).toEqual({ 'content-type': 'text/plain' });
  });
  it('refuses two Host fields, and an HTTP/1.1 request without Host', () => {
    expect(smugglingReason({ host: 'a' }, ['Host', 'a', 'Host', 'b'])).toBe('two Host fields');
    expect(smugglingReason({}, ['Accept', '*/*'], '1.1')).toBe('an HTTP/1.1 request without Host');
    expect(smugglingReason({}, ['Accept', '*/*'], '1.0')).toBeUndefined();
    expect(smugglingReason({ host: 'a' }, ['Host', 'a'])).toBeUndefined();
  });
  it('limits header fields the same way whatever the HTTP version: 200 fields, 16 kB (RFC 9110 §15.5.20)', () => {
    const fields = (n: number, size = 1) =>
      Array.from({ length: n }, (_, i) => [`x-${i}`, 'a'.repeat(size)]).flat();
    expect(headerLimitReason(fields(200))).toBeUndefined();
    expect(headerLimitReason(fields(1, 12_000))).toBeUndefined();
    expect(headerLimitReason(fields(201))).toMatch(/201 header fields/);
    expect(headerLimitReason(fields(1, 20_000))).toMatch(/bytes of header fields/);
  });
});
