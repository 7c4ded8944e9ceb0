import { describe, expect, it } from 'vitest';
import { omnibox, SEARCH_URL, urlParts } from '../../../services/browser/omnibox.js';
import { referrerFor } from '../../../services/browser/transaction.js';

describe('omnibox: URL or search (JOURNEY 1)', () => {
  it('sends words with spaces to the lab search engine with ?q=', () => {
    const t = omnibox('how to press enter');
    expect(t.kind).toBe('search');
    expect(t.url.href).toBe(`${SEARCH_URL}how+to+press+enter`);
  });
  it('sends one word without a dot to search', () => {
    expect(omnibox('enterlab').kind).toBe('search');
  });
  it('adds https:// to a host-like name with a dot', () => {
    const t = omnibox('www.example.test/hej#photos');
    expect(t.kind).toBe('url');
    expect(t.url.href).toBe('https://www.example.test/hej#photos');
  });
  it('keeps http:// for localhost and IP addresses', () => {
    expect(omnibox('localhost:8080/x').url.href).toBe('http://localhost:8080/x');
    expect(omnibox('127.0.0.1').url.href).toBe('http://127.0.0.1/');
    expect(omnibox('[::1]/a').url.href).toBe('http://[::1]/a');
  });
  it('keeps an explicit scheme', () => {
    expect(omnibox('http://www.example.test/').url.protocol).toBe('http:');
  });
  it('turns a non-ASCII host into punycode (UTS #46, JOURNEY 3)', () => {
    expect(omnibox('https://www.sjösten.test/').url.hostname).toBe('www.xn--sjsten-xxa.test');
    expect(omnibox('WWW.SJÖSTEN.test').url.hostname).toBe('www.xn--sjsten-xxa.test');
  });
  it('refuses empty input with a code', () => {
    expect(() => omnibox('   ')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_URL' }));
  });
  it('searches for a scheme-like text that does not parse', () => {
    expect(omnibox('http://exa mple').kind).toBe('search');
  });
});

describe('url parts (JOURNEY 2)', () => {
  it('shows every part, the default port, and hides the password', () => {
    const p = urlParts(new URL('https://ann:secret@www.example.test/hej?x=1#photos'));
    expect(p).toMatchObject({
      scheme: 'https',
      username: 'ann',
      password: '(hidden)',
      host: 'www.example.test',
      port: '443',
      path: '/hej',
      query: '?x=1',
      fragment: '#photos',
    });
  });
});

describe('Referer: strict-origin-when-cross-origin', () => {
  const page = new URL('https://www.example.test/hej?a=1#f');
  it('sends the full URL without fragment to the same origin', () => {
    expect(referrerFor(page, new URL('https://www.example.test/about'))).toBe(
      'https://www.example.test/hej?a=1',
    );
  });
  it('sends only the origin cross-origin', () => {
    expect(referrerFor(page, new URL('https://cdn.example.test/a.css'))).toBe('https://www.example.test/');
  });
  it('sends nothing on a downgrade from https to http', () => {
    expect(referrerFor(page, new URL('http://www.example.test/'))).toBeUndefined();
  });
});
