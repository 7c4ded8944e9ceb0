// JOURNEY 5–7: how the browser host turns a name into addresses — its own DNS cache, then the hosts
// file, then the resolver resolv.conf names, asked for A and AAAA in parallel by a stub resolver
// (UDP, TCP when truncated), with the lab's one DNS client (services/common/dns/client.ts).
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import {
  answersQuery,
  buildQuery,
  DnsClientError,
  type DnsQuestion,
  queryDns,
} from '../common/dns/client.js';
import { type Answer, canonicalName, type Packet, RCODE, rcodeOf, readEde } from '../common/dns/codec.js';
import { type SecureDns, type SecureDnsMode, secureExchange } from './secure-dns.js';

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  ndots: number;
  /** seconds, per attempt */
  timeout: number;
  attempts: number;
}

/** resolv.conf(5): nameserver, search/domain, options ndots: timeout: attempts:. */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], search: [], ndots: 1, timeout: 5, attempts: 2 };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0] && isIP(rest[0]) && conf.nameservers.length < 3)
      conf.nameservers.push(rest[0]);
    else if (key === 'search') conf.search = rest;
    else if (key === 'domain') conf.search = rest.slice(0, 1);
    else if (key === 'options') {
      for (const o of rest) {
        const [k, v] = o.split(':');
        const n = Number(v);
        if (k === 'ndots' && Number.isInteger(n)) conf.ndots = Math.min(n, 15);
        if (k === 'timeout' && Number.isInteger(n) && n > 0) conf.timeout = Math.min(n, 30);
        if (k === 'attempts' && Number.isInteger(n) && n > 0) conf.attempts = Math.min(n, 5);
      }
    }
  }
  return conf;
}

/** hosts(5): address, then names; later lines do not override earlier ones. */
export function parseHosts(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const [addr, ...names] = raw.replace(/#.*$/, '').trim().split(/\s+/);
    if (!addr || !isIP(addr)) continue;
    for (const n of names) {
      const key = canonicalName(n);
      out.set(key, [...(out.get(key) ?? []), addr]);
    }
  }
  return out;
}

export function readHostsFile(path: string): Map<string, string[]> {
  try {
    return parseHosts(readFileSync(path, 'utf8'));
  } catch {
    return new Map();
  }
}

/** The names the stub tries, in order (resolv.conf search list and ndots). */
export function candidates(name: string, conf: ResolvConf): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const dots = name.split('.').length - 1;
  const searched = conf.search.map((s) => `${name}.${s}`);
  return dots >= conf.ndots ? [name, ...searched] : [...searched, name];
}

export interface StubAnswer {
  rcode: number;
  records: Answer[];
  server: string;
  transport: 'udp' | 'tcp' | SecureDnsMode;
  ms: number;
  /** the local end of the UDP socket, for the timeline */
  local?: string;
}

export class DnsError extends Error {
  constructor(
    message: string,
    readonly code: 'ERR_NAME_NOT_RESOLVED' | 'ERR_DNS_TIMED_OUT',
    /** the resolver did answer, with this RCODE (SERVFAIL, REFUSED) and these RFC 8914 EDE options */
    readonly answered?: {
      server: string;
      rcode: 'SERVFAIL' | 'REFUSED';
      ede: { infoCode: number; text: string }[];
    },
  ) {
    super(message);
  }
}

/** "SERVFAIL (EDE 22: every server of example.test is unreachable)", as net-internals shows it. */
export function describeAnswer(a: NonNullable<DnsError['answered']>): string {
  const ede = a.ede.map((e) => `EDE ${e.infoCode}${e.text ? `: ${e.text}` : ''}`).join('; ');
  return `${a.rcode}${ede ? ` (${ede})` : ''}`;
}

/** A client failure (silence, nothing listening, a broken answer) as the browser names it. */
function stubError(err: unknown): unknown {
  return err instanceof DnsClientError ? new DnsError(err.message, 'ERR_DNS_TIMED_OUT') : err;
}

/** One question to one server: UDP with TCP on TC=1, or the secure transport; the answer's packet. */
async function ask(
  server: string,
  port: number,
  source: string,
  question: DnsQuestion,
  timeoutMs: number,
  secure?: SecureDns,
): Promise<{ packet: Packet; transport: StubAnswer['transport']; local?: string }> {
  if (secure) {
    // secure DNS: the same question over TLS or HTTPS instead of UDP
    const { id, bytes } = buildQuery(question, { rd: true });
    const packet = await secureExchange(secure, server, source, bytes, timeoutMs);
    if (!answersQuery(packet, id, question))
      throw new DnsError(`${server} answered another question over ${secure.mode}`, 'ERR_NAME_NOT_RESOLVED');
    return { packet, transport: secure.mode };
  }
  try {
    const r = await queryDns(question, { server, port, source, timeoutMs, rd: true });
    return { packet: r.response, transport: r.transport, local: r.local };
  } catch (err) {
    throw stubError(err);
  }
}

/** One question to the nameservers of resolv.conf, in order, with its timeout and attempts. */
export async function stubQuery(
  conf: ResolvConf,
  port: number,
  sourceFor: (server: string) => string,
  name: string,
  type: 'A' | 'AAAA',
  secure?: SecureDns,
): Promise<StubAnswer> {
  let last: Error = new DnsError('resolv.conf names no nameserver', 'ERR_NAME_NOT_RESOLVED');
  for (let attempt = 0; attempt < conf.attempts; attempt++) {
    for (const server of conf.nameservers) {
      const t0 = performance.now();
      try {
        const { packet, transport, local } = await ask(
          server,
          port,
          sourceFor(server),
          { name, type },
          conf.timeout * 1000,
          secure,
        );
        const rcode = rcodeOf(packet);
        if (rcode === RCODE.SERVFAIL || rcode === RCODE.REFUSED) {
          // like glibc's stub, the next server (or attempt) is asked; the answer is kept to report
          const answered = {
            server,
            rcode: rcode === RCODE.SERVFAIL ? ('SERVFAIL' as const) : ('REFUSED' as const),
            ede: readEde(packet),
          };
          last = new DnsError(
            `${server} answered ${describeAnswer(answered)}`,
            'ERR_NAME_NOT_RESOLVED',
            answered,
          );
          continue;
        }
        return {
          rcode,
          records: packet.answers ?? [],
          server,
          transport,
          ms: performance.now() - t0,
          local,
        };
      } catch (err) {
        // a server's SERVFAIL says more than a later server's silence: keep the answer
        if (!(last instanceof DnsError && last.answered)) last = err as Error;
      }
    }
  }
  throw last;
}

/** The addresses at the end of an answer's CNAME chain, and the smallest TTL on the way. */
export function addressesOf(
  records: Answer[],
  type: 'A' | 'AAAA',
): { addresses: string[]; ttl: number; chain: string[] } {
  const addresses = records.filter((r) => r.type === type).map((r) => (r as { data: string }).data);
  const chain = records
    .filter((r) => r.type === 'CNAME')
    .map((r) => `${r.name} → ${(r as { data: string }).data}`);
  const ttl = Math.min(...records.map((r) => (r as { ttl?: number }).ttl ?? 0), Number.POSITIVE_INFINITY);
  return { addresses, ttl: Number.isFinite(ttl) ? ttl : 0, chain };
}
