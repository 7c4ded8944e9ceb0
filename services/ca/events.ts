// The certificate authority's events, kind → data (the CA at ca.test and its ACME server under
// /acme/). scripts/events-doc.ts turns this into docs/EVENTS.md and the list in main.ts.
import type { ServiceEvent } from '../common/service-events.js';
import type { Problem } from './acme/problems.js';
import type { ReasonName } from './issue.js';
import type { CertStatus } from './ocsp.js';

/** An ACME order's or challenge's status (RFC 8555 §7.1.6). */
type AcmeStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';

export type CaEvent =
  | ServiceEvent
  | {
      /** the hierarchy in use (created or loaded) */
      kind: 'ca.ready';
      data: { root: string; intermediate: string; created: boolean };
    }
  | {
      /** a certificate signed: from a CSR, after ACME validation (kind acme), or a bad one for a story */
      kind: 'ca.issue';
      data: {
        serial: string;
        names: string[];
        notAfter?: string;
        requester?: string;
        /** acme, or the bad certificate's kind (expired, wrongname, untrusted, …) */
        kind?: string;
        /** the ACME account */
        account?: string;
      };
    }
  | {
      /** a certificate revoked */
      kind: 'ca.revoke';
      data: { serial: string; names: string[]; reason: ReasonName };
    }
  | {
      /** an OCSP question (RFC 6960) */
      kind: 'ocsp.request';
      data: { serials: string[]; nonce?: string; method: 'GET' | 'POST'; from: string };
    }
  | {
      /** what the CA answered */
      kind: 'ocsp.response';
      data: {
        statuses: { serial: string; status: CertStatus; reason?: string; revokedAt?: string }[];
        thisUpdate: string;
        nextUpdate: string;
        malformed: boolean;
        /** why the request was malformed */
        reason?: string;
      };
    }
  | {
      /** a CRL downloaded */
      kind: 'crl.fetch';
      data: { ca: 'intermediate' | 'root'; entries: number; from: string };
    }
  | {
      /** a request the CA will not serve */
      kind: 'http.refused';
      data: { from: string; path: string | undefined; status: number; reason: string };
    }
  | {
      /** ACME: an account opened */
      kind: 'acme.account';
      data: { account: string; alg: string; thumbprint: string; contact: string[]; from: string };
    }
  | {
      /** ACME: an order placed, or its status changed */
      kind: 'acme.order';
      data: {
        order: string;
        account: string;
        names: string[];
        status: AcmeStatus;
        from?: string;
        problem?: Problem;
      };
    }
  | {
      /** ACME: the client says a challenge is ready */
      kind: 'acme.challenge';
      data: {
        challenge: string;
        type: 'http-01' | 'dns-01';
        name: string;
        token: string;
        account: string;
        from: string;
      };
    }
  | {
      /** ACME: the CA checked a challenge itself */
      kind: 'acme.validate';
      data: {
        type: 'http-01' | 'dns-01';
        name: string;
        ok: boolean;
        at?: string;
        problem?: Problem;
        from: string;
      };
    }
  | {
      /** ACME: a request refused with a problem document (RFC 8555 §6.7) */
      kind: 'acme.refused';
      data: { from: string; path: string | undefined; type: string; detail: string; status: number };
    };
