// Names and addresses typed at the CLI or written in a scenario, made what the lab means by them:
// names absolute (a master file would read "search.test" as relative to the zone, RFC 1035 §5.1),
// addresses of this lab translated the same way everywhere, anything outside the lab refused.

import { isIP } from 'node:net';
import { isNameserverHost, type NameserverHost } from '../services/common/commands.js';
import { type LabSettings, project, unproject } from '../services/common/settings.js';
import { DOCKER_PREFIX, hostsOfService } from '../services/common/topology.js';
import type { Runtime } from './runtime/types.js';

/** The TLD every lab name lives under (RFC 2606 reserves it for testing). */
export const LAB_TLD = 'test';

/** RDATA fields that are domain names, by type: their index among the value's words. */
const NAME_FIELDS: Record<string, number[]> = {
  CNAME: [0],
  DNAME: [0],
  NS: [0],
  PTR: [0],
  MX: [1],
  SRV: [3],
  SOA: [0, 1],
};

export function canonical(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Whether a name is one of the lab's (under .test), else why not. */
export function labNameProblem(name: string): string | undefined {
  const n = canonical(name);
  if (!/^[a-z0-9_*.-]+$/.test(n) || n.includes('..'))
    return `"${name}" is not a domain name (letters, digits, - and . only; IDN as xn--)`;
  if (n !== LAB_TLD && !n.endsWith(`.${LAB_TLD}`))
    return `${name} is not a lab name: the lab only serves names under .${LAB_TLD} (e.g. www.example.test)`;
  return undefined;
}

/** The value with every name field made absolute: "search.test" → "search.test.". */
export function absoluteRdata(type: string, value: string): string {
  const fields = NAME_FIELDS[type.toUpperCase()];
  if (!fields) return value;
  const words = value.trim().split(/\s+/);
  for (const i of fields)
    if (words[i] && !words[i].endsWith('.') && words[i] !== '@') words[i] = `${words[i]}.`;
  return words.join(' ');
}

/**
 * An address of this lab as the runtime uses it: a plan address (172.28.N.M, fd28:N::M) or this
 * lab's own runtime address (127.74.N.M), both translated to the runtime's; anything else refused.
 */
export function labAddress(address: string, s: LabSettings): string {
  const a = address.trim();
  if (!isIP(a)) throw new Error(`"${address}" is not an IP address`);
  const plan = unproject(a, s);
  const isPlan = plan.startsWith(`${DOCKER_PREFIX}.`) || /^fd28:\d+::\d+$/i.test(plan);
  if (!isPlan)
    throw new Error(
      `${address} is not a lab address: use a plan address (${DOCKER_PREFIX}.N.M or fd28:N::M, as in lab status of docker) or this lab's (${project(`${DOCKER_PREFIX}.2.81`, s)})`,
    );
  return project(plan, s);
}

/** A record's value as the lab means it: names absolute, addresses this lab's (else an error). */
export function labValue(type: string, value: string, s: LabSettings): string {
  if (/^(A|AAAA)$/i.test(type)) return labAddress(value, s);
  const v = absoluteRdata(type, value);
  for (const w of v.split(/\s+/)) {
    const problem =
      w.endsWith('.') && w !== '.' && /^(CNAME|DNAME|NS|PTR|MX|SRV)$/i.test(type)
        ? labNameProblem(w)
        : undefined;
    if (problem) throw new Error(problem);
  }
  return v;
}

/** The nameserver serving the most specific zone that holds a name, or undefined. */
export async function zoneOf(
  rt: Runtime,
  name: string,
): Promise<{ host: NameserverHost; zone: string } | undefined> {
  const n = canonical(name);
  let best: { host: NameserverHost; zone: string } | undefined;
  for (const host of hostsOfService('nameserver').map((h) => h.name)) {
    if (!isNameserverHost(host)) continue;
    const zones = await rt.control(host, 'dns.zones').catch((): string[] => []);
    for (const z of zones) {
      const zone = z === '.' ? '' : canonical(z);
      if (zone === '' || n === zone || n.endsWith(`.${zone}`))
        if (!best || zone.length > best.zone.length) best = { host, zone };
    }
  }
  return best;
}
