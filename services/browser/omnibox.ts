// JOURNEY 1–3: what was typed in the address bar — a URL (and which scheme), or words to search for;
// then the WHATWG URL parse, with the host turned into punycode (UTS #46, via node's URL).
import { isIP } from 'node:net';
import type { UrlParts } from './events.js';

export const SEARCH_URL = 'https://search.test/?q=';

export type Typed = { kind: 'url'; url: URL; reason: string } | { kind: 'search'; url: URL; reason: string };

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

export function omnibox(text: string): Typed {
  const t = text.trim();
  if (!t) throw Object.assign(new Error('nothing was typed'), { code: 'ERR_INVALID_URL' });
  const search = (reason: string): Typed => ({
    kind: 'search',
    url: new URL(`${SEARCH_URL}${encodeURIComponent(t).replace(/%20/g, '+')}`),
    reason,
  });
  if (SCHEME.test(t) && !/^[a-z0-9.-]+:\d+(\/|$)/i.test(t)) {
    try {
      return { kind: 'url', url: new URL(t), reason: 'it starts with a scheme' };
    } catch {
      return search('it has a scheme but does not parse as a URL');
    }
  }
  if (/\s/.test(t)) return search('it has spaces: words, not an address');
  const hostPart = t.split(/[/?#]/)[0].replace(/:\d+$/, '');
  const bare = hostPart.replace(/^\[|\]$/g, '');
  // Chrome types https:// first for names (HTTPS-first); plain IPs and localhost keep http://
  if (bare === 'localhost' || isIP(bare))
    return { kind: 'url', url: new URL(`http://${t}`), reason: 'localhost or an IP address' };
  if (/\./.test(hostPart) && /^[\p{L}\p{N}-]+(\.[\p{L}\p{N}-]+)+$/u.test(hostPart)) {
    try {
      return {
        kind: 'url',
        url: new URL(`https://${t}`),
        reason: 'it looks like a host name (has a dot): https:// added',
      };
    } catch {
      return search('it looks like a host but does not parse');
    }
  }
  return search('one word without a dot: a search');
}

/** Every part of a URL, as a browser shows it (the fragment never leaves the browser). */
export function urlParts(u: URL): UrlParts {
  return {
    href: u.href,
    scheme: u.protocol.replace(/:$/, ''),
    username: u.username,
    password: u.password ? '(hidden)' : '',
    host: u.hostname,
    port: u.port || (u.protocol === 'https:' ? '443' : u.protocol === 'http:' ? '80' : ''),
    path: u.pathname,
    query: u.search,
    fragment: u.hash,
  };
}
