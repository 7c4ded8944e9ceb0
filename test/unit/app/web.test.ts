import { describe, expect, it } from 'vitest';
import { pathAndQuery } from '../../../services/app/web.js';

describe('the front controller’s request target', () => {
  it('gives the path and query the URL parser gives, an origin-form //path staying a path', () => {
    const targets = [
      '/',
      '/hej',
      '/css/site.css',
      '/users/42?x=1&y=a+b&z=%C3%A5',
      '/search?q=what happens',
      '/a/../b',
      '/./x',
      '//double',
      '/%7euser/',
      '/with#fragment',
      '/q?a=1#frag',
      '/sp ace',
      '/ümlaut',
      'http://www.example.test/abs?x=1',
    ];
    for (const t of targets) {
      const url = t.startsWith('/') ? new URL(`http://x${t}`) : new URL(t, 'http://x/');
      const got = pathAndQuery(t);
      expect([t, got.path, [...got.query]]).toEqual([t, url.pathname, [...url.searchParams]]);
    }
  });
});
