// A record as one line of text, as dig prints it: for events, the CLI and the zone files' round trip.
import type { Answer } from './codec.js';

/** The data of an SOA record (RFC 1035 §3.3.13), as dns-packet decodes it. */
export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/** A one-line text of a record, like dig prints it. */
export function recordText(a: Answer): string {
  const d = (a as { data?: unknown }).data;
  let rdata: string;
  switch (a.type) {
    case 'SOA': {
      const s = d as SoaData;
      rdata = `${s.mname}. ${s.rname}. ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
      break;
    }
    case 'MX': {
      const m = d as { preference: number; exchange: string };
      rdata = `${m.preference} ${m.exchange}.`;
      break;
    }
    case 'SRV': {
      const s = d as { priority: number; weight: number; port: number; target: string };
      rdata = `${s.priority} ${s.weight} ${s.port} ${s.target}.`;
      break;
    }
    case 'TXT': {
      const parts = (Array.isArray(d) ? d : [d]) as (Buffer | string)[];
      rdata = parts.map((p) => JSON.stringify(p.toString())).join(' ');
      break;
    }
    case 'CAA': {
      const c = d as { flags: number; tag: string; value: string };
      rdata = `${c.flags ?? 0} ${c.tag} ${JSON.stringify(c.value)}`;
      break;
    }
    case 'NS':
    case 'CNAME':
    case 'PTR':
      rdata = `${d}.`;
      break;
    default:
      rdata = Buffer.isBuffer(d) ? d.toString('hex') : typeof d === 'object' ? JSON.stringify(d) : String(d);
  }
  return `${a.name}. ${(a as { ttl?: number }).ttl ?? 0} IN ${a.type} ${rdata}`;
}
