// JOURNEY 5–7: the browser's host resolver (as Chromium's HostResolverManager): its own DNS cache,
// then the hosts file, then the stub resolver (resolve.ts) asking the resolver resolv.conf names, for
// A and AAAA in parallel. Made once per browser process (BrowserContext), so its cache outlives a page.
import { isIP, isIPv6 } from 'node:net';
import type { Emitter } from '../common/events.js';
import { NetError, sortAddresses } from './connect.js';
import type { BrowserEvent } from './events.js';
import {
  addressesOf,
  candidates,
  DnsError,
  describeAnswer,
  type ResolvConf,
  readHostsFile,
  stubQuery,
} from './resolve.js';
import { RESOLVER_TLS_NAME, type SecureDns, type SecureDnsMode } from './secure-dns.js';

const DNS_CACHE_CAP_S = 60; // Chrome's host cache caps TTLs at a minute
const RESOLUTION_DELAY_MS = 50; // RFC 8305 §3

export interface HostResolverConfig {
  events: Emitter<BrowserEvent>;
  hostsPath: string;
  resolvConf: () => ResolvConf;
  dnsPort: number;
  /** the browser's own address of a family (outgoing sockets bind to it) */
  source(family: 4 | 6): string | undefined;
  /** the lab's root: secure DNS checks the resolver's certificate against it */
  caPem: () => Promise<string>;
}

/** One lookup's settings, from the page load that asks. */
export interface LookupOptions {
  trace?: string;
  /** secure DNS: questions to the resolver over DoT or DoH, on this port (default: UDP, as resolv.conf says) */
  secureDns?: { mode: SecureDnsMode; port: number };
  /** NSS key log lines of the DoT or DoH connections */
  keylog?: (line: Buffer) => void;
}

export interface Resolved {
  addresses: string[];
  source: 'cache' | 'hosts' | 'dns' | 'literal';
  ms: number;
}

export class HostResolver {
  private readonly cache = new Map<string, { addresses: string[]; expires: number }>();
  constructor(private readonly c: HostResolverConfig) {}

  /** Browser DNS cache → hosts file → stub resolver (A and AAAA in parallel). */
  async resolve(host: string, o: LookupOptions = {}): Promise<Resolved> {
    const ev = this.c.events;
    const trace = o.trace;
    const t0 = performance.now();
    if (isIP(host)) return { addresses: [host], source: 'literal', ms: 0 };
    const cached = this.cache.get(host);
    if (cached && cached.expires > Date.now()) {
      ev.emit({
        kind: 'dns.cache',
        trace,
        summary: `${host} is in the browser's DNS cache: ${cached.addresses.join(', ')}`,
        data: {
          name: host,
          addresses: cached.addresses,
          ttl: Math.round((cached.expires - Date.now()) / 1000),
        },
      });
      return { addresses: cached.addresses, source: 'cache', ms: performance.now() - t0 };
    }
    const hosts = readHostsFile(this.c.hostsPath).get(host.toLowerCase());
    if (hosts?.length) {
      ev.emit({
        kind: 'dns.hosts',
        trace,
        summary: `${host} is in the hosts file: ${hosts.join(', ')} (no DNS query)`,
        data: { name: host, addresses: hosts, file: this.c.hostsPath },
      });
      return { addresses: hosts, source: 'hosts', ms: performance.now() - t0 };
    }
    const conf = this.c.resolvConf();
    const secure: SecureDns | undefined = o.secureDns && {
      ...o.secureDns,
      servername: RESOLVER_TLS_NAME,
      ca: await this.c.caPem(),
      keylog: (line: Buffer) => o.keylog?.(line),
    };
    const sourceFor = (server: string) =>
      this.c.source(isIPv6(server) ? 6 : 4) ?? (isIPv6(server) ? '::' : '0.0.0.0');
    for (const name of candidates(host, conf)) {
      const ask = (type: 'A' | 'AAAA') =>
        stubQuery(conf, this.c.dnsPort, sourceFor, name, type, secure).then((a) => {
          const got = addressesOf(a.records, type);
          ev.emit({
            kind: 'dns.stub',
            trace,
            peer: `${a.server}:${secure?.port ?? this.c.dnsPort}`,
            summary: `asks ${a.server} (from resolv.conf) for ${name} ${type}: ${a.rcode === 3 ? 'NXDOMAIN' : got.addresses.join(', ') || 'no address'}${got.chain.length ? ` via ${got.chain.join(', ')}` : ''} in ${a.ms.toFixed(1)} ms`,
            data: {
              name,
              type,
              server: a.server,
              local: a.local,
              transport: a.transport,
              rcode: a.rcode,
              addresses: got.addresses,
              cname: got.chain,
              ttl: got.ttl,
              ms: Math.round(a.ms * 100) / 100,
            },
          });
          return { ...got, rcode: a.rcode };
        });
      const v4 = ask('A');
      const v6 = this.c.source(6)
        ? ask('AAAA')
        : Promise.resolve({ addresses: [] as string[], ttl: 0, chain: [], rcode: 0 });
      let a4: Awaited<typeof v4> | undefined;
      let failed4: DnsError | undefined;
      try {
        a4 = await v4;
      } catch (err) {
        if (!(err instanceof DnsError)) throw err;
        failed4 = err;
      }
      // RFC 8305 §3: once A is in, wait up to 50 ms more for AAAA
      const a6 = await Promise.race([
        v6.catch(() => undefined),
        new Promise<undefined>((r) => setTimeout(r, a4 ? RESOLUTION_DELAY_MS : 10_000)),
      ]);
      const addresses = sortAddresses(a6?.addresses ?? [], a4?.addresses ?? []);
      if (addresses.length) {
        const ttl = Math.min(
          ...[a4, a6].filter((x) => x?.addresses.length).map((x) => x?.ttl ?? 0),
          DNS_CACHE_CAP_S,
        );
        if (ttl > 0) this.cache.set(host, { addresses, expires: Date.now() + ttl * 1000 });
        return { addresses, source: 'dns', ms: performance.now() - t0 };
      }
      // no A answer, and no AAAA answer either (or none asked): the resolver failed us
      if (!a4 && (!a6 || !this.c.source(6))) {
        // it did answer, with an error: say which, with its EDE text (as net-internals does)
        const failed6 = a6
          ? undefined
          : await v6.then(
              () => undefined,
              (e: unknown) => e,
            );
        const failed = [failed4, failed6].find((e): e is DnsError => e instanceof DnsError && !!e.answered);
        if (failed?.answered)
          throw new NetError(
            'ERR_NAME_NOT_RESOLVED',
            `the resolver ${failed.answered.server} answered ${describeAnswer(failed.answered)} for ${name}`,
            'dns',
          );
        throw new NetError('ERR_NAME_NOT_RESOLVED', `the resolver did not answer for ${host}`, 'dns');
      }
    }
    throw new NetError('ERR_NAME_NOT_RESOLVED', `${host} does not exist (NXDOMAIN or no address)`, 'dns');
  }

  /** A changed hosts file, `lab browser dns flush`, browser.clear: forget every answer. */
  flush(): number {
    const n = this.cache.size;
    this.cache.clear();
    return n;
  }
}
