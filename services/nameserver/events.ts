// The authoritative nameservers' events (ns-root, ns-tld, ns-example), kind → data.
// scripts/events-doc.ts turns this into docs/EVENTS.md and the list in main.ts.
import type { ServiceEvent } from '../common/service-events.js';
import type { Outcome } from './authority.js';

/** What an answer was: dns.answer, dns.referral, dns.nxdomain, … (authority.ts's outcome). */
export type AnswerKind = `dns.${Outcome}`;

/** An answer as dig prints it; the query's ID and question first. */
export interface AnswerData {
  name: string | undefined;
  type: string | undefined;
  id: number;
  /** the zone that answered ("." for the root); none when no zone is served for the name */
  zone: string | undefined;
  aa: boolean;
  tc: boolean;
  rcode: string | number;
  answers: string[];
  authority: string[];
  additional: string[];
}

export type NameserverEvent =
  | ServiceEvent
  | {
      /** a query arrived; peer = the client, span = the question's */
      kind: 'dns.query';
      data: {
        from: string;
        name: string | undefined;
        type: string | undefined;
        id: number;
        transport: 'udp' | 'tcp';
      };
    }
  | {
      /** what it answered; parent = the dns.query span */
      kind: AnswerKind;
      data: AnswerData;
    }
  | {
      /** a query that could not be read (answered with FORMERR when its header could be) */
      kind: 'dns.formerr';
      data: { from: string; bytes: number; answered: boolean };
    }
  | {
      /** a malformed COOKIE option (dns.formerr), or a server cookie this server did not make, over UDP (dns.badcookie, RFC 7873 §5.2.4) */
      kind: 'dns.formerr' | 'dns.badcookie';
      data: { from: string; why: string };
    }
  | {
      /** a record set or removed at run time */
      kind: 'dns.zone.change';
      data: { zone: string; serial: number; op: string; record: string };
    }
  | {
      /** answers held back for a scenario (a slow authority); 0: at once again */
      kind: 'dns.delay';
      data: { ms: number };
    };
