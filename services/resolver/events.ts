// The recursive resolver's events, kind → data. scripts/events-doc.ts turns this into
// docs/EVENTS.md and the list in main.ts.
import type { ServiceEvent } from '../common/service-events.js';

export type ResolverEvent =
  | ServiceEvent
  | {
      /** a client's question; span = the question's span */
      kind: 'dns.query';
      data: {
        from: string;
        name: string;
        type: string;
        id: number;
        /** udp, tcp, dot or doh */
        transport: string;
        rd: boolean;
      };
    }
  | {
      /** a cache lookup; parent = the question's span */
      kind: 'dns.cache';
      data: { name: string; type: string; result: 'hit' | 'miss' | 'stale'; ttl?: number };
    }
  | {
      /** one query to an authority; parent = the question's span */
      kind: 'dns.upstream';
      data: {
        /** the lab host asked */
        server: string;
        address: string;
        zone: string;
        name: string;
        type: string;
        /** answer, referral, nxdomain, nodata, refused, servfail, timeout, … */
        outcome: string;
        rcode?: string;
        /** ms */
        rtt: number;
        transport: 'udp' | 'tcp';
        /** UDP answers dropped before this one (spoofed or unreadable) */
        dropped?: number;
      };
    }
  | {
      /** what the client got */
      kind: 'dns.answer';
      data: {
        name: string;
        type: string;
        rcode: string;
        answers: string[];
        authority: string[];
        source: 'cache' | 'upstream' | 'stale';
        /** extended DNS error (RFC 8914) */
        ede?: { code: number; text: string };
      };
    }
  | {
      /** a client outside the lab's networks */
      kind: 'dns.refused';
      data: { from: string; name?: string };
    }
  | {
      /** a malformed client query */
      kind: 'dns.formerr';
      data: { from: string; bytes: number };
    }
  | {
      /** the cache flushed (one name, or all) */
      kind: 'dns.flush';
      data: { name?: unknown; removed: number };
    }
  | {
      /** DNS over TLS and over HTTPS are listening */
      kind: 'dns.encrypted.ready';
      data: { name: string; serial: string; listening: string[] };
    }
  | {
      /** DNS over TLS and HTTPS are off (no certificate) */
      kind: 'dns.encrypted.off';
      data: { reason: string };
    }
  | {
      /** a DoT or DoH connection failed */
      kind: 'dns.tls.error';
      data: { where: string; code: string | undefined };
    };
