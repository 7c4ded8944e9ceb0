// The proxy's events, kind → data: TLS, the requests it serves and Varnish's states in between.
// scripts/events-doc.ts turns this into docs/EVENTS.md and the list in main.ts.
import type { OcspStapleEvent, ServiceEvent, TlsRenewEvent } from '../common/service-events.js';

/** What a cache lookup found, or why it did not look (vcl_recv's pass and pipe). */
export type CacheLookupResult = 'hit' | 'miss' | 'stale' | 'pass' | 'pipe';

/** What some lookups add: the VCL rule that decided, the object's age and hits, a wait. */
export interface CacheLookupExtra {
  rule?: string;
  age?: number;
  hits?: number;
  /** another request is fetching the object: this one waits for it */
  waiting?: boolean;
}

export type ProxyEvent =
  | ServiceEvent
  | TlsRenewEvent
  | OcspStapleEvent
  | {
      /** a TLS session set up */
      kind: 'tls.handshake';
      data: {
        sni: string | null | undefined;
        alpn: string | null;
        version: string | null;
        cipher: string | undefined;
        resumed: boolean;
        stapled: boolean;
        client: string;
      };
    }
  | {
      /** a TLS handshake that failed */
      kind: 'tls.error';
      data: { code: string; client: string };
    }
  | {
      /** a request arrived (trace: the browser's) */
      kind: 'http.request';
      data: {
        method: string;
        host: string;
        url: string;
        scheme: 'http' | 'https';
        httpVersion: string;
        client: string;
        requestId: string;
      };
    }
  | {
      /** a 1xx sent ahead of the answer (103 Early Hints) */
      kind: 'http.interim';
      data: { status: number; link: string | string[] | null };
    }
  | {
      /** what went back */
      kind: 'http.response';
      data: {
        status: number;
        xCache: 'HIT' | 'MISS' | 'PASS' | 'SYNTH' | 'PIPE';
        /** null when piped */
        bytes: number | null;
        ms: number;
      };
    }
  | {
      /** port 80 sent to https */
      kind: 'http.redirect';
      data: { location: string };
    }
  | {
      /** a malformed or smuggling request refused */
      kind: 'http.rejected';
      data: { code: string; status: number; port?: string; why?: string };
    }
  | {
      /** hit, miss, stale, pass or pipe */
      kind: 'cache.lookup';
      data: { result: CacheLookupResult; why: string; url: string; vcl: string } & CacheLookupExtra;
    }
  | {
      /** a fetch from the app */
      kind: 'backend.fetch';
      data: {
        url: string;
        method: string;
        status: number;
        ms: number;
        conditional: boolean;
        bytes: number;
        mode: 'miss' | 'pass';
      };
    }
  | {
      /** one fetch failed (timeout, refused, malformed) */
      kind: 'backend.error';
      data: { url: string; method: string; why: string; mode: 'miss' | 'pass' };
    }
  | {
      /** the health probe changed its mind */
      kind: 'backend.health';
      data: { healthy: boolean; why: string };
    }
  | {
      /** stored, with the TTL and where it came from */
      kind: 'cache.store';
      data: {
        hash: string;
        ttl: number;
        from: string;
        grace: number;
        keep: number;
        vary: string[];
        status: number;
        bytes: number;
      };
    }
  | {
      /** not stored (hit-for-miss) */
      kind: 'cache.uncacheable';
      data: { hash: string; why: string; from: string; rule?: string };
    }
  | {
      /** the proxy answered itself (vcl_synth) */
      kind: 'cache.synth';
      data: { status: number; reason: string; rule?: string };
    }
  | {
      /** a Range request answered from a stored object */
      kind: 'cache.range';
      data: { range: string; length: number; answer: 'full' | 'partial' | 'unsatisfiable' };
    }
  | {
      /** PURGE or ban, from a client, the control channel or an invalidating request */
      kind: 'cache.purge';
      data: { method: string; target: string; removed: number; by: string };
    }
  | {
      /** a background (grace) refresh failed */
      kind: 'cache.refresh-failed';
      data: { url: string; why: string };
    }
  | {
      /** a workshop's VCL file in use, at start or loaded at run time (lab cache vcl use); file null: the default again */
      kind: 'cache.vcl';
      data: { file: string | null; name: string; overridden: string[]; by: 'start' | 'control' };
    }
  | {
      /** a parameter changed at run time (lab cache param set) */
      kind: 'cache.param';
      data: { name: string; value: unknown };
    };
