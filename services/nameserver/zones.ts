// The zones each nameserver host serves: master files under zones/, rendered with the runtime's
// addresses from the topology (no address literal is written twice), and changed at run time.
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import { type Answer, canonicalName } from '../common/dns/codec.js';
import { recordText } from '../common/dns/record-text.js';
import { address6Of, addressOf, type LabSettings, PROJECT_ROOT, ula } from '../common/settings.js';
import { hosts, type NetworkName, publicNetwork } from '../common/topology.js';
import { formatZone, parseZone, type RecordType, SUPPORTED_TYPES, ZoneSyntaxError } from './zonefile.js';

export const ZONE_DIR = join(PROJECT_ROOT, 'services', 'nameserver', 'zones');

/** Which zone files each nameserver host serves ("reverse" and "reverse6" are generated from the topology). */
export const ZONES_BY_HOST: Record<string, string[]> = {
  'ns-root': ['root.zone'],
  'ns-tld': ['test.zone'],
  'ns-example': [
    'example.test.zone',
    'ca.test.zone',
    'search.test.zone',
    'xn--sjsten-xxa.test.zone',
    'blocked.test.zone',
    'reverse',
    'reverse6',
  ],
};

/** The zones delegated below test. (each served from its own file): ca.test, example.test, … */
const CHILDREN_OF_TEST = new Set(
  Object.values(ZONES_BY_HOST)
    .flat()
    .filter((f) => /^[a-z0-9-]+\.test\.zone$/.test(f))
    .map((f) => f.replace(/\.zone$/, '')),
);

/** The reverse zone of the lab's IPv4 addresses: 28.172.in-addr.arpa in docker, N.127.… locally. */
export function reverseZoneName(s: LabSettings): string {
  const [a, b] = (s.runtime === 'docker' ? '172.28' : s.block).split('.');
  return `${b}.${a}.in-addr.arpa`;
}

/**
 * The reverse zone of the lab's IPv6 addresses (RFC 3596 §2.5): fd28::/16 is 8.2.d.f.ip6.arpa, a local
 * block's fd7f:41::/32 is 1.4.0.0.f.7.d.f.ip6.arpa (each group of the prefix is four nibbles).
 */
export function reverse6ZoneName(s: LabSettings): string {
  const nibbles = ula(s)
    .split(':')
    .map((group) => group.padStart(4, '0'))
    .join('');
  return `${[...nibbles].reverse().join('.')}.ip6.arpa`;
}

