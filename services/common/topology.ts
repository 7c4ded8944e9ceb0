// The lab's address plan, written once (docs/ARCHITECTURE.md, "Address plan"). Every other file derives
// addresses, zone data, root hints, resolv.conf, hosts files and certificate SANs from here.

export type NetworkName = 'home' | 'internet' | 'backend';
export type ServiceName = 'browser' | 'middlebox' | 'nameserver' | 'resolver' | 'ca' | 'proxy' | 'app';
export type RuntimeName = 'local' | 'docker';

export interface Network {
  name: NetworkName;
  /** third octet of 172.28.N.0/24 and the N of fd28:N::/64 */
  index: number;
  /** the Linux bridge of this network on the docker runtime (fixed, so captures and firewall rules can name it) */
  bridge: string;
}

export interface HostSpec {
  name: string;
  service: ServiceName;
  /** last octet on each network the host is attached to */
  on: Partial<Record<NetworkName, number>>;
  /** DNS names that point at this host (A/AAAA in the lab's zones) */
  names?: string[];
  /** one line for `lab status` and the README */
  role: string;
}

export const networks: readonly Network[] = [
  { name: 'home', index: 1, bridge: 'lab-home' },
  { name: 'internet', index: 2, bridge: 'lab-internet' },
  { name: 'backend', index: 3, bridge: 'lab-backend' },
];

/** The docker plan's first two octets; the local runtime replaces them with its loopback block. */
export const DOCKER_PREFIX = '172.28';
export const ULA_PREFIX = 'fd28';
export const DEFAULT_LOOPBACK_BLOCK = '127.28';

export const hosts: readonly HostSpec[] = [
  {
    name: 'browser',
    service: 'browser',
    on: { home: 10 },
    role: 'the client: omnibox, stub resolver, TLS, HTTP',
  },
  {
    name: 'middlebox',
    service: 'middlebox',
    on: { home: 254, internet: 254 },
    role: 'home router and on-path censor',
  },
  { name: 'ns-root', service: 'nameserver', on: { internet: 11 }, role: 'authoritative for the root zone .' },
  { name: 'ns-tld', service: 'nameserver', on: { internet: 12 }, role: 'authoritative for test.' },
  {
    name: 'ns-example',
    service: 'nameserver',
    on: { internet: 13 },
    role: 'authoritative for example.test. and the other lab domains',
  },
  {
    name: 'ca',
    service: 'ca',
    on: { internet: 20 },
    names: ['ca.test'],
    role: 'certificate authority, CRL and OCSP',
  },
  {
    name: 'resolver',
    service: 'resolver',
    on: { internet: 53 },
    role: 'recursive resolver named by resolv.conf',
  },
  {
    name: 'proxy',
    service: 'proxy',
    on: { internet: 80, backend: 80 },
    // the apex example.test resolves here too (its zone's A/AAAA), so its certificate names it
    names: [
      'www.example.test',
      'cdn.example.test',
      'example.test',
      'search.test',
      'www.xn--sjsten-xxa.test',
      'blocked.test',
    ],
    role: 'Varnish-like caching reverse proxy with TLS',
  },
  { name: 'app', service: 'app', on: { backend: 10 }, role: 'web server and Symfony-style kernel' },
  {
    name: 'web2',
    service: 'app',
    on: { internet: 81 },
    role: 'another web server, for the hosts-file override story',
  },
];

export function hostSpec(name: string): HostSpec {
  const spec = hosts.find((h) => h.name === name);
  if (!spec) throw new Error(`unknown lab host "${name}" (known: ${hosts.map((h) => h.name).join(', ')})`);
  return spec;
}

export function networkOf(name: NetworkName): Network {
  const net = networks.find((n) => n.name === name);
  if (!net) throw new Error(`unknown network ${name}`);
  return net;
}

/** The plan's IPv4 address of a host on a network: 172.28.N.M. */
export function planAddress(host: string, network?: NetworkName): string {
  const spec = hostSpec(host);
  const net = network ?? (Object.keys(spec.on)[0] as NetworkName);
  const last = spec.on[net];
  if (last === undefined) throw new Error(`host ${host} is not on network ${net}`);
  return `${DOCKER_PREFIX}.${networkOf(net).index}.${last}`;
}

/** The plan's IPv6 ULA twin of 172.28.N.M: fd28:N::M. */
export function planAddress6(host: string, network?: NetworkName): string {
  return ipv6Twin(planAddress(host, network));
}

export function ipv6Twin(v4: string): string {
  const [, , n, m] = v4.split('.');
  return `${ULA_PREFIX}:${n}::${m}`;
}

/** The network a host is "seen" on by the rest of the lab: internet if attached, else its only one. */
export function publicNetwork(host: string): NetworkName {
  const spec = hostSpec(host);
  if (spec.on.internet !== undefined) return 'internet';
  return Object.keys(spec.on)[0] as NetworkName;
}

export function hostsOfService(service: ServiceName): HostSpec[] {
  return hosts.filter((h) => h.service === service);
}

/** Which host owns a plan address (v4 or v6), or undefined. */
export function hostByPlanAddress(address: string): { host: string; network: NetworkName } | undefined {
  for (const h of hosts) {
    for (const [net, last] of Object.entries(h.on) as [NetworkName, number][]) {
      const v4 = `${DOCKER_PREFIX}.${networkOf(net).index}.${last}`;
      if (address === v4 || address === ipv6Twin(v4)) return { host: h.name, network: net };
    }
  }
  return undefined;
}
