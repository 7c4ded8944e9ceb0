// JOURNEY 5–7: how the browser host turns a name into addresses — its own DNS cache, then the hosts
// file, then the resolver resolv.conf names, asked for A and AAAA in parallel by a stub resolver
// (UDP, TCP when truncated), with the project's DNS codec.
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, isIP, isIPv6 } from 'node:net';
import {
  type Answer,
  canonicalName,
  decodeMessage,
  encodeMessage,
  frameTcp,
  makeFlags,
  makeOpt,
  type Packet,
  RCODE,
  rcodeOf,
  readEde,
  TcpDeframer,
} from '../common/dns/codec.js';
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

function query(name: string, type: 'A' | 'AAAA'): { id: number; bytes: Buffer } {
  const id = randomInt(65536);
  const p: Packet = {
    id,
    type: 'query',
    flags: makeFlags({ rd: true }),
    questions: [{ name, type, class: 'IN' }],
    answers: [],
    authorities: [],
    additionals: [makeOpt()],
  };
  return { id, bytes: encodeMessage(p) };
}

function udp(
  server: string,
  port: number,
  source: string,
  name: string,
  type: 'A' | 'AAAA',
  timeoutMs: number,
) {
  const { id, bytes } = query(name, type);
  return new Promise<{ packet: Packet; local: string }>((resolve, reject) => {
    const sock = createSocket(isIPv6(server) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new DnsError(`no answer from ${server} in ${timeoutMs} ms`, 'ERR_DNS_TIMED_OUT'));
    }, timeoutMs);
    sock.on('error', (err) => {
      clearTimeout(timer);
      sock.close();
      reject(new DnsError(`${server}: ${err.message}`, 'ERR_DNS_TIMED_OUT'));
    });
    sock.on('message', (msg) => {
      try {
        const p = decodeMessage(msg);
        if (p.id !== id || canonicalName(p.questions?.[0]?.name ?? '') !== canonicalName(name)) return; // not ours
        clearTimeout(timer);
        const a = sock.address();
        sock.close();
        resolve({ packet: p, local: `${a.address}:${a.port}` });
      } catch {
        // a malformed datagram: keep waiting for the real answer
      }
    });
    sock.bind({ address: source, port: 0 }, () => sock.connect(port, server, () => sock.send(bytes)));
  });
}

function tcp(
  server: string,
  port: number,
  source: string,
  name: string,
  type: 'A' | 'AAAA',
  timeoutMs: number,
) {
  const { id, bytes } = query(name, type);
  return new Promise<Packet>((resolve, reject) => {
    const sock = connect({ host: server, port, localAddress: source });
    const d = new TcpDeframer();
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new DnsError(`no TCP answer from ${server}`, 'ERR_DNS_TIMED_OUT'));
    }, timeoutMs);
    sock.on('connect', () => sock.write(frameTcp(bytes)));
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(new DnsError(`${server}: ${err.message}`, 'ERR_DNS_TIMED_OUT'));
    });
    sock.on('data', (c: Buffer) => {
      for (const m of d.push(c)) {
        const p = decodeMessage(m);
        if (p.id !== id) continue;
        clearTimeout(timer);
        sock.end();
        resolve(p);
      }
    });
  });
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
        // secure DNS: the same question over TLS or HTTPS instead of UDP
        const r = secure
          ? {
              packet: await secureExchange(
                secure,
                server,
                sourceFor(server),
                query(name, type).bytes,
                conf.timeout * 1000,
              ),
              local: undefined,
            }
          : await udp(server, port, sourceFor(server), name, type, conf.timeout * 1000);
        let packet = r.packet;
        let transport: StubAnswer['transport'] = secure?.mode ?? 'udp';
        if (!secure && ((packet.flags ?? 0) & 0x200) !== 0) {
          packet = await tcp(server, port, sourceFor(server), name, type, conf.timeout * 1000);
          transport = 'tcp';
        }
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
          local: r.local,
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
