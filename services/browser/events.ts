// The browser's events, kind → data, all with the page load's trace id (tcp.close has none: a pooled
// socket outlives a load). scripts/events-doc.ts turns this into docs/EVENTS.md and main.ts's list.
import type { ServiceEvent } from '../common/service-events.js';

/** Every part of a URL, as a browser shows it (the fragment never leaves the browser). */
export interface UrlParts {
  href: string;
  scheme: string;
  username: string;
  /** "(hidden)" when there is one */
  password: string;
  host: string;
  port: string;
  path: string;
  query: string;
  fragment: string;
}

export type BrowserEvent =
  | ServiceEvent
  | {
      /** the omnibox decided: a URL, or a search */
      kind: 'omnibox';
      data: { text: string; kind: 'url' | 'search'; url: string; reason: string };
    }
  | {
      /** the URL taken apart */
      kind: 'url.parse';
      data: UrlParts & { typedHost: string };
    }
  | {
      /** http:// became https:// before any request (a 307 Internal Redirect) */
      kind: 'hsts.upgrade';
      data: { from: string; to: string; why: string };
    }
  | {
      /** a Strict-Transport-Security header remembered */
      kind: 'hsts.learn';
      data: { host: string; header: string };
    }
  | {
      /** the browser's HTTP cache answered, stored or revalidated */
      kind: 'cache.browser';
      data: { url: string; result: 'fresh' | 'stored' | 'revalidated'; age?: number };
    }
  | {
      /** a name in the browser's own DNS cache */
      kind: 'dns.cache';
      data: { name: string; addresses: string[]; ttl: number };
    }
  | {
      /** a name in the hosts file: no DNS query */
      kind: 'dns.hosts';
      data: { name: string; addresses: string[]; file: string };
    }
  | {
      /** the stub resolver asked the resolver of resolv.conf */
      kind: 'dns.stub';
      data: {
        name: string;
        type: 'A' | 'AAAA';
        server: string;
        local: string | undefined;
        /** udp, tcp, or the secure DNS mode (dot, doh) */
        transport: string;
        rcode: number;
        addresses: string[];
        cname: string[];
        ttl: number;
        ms: number;
      };
    }
  | {
      /** one connection attempt of happy eyeballs (RFC 8305) */
      kind: 'happy-eyeballs.attempt';
      data: {
        address: string;
        family: 4 | 6;
        outcome: 'won' | 'failed' | 'abandoned' | 'timeout';
        error?: string;
        startedAt: number;
      };
    }
  | {
      /** a TCP connection set up */
      kind: 'tcp.connect';
      data: {
        connection: string;
        src: string | undefined;
        sport: number | undefined;
        dst: string | undefined;
        dport: number | undefined;
        ms: number;
      };
    }
  | {
      /** a TCP connection closed */
      kind: 'tcp.close';
      data: { connection: string; src: string; dst: string; error: boolean };
    }
  | {
      /** a TLS handshake, or its failure (error, detail) */
      kind: 'tls.handshake';
      data: {
        connection: string;
        sni: string;
        version?: string;
        cipher?: string;
        alpn?: string;
        stapled?: boolean;
        subject?: string;
        /** the issuer's CN */
        issuer?: string | string[];
        validTo?: string;
        ms?: number;
        error?: string;
        detail?: string;
      };
    }
  | {
      /** is the server's certificate revoked? */
      kind: 'ocsp.check';
      data: {
        host: string;
        status: 'good' | 'revoked' | 'unknown' | 'unavailable';
        source: 'stapled' | 'ocsp' | 'crl' | 'none';
        detail: string;
      };
    }
  | {
      /** a request sent */
      kind: 'http.request';
      data: {
        id: number;
        method: string;
        url: string;
        type: string;
        headers: Record<string, string>;
        host: string;
        path: string;
      };
    }
  | {
      /** its response */
      kind: 'http.response';
      data: {
        id: number;
        url: string;
        status: number;
        httpVersion: string;
        connection: string;
        bytes: number;
        headers: Record<string, string>;
        ms: number;
      };
    }
  | {
      /** a 3xx followed */
      kind: 'http.redirect';
      data: { status: number; to: string };
    }
  | {
      /** the HTML parsed */
      kind: 'html.parse';
      data: { title: string; subresources: string[]; links: number };
    }
  | {
      /** what would be painted */
      kind: 'page.render';
      data: {
        title: string;
        headings?: { level: number; text: string }[];
        links?: string[];
        images?: number;
        requests: number;
        ms: number;
      };
    }
  | {
      /** the page load failed */
      kind: 'page.error';
      data: { code: string; step: string; message: string; url?: string };
    }
  | {
      /** a subresource failed; the page goes on */
      kind: 'subresource.error';
      data: { url: string; code: string; step: string };
    };
