// Questions the resolver answers itself and never sends upstream: the CHAOS-class identity names that
// `dig CH TXT version.bind` asks (as unbound and BIND answer them), and the classes it does not serve.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Answer, Question } from '../common/dns/codec.js';
import { PROJECT_ROOT } from '../common/settings.js';

const VERSION = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

export type LocalAnswer =
  /** answered here, with these records */
  | { answers: Answer[] }
  /** REFUSED here, as unbound refuses it */
  | { refused: string }
  /** a question for the iterator */
  | undefined;

/**
 * What the resolver says to a question that is not for the DNS tree it iterates: CH (and HS) are
 * other namespaces (RFC 1035 §3.2.4), so they never get IN data and are never asked upstream.
 * Like unbound: version.bind and version.server tell the software, id.server and hostname.bind the
 * host (RFC 4892 §2.2); any other CH or HS question is REFUSED.
 */
export function localAnswer(q: Question, host: string): LocalAnswer {
  const qclass = q.class ?? 'IN';
  if (qclass === 'IN' || qclass === 'ANY') return undefined;
  if (qclass !== 'CH' || q.type !== 'TXT') return { refused: `class ${qclass} ${q.type} is not served here` };
  const text = identity(q.name.toLowerCase().replace(/\.$/, ''), host);
  if (text === undefined) return { refused: `no CH TXT ${q.name} here` };
  // TTL 0, as unbound: the answer describes this server, not a name anyone should cache
  return { answers: [{ name: q.name, type: 'TXT', class: 'CH', ttl: 0, data: [text] } as Answer] };
}

function identity(name: string, host: string): string | undefined {
  switch (name) {
    case 'version.bind':
    case 'version.server':
      return `enterlab ${VERSION}`;
    case 'id.server':
    case 'hostname.bind':
      return host;
    default:
      return undefined;
  }
}