/** RFC 3596 §2.5: the 32 nibbles of an IPv6 address, last first, as ip6.arpa labels. */
export function ip6ArpaName(address: string): string {
  if (!isIPv6(address)) throw new Error(`${address} is not an IPv6 address`);
  const [head, tail = ''] = address.split('::');
  const groups = (part: string) => (part ? part.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const nibbles = all.map((g) => g.padStart(4, '0')).join('');
  return `${[...nibbles].reverse().join('.')}.ip6.arpa`;
}

export function originOfFile(file: string, s: LabSettings): string {
  if (file === 'reverse') return reverseZoneName(s);
  if (file === 'reverse6') return reverse6ZoneName(s);
  if (file === 'root.zone') return '';
  return file.replace(/\.zone$/, '');
}

/** Fills {{A:host}}, {{AAAA:host}}, {{A:host:network}}, {{REV4}}, {{REV6}} and {{HOSTS}}; drops AAAA lines without IPv6. */
export function renderTemplate(text: string, s: LabSettings): string {
  const hostLines = hosts
    // a host whose name is a delegated zone (ca.test) has its addresses in that zone: in test. they
    // would sit at the delegation point, occluded (RFC 1034 §4.2.1; named-checkzone warns)
    .filter((h) => !CHILDREN_OF_TEST.has(`${h.name}.test`))
    .map((h) => {
      const net = publicNetwork(h.name);
      const lines = [`${h.name}.test. IN A ${addressOf(h.name, s, net)}`];
      if (s.ipv6) lines.push(`${h.name}.test. IN AAAA ${address6Of(h.name, s, net)}`);
      return lines.join('\n');
    })
    .join('\n');
  return text
    .split('\n')
    .filter((l) => s.ipv6 || !l.includes('{{AAAA:'))
    .join('\n')
    .replace('{{HOSTS}}', hostLines)
    .replaceAll('{{REV4}}', reverseZoneName(s))
    .replaceAll('{{REV6}}', reverse6ZoneName(s))
    .replace(/\{\{(A|AAAA):([a-z0-9-]+)(?::([a-z]+))?\}\}/g, (_, type: string, host: string, net?: string) =>
      type === 'A'
        ? addressOf(host, s, net as NetworkName | undefined)
        : address6Of(host, s, net as NetworkName | undefined),
    );
}

/** PTR for every lab address → <host>.test, so `dig -x` names the host (and its A record agrees). */
export function renderReverseZone(s: LabSettings): string {
  const origin = reverseZoneName(s);
  const lines = [
    `$ORIGIN ${origin}.`,
    '$TTL 300',
    `@ IN SOA ns-example.test. hostmaster.test. ( 1 3600 600 86400 60 )`,
    '  IN NS ns-example.test.',
  ];
  for (const h of hosts) {
    for (const net of Object.keys(h.on) as NetworkName[]) {
      const [, , n, m] = addressOf(h.name, s, net).split('.');
      lines.push(`${m}.${n} IN PTR ${h.name}.test.`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** PTR for every lab IPv6 address → <host>.test; the zone is empty but for SOA and NS without IPv6. */
export function renderReverse6Zone(s: LabSettings): string {
  const lines = [
    `$ORIGIN ${reverse6ZoneName(s)}.`,
    '$TTL 300',
    `@ IN SOA ns-example.test. hostmaster.test. ( 1 3600 600 86400 60 )`,
    '  IN NS ns-example.test.',
  ];
  if (s.ipv6) {
    for (const h of hosts) {
      for (const net of Object.keys(h.on) as NetworkName[]) {
        lines.push(`${ip6ArpaName(address6Of(h.name, s, net))}. IN PTR ${h.name}.test.`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

export interface Zone {
  origin: string;
  /** owner (canonical) → type → records */
  names: Map<string, Map<string, Answer[]>>;
}

/** The record without its TTL: two records with the same text are the same member of an RRset. */
const rdataKey = (r: Answer) => recordText({ ...r, ttl: 0 } as Answer);

export function buildZone(origin: string, records: Answer[]): Zone {
  const names = new Map<string, Map<string, Answer[]>>();
  for (const r of records) {
    const owner = canonicalName(r.name);
    const types = names.get(owner) ?? new Map<string, Answer[]>();
    names.set(owner, types);
    const list = types.get(r.type) ?? [];
    const rec = { ...r, name: owner } as Answer;
    // RFC 2181 §5: an RRset is a set; a record written twice is served once (as NSD and BIND do)
    if (!list.some((x) => rdataKey(x) === rdataKey(rec))) list.push(rec);
    types.set(r.type, list);
  }
  const soa = names.get(canonicalName(origin))?.get('SOA');
  if (soa?.length !== 1)
    throw new ZoneSyntaxError(`zone ${origin || '.'} needs exactly one SOA at its apex`, 0);
  return { origin: canonicalName(origin), names };
}

export function zoneRecords(z: Zone): Answer[] {
  const out: Answer[] = [];
  const soa = z.names.get(z.origin)?.get('SOA') ?? [];
  out.push(...soa);
  for (const [, types] of z.names) for (const [t, rs] of types) if (t !== 'SOA') out.push(...rs);
  return out;
}

export function zoneText(z: Zone): string {
  return formatZone(z.origin, zoneRecords(z));
}

export function soaOf(z: Zone): Answer {
  const soa = z.names.get(z.origin)?.get('SOA');
  if (!soa) throw new Error(`zone ${z.origin || '.'} has lost its SOA`);
  return soa[0];
}

export function loadZoneFile(file: string, s: LabSettings): Zone {
  const origin = originOfFile(file, s);
  const text = renderZoneFile(file, s);
  const parsed = parseZone(text, { origin: origin ? `${origin}.` : '.' });
  return buildZone(parsed.origin, parsed.records);
}

export function renderZoneFile(file: string, s: LabSettings): string {
  if (file === 'reverse') return renderReverseZone(s);
  if (file === 'reverse6') return renderReverse6Zone(s);
  return renderTemplate(readFileSync(join(ZONE_DIR, file), 'utf8'), s);
}

/** Finds the zone that holds a name: the longest origin that is a suffix of it. */
export function zoneFor(zones: Zone[], name: string): Zone | undefined {
  const n = canonicalName(name);
  let best: Zone | undefined;
  for (const z of zones) {
    if (z.origin === '' || n === z.origin || n.endsWith(`.${z.origin}`)) {
      if (!best || z.origin.length > best.origin.length) best = z;
    }
  }
  return best;
}

function bumpSerial(z: Zone): void {
  const soa = soaOf(z) as Answer & { data: { serial: number } };
  soa.data = Object.assign({}, soa.data, { serial: (soa.data.serial + 1) % 2 ** 32 });
}

/** `lab dns set`: replaces the RRset (name, type) with one record; refuses bad input, zone unchanged. */
export function setRecord(zones: Zone[], name: string, type: string, value: string, ttl = 300): Answer {
  const t = type.toUpperCase() as RecordType;
  if (!SUPPORTED_TYPES.includes(t) || t === 'SOA')
    throw new Error(`type must be one of ${SUPPORTED_TYPES.filter((x) => x !== 'SOA').join(', ')}`);
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 2 ** 31 - 1)
    throw new Error(`TTL must be a whole number of seconds, not ${ttl}`);
  const zone = zoneFor(zones, name);
  if (!zone) throw new Error(`no zone here holds ${name}`);
  const fq = `${canonicalName(name)}.`;
  const parsed = parseZone(`${fq} ${ttl} IN ${t} ${value}`, {
    origin: zone.origin ? `${zone.origin}.` : '.',
  });
  const rec = parsed.records[0];
  const owner = canonicalName(rec.name);
  const types = zone.names.get(owner) ?? new Map<string, Answer[]>();
  if (t === 'CNAME' && [...types.keys()].some((k) => k !== 'CNAME'))
    throw new Error(`${owner} has other records; a CNAME must stand alone (RFC 1034 §3.6.2)`);
  if (t !== 'CNAME' && types.has('CNAME')) throw new Error(`${owner} is a CNAME; remove it first`);
  types.set(t, [{ ...rec, name: owner } as Answer]);
  zone.names.set(owner, types);
  bumpSerial(zone);
  return rec;
}

/** `lab dns rm`: removes an RRset, or every record of a name; refuses to touch the apex SOA/NS. */
export function removeRecord(zones: Zone[], name: string, type?: string): number {
  const zone = zoneFor(zones, name);
  if (!zone) throw new Error(`no zone here holds ${name}`);
  const owner = canonicalName(name);
  const types = zone.names.get(owner);
  if (!types) throw new Error(`${name} has no records`);
  const t = type?.toUpperCase();
  if (owner === zone.origin && (!t || t === 'SOA' || t === 'NS'))
    throw new Error('the apex SOA and NS records cannot be removed');
  let removed = 0;
  if (t) {
    removed = types.get(t)?.length ?? 0;
    if (!removed) throw new Error(`${name} has no ${t} record`);
    types.delete(t);
  } else {
    for (const rs of types.values()) removed += rs.length;
    types.clear();
  }
  if (types.size === 0) zone.names.delete(owner);
  bumpSerial(zone);
  return removed;
}
