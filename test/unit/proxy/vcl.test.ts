import { describe, expect, it } from 'vitest';
import { smugglingReason } from '../../../services/proxy/listeners.js';
import { params } from '../../../services/proxy/params.js';
import { defaultVcl } from '../../../services/proxy/vcl.js';
import { proxyRequest } from '../../support/proxy-request.js';

const req = proxyRequest;
const now = Date.parse('2026-11-24T12:00:00Z');
const ttlOf = (status: number, headers: Record<string, string>) =>
  defaultVcl.backendResponse(req(), { status, headers }, now);

describe('vcl_recv (like builtin.vcl)', () => {
  it('looks up GET and HEAD', () => {
    expect(defaultVcl.recv(req()).action).toBe('hash');
    expect(defaultVcl.recv(req({ method: 'HEAD' })).action).toBe('hash');
  });
  it('passes other methods, Authorization and Cookie', () => {
    expect(defaultVcl.recv(req({ method: 'POST' })).action).toBe('pass');
    expect(defaultVcl.recv(req({ headers: { authorization: 'Basic eDp5' } })).action).toBe('pass');
    expect(defaultVcl.recv(req({ headers: { cookie: 'a=1' } })).action).toBe('pass');
  });
  it('pipes unknown methods and websockets, refuses PRI and a missing Host', () => {
    expect(defaultVcl.recv(req({ method: 'PROPFIND' })).action).toBe('pipe');
    expect(defaultVcl.recv(req({ headers: { upgrade: 'websocket' } })).action).toBe('pipe');
    expect(defaultVcl.recv(req({ method: 'PRI' }))).toMatchObject({ action: 'synth', status: 405 });
    expect(defaultVcl.recv(req({ host: '' }))).toMatchObject({ action: 'synth', status: 400 });
  });
});

describe('vcl_backend_response: the TTL from RFC 9111', () => {
  it('prefers s-maxage over max-age over Expires', () => {
    expect(ttlOf(200, { 'cache-control': 'max-age=60, s-maxage=30' })).toMatchObject({
      ttl: 30,
      from: 'Cache-Control: s-maxage',
    });
    expect(
      ttlOf(200, { 'cache-control': 'max-age=60', expires: new Date(now + 5000).toUTCString() }),
    ).toMatchObject({ ttl: 60 });
    expect(
      ttlOf(200, { date: new Date(now).toUTCString(), expires: new Date(now + 300_000).toUTCString() }),
    ).toMatchObject({ ttl: 300, from: 'Expires' });
  });
  it('uses a default TTL like Varnish when nothing says', () => {
    expect(ttlOf(200, {})).toMatchObject({ ttl: params.default_ttl, from: 'default_ttl (like Varnish)' });
  });
  it('subtracts the Age the response already has', () => {
    expect(ttlOf(200, { 'cache-control': 'max-age=60', age: '20' }).ttl).toBe(40);
    expect(ttlOf(200, { 'cache-control': 'max-age=60', age: '90' }).uncacheable).toMatch(/stale on arrival/);
  });
  it('does not store no-store, private, Set-Cookie, Vary: * or a 500', () => {
    for (const h of [
      { 'cache-control': 'no-store' },
      { 'cache-control': 'private, max-age=60' },
      { 'set-cookie': 'a=1' },
      { vary: '*' },
    ]) {
      expect(ttlOf(200, h).uncacheable).toBeTruthy();
    }
    expect(ttlOf(500, {}).uncacheable).toMatch(/status 500/);
  });
  it('stores no-cache with TTL 0 so that every use revalidates, and must-revalidate has no grace', () => {
    expect(ttlOf(200, { 'cache-control': 'no-cache' })).toMatchObject({ ttl: 0, grace: 0 });
    expect(ttlOf(200, { 'cache-control': 'max-age=10, must-revalidate' })).toMatchObject({
      ttl: 10,
      grace: 0,
    });
  });
  it('takes grace from stale-while-revalidate and keep from stale-if-error', () => {
    expect(
      ttlOf(200, { 'cache-control': 'max-age=10, stale-while-revalidate=30, stale-if-error=600' }),
    ).toMatchObject({ ttl: 10, grace: 30, keep: 600 });
  });
  it('treats an invalid Expires as already expired', () => {
    expect(ttlOf(200, { expires: '0' }).uncacheable).toBeTruthy();
  });
});

describe('vcl_hit', () => {
  const hit = (state: 'fresh' | 'grace' | 'keep', backendHealthy = true) =>
    defaultVcl.hit(req(), { state, age: 5, ttl: 3, backendHealthy });
  it('delivers fresh objects, delivers and refreshes in grace, fetches after grace', () => {
    expect(hit('fresh').action).toBe('deliver');
    expect(hit('grace')).toMatchObject({ action: 'deliver', refresh: true });
    expect(hit('keep').action).toBe('miss');
  });
  it('serves stale objects when the backend is sick', () => {
    expect(hit('keep', false)).toMatchObject({ action: 'deliver' });
  });
});

describe('smuggling checks', () => {
  it('refuses duplicate Content-Length, CL with TE, and a TE that does not end in chunked', () => {
    expect(
      smugglingReason({ 'content-length': '4' }, ['Content-Length', '4', 'content-length', '4']),
    ).toMatch(/duplicate/);
    expect(smugglingReason({ 'content-length': '4', 'transfer-encoding': 'chunked' }, [])).toMatch(
      /Transfer-Encoding/,
    );
    expect(smugglingReason({ 'transfer-encoding': 'chunked, identity' }, [])).toMatch(
      /does not end in chunked/,
    );
    expect(smugglingReason({ 'transfer-encoding': 'gzip, chunked' }, ['Host', 'a'])).toBeUndefined();
    expect(smugglingReason({ 'content-length': '4' }, ['Content-Length', '4', 'Host', 'a'])).toBeUndefined();
  });
});
