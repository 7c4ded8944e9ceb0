import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PARAMS,
  type Params,
  paramsFromEnv,
  setParam,
  showParams,
} from '../../../services/proxy/params.js';

const fresh = (): Params => ({
  ...DEFAULT_PARAMS,
  cacheable_statuses: [...DEFAULT_PARAMS.cacheable_statuses],
});

describe("the cache's parameters (like varnishadm param.set)", () => {
  it('starts with Varnish defaults for TTL, grace and the backend timeouts', () => {
    expect(DEFAULT_PARAMS).toMatchObject({
      default_ttl: 120,
      default_grace: 10,
      connect_timeout: 3.5,
      first_byte_timeout: 60,
      between_bytes_timeout: 60,
    });
  });
  it('sets seconds, byte sizes and status lists, and shows the value beside its default', () => {
    const p = fresh();
    expect(setParam('default_ttl', '0', p)).toBe(0);
    expect(setParam('first_byte_timeout', '1.5', p)).toBe(1.5);
    expect(setParam('memory_limit', '64M', p)).toBe(64 * 2 ** 20);
    expect(setParam('cacheable_statuses', '200, 302,404', p)).toEqual([200, 302, 404]);
    expect(showParams(p).find((x) => x.name === 'default_ttl')).toEqual({
      name: 'default_ttl',
      value: 0,
      default: 120,
    });
  });
  it('refuses an unknown name or a bad value and changes nothing', () => {
    const p = fresh();
    expect(() => setParam('default_tll', '1', p)).toThrow(/no parameter "default_tll"/);
    expect(() => setParam('default_ttl', '-1', p)).toThrow(/number of seconds/);
    expect(() => setParam('default_ttl', '10k', p)).toThrow(/number of seconds/);
    expect(() => setParam('connect_timeout', '0', p)).toThrow(/above 0/);
    expect(() => setParam('cacheable_statuses', '200,abc', p)).toThrow(/status codes/);
    expect(p).toEqual(fresh());
  });
  it('reads LAB_PROXY_PARAMS at start, naming the bad entry', () => {
    const p = fresh();
    paramsFromEnv('default_ttl=0,default_grace=5,cacheable_statuses=200,301', p);
    expect([p.default_ttl, p.default_grace, p.cacheable_statuses]).toEqual([0, 5, [200, 301]]);
    expect(() => paramsFromEnv('default_ttl', p)).toThrow(
      /LAB_PROXY_PARAMS: "default_ttl" is not name=value/,
    );
  });
});
