// What the CA says about each OCSP exchange (ocsp.request, ocsp.response) and the HTTP headers of its
// answer. At thousands of answers a second the wording is made once per statement — every answer
// made from one statement shares its `statuses` array — not once per request.
import { createHash } from 'node:crypto';
import type { EventInput } from '../common/events.js';
import type { CaEvent } from './events.js';
import type { OcspAnswer } from './ocsp.js';

interface Wording {
  about: string;
  serials: string[];
  response: EventInput<CaEvent>;
}

const wordingOf = new WeakMap<OcspAnswer['statuses'], Wording>();

function wordingFor(a: OcspAnswer): Wording {
  let w = wordingOf.get(a.statuses);
  if (!w) {
    w = {
      about: a.malformed
        ? 'something unreadable'
        : a.statuses.map((x) => `serial ${x.serial.slice(0, 12)}…`).join(', '),
      serials: a.statuses.map((x) => x.serial),
      response: {
        kind: 'ocsp.response',
        summary: a.malformed
          ? `answers malformedRequest: ${a.reason}`
          : `answers ${a.statuses.map((x) => x.status + (x.reason ? ` (${x.reason})` : '')).join(', ')}, valid until ${a.nextUpdate.toISOString()}`,
        data: {
          statuses: a.statuses,
          thisUpdate: a.thisUpdate.toISOString(),
          nextUpdate: a.nextUpdate.toISOString(),
          malformed: a.malformed,
          reason: a.reason,
        },
      },
    };
    wordingOf.set(a.statuses, w);
  }
  return w;
}

/** ocsp.request and ocsp.response for one answer to `from`. */
export function ocspExchangeEvents(
  a: OcspAnswer,
  from: string,
  method: 'GET' | 'POST',
): [EventInput<CaEvent>, EventInput<CaEvent>] {
  const w = wordingFor(a);
  return [
    {
      kind: 'ocsp.request',
      summary: `${from} asks (${method}) about ${w.about}${a.nonce ? ' with a nonce' : ''}`,
      data: { serials: w.serials, nonce: a.nonce, method, from },
    },
    w.response,
  ];
}

const etagOf = new WeakMap<Uint8Array, string>();

/** A strong validator of the whole answer (its tail alone is the responder certificate, the same in all). */
function etag(der: Uint8Array): string {
  let tag = etagOf.get(der);
  if (!tag) {
    tag = `"${createHash('sha256').update(der).digest('hex').slice(0, 32)}"`;
    etagOf.set(der, tag);
  }
  return tag;
}

/**
 * RFC 5019 §6: answers over GET are cacheable until nextUpdate; POST answers and refusals are not.
 * An answer that echoes a nonce was made for one request only (RFC 8954 §2.1): no cache may keep
 * it or hand it to another client, so it is no-store with no validator.
 */
export function ocspCacheHeaders(a: OcspAnswer, method: 'GET' | 'POST', now: number): Record<string, string> {
  if (method !== 'GET' || a.malformed || a.nonce !== undefined) return { 'Cache-Control': 'no-store' };
  return {
    'Cache-Control': `max-age=${Math.max(0, Math.floor((a.nextUpdate.getTime() - now) / 1000))}, public, no-transform, must-revalidate`,
    'Last-Modified': a.thisUpdate.toUTCString(),
    Expires: a.nextUpdate.toUTCString(),
    ETag: etag(a.der),
  };
}
