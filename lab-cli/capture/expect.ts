// `expect: packets:` — display filters counted with tshark on the run's capture. Filters name lab
// hosts, never addresses, so one scenario works on every block and runtime (README, "Scenarios"):
//   ${dst:ns-root}   packets to ns-root, on any of its addresses (v4 and v6)
//   ${src:browser}   packets from the browser
//   ${host:proxy}    packets to or from the proxy
//   ${ip:proxy} ${ip6:proxy}   the bare address, for anything else (e.g. dns.a == ${ip:proxy})
import { address6Of, addressOf, allAddressesOf, type LabSettings } from '../../services/common/settings.js';
import { hosts } from '../../services/common/topology.js';
import { tshark } from './frames.js';

const HOST_REF = /\$\{(dst|src|host|ip|ip6):([a-z0-9-]+)\}/g;

/** Host references a filter uses that are not lab hosts, or misspelled forms: errors to show the author. */
export function hostRefErrors(filter: string): string[] {
  const errors: string[] = [];
  for (const m of filter.matchAll(/\$\{([^}]*)\}/g)) {
    const ok = /^(dst|src|host|ip|ip6):([a-z0-9-]+)$/.exec(m[1]);
    if (!ok)
      errors.push(
        `"${m[0]}" is not a host reference (write \${dst:NAME}, \${src:NAME}, \${host:NAME}, \${ip:NAME} or \${ip6:NAME})`,
      );
    else if (!hosts.some((h) => h.name === ok[2]))
      errors.push(`"${ok[2]}" is not a lab host (known: ${hosts.map((h) => h.name).join(', ')})`);
  }
  return errors;
}

/** The filter with every host reference replaced by this runtime's addresses. */
export function expandHostRefs(filter: string, s: LabSettings): string {
  const errors = hostRefErrors(filter);
  if (errors.length) throw new Error(errors.join('; '));
  return filter.replace(HOST_REF, (_, form: string, host: string) => {
    if (form === 'ip') return addressOf(host, s);
    if (form === 'ip6') return address6Of(host, s);
    const all = allAddressesOf(host, s);
    const v4 = all.filter((a) => !a.includes(':'));
    const v6 = all.filter((a) => a.includes(':'));
    const fields = form === 'host' ? ['addr'] : [form];
    const tests = fields.flatMap((f) => [
      ...(v4.length ? [`ip.${f} in {${v4.join(', ')}}`] : []),
      ...(v6.length ? [`ipv6.${f} in {${v6.join(', ')}}`] : []),
    ]);
    return `(${tests.join(' || ')})`;
  });
}

export interface PacketExpectation {
  filter: string;
  count?: number;
  min?: number;
  max?: number;
}

export interface PacketResult {
  filter: string;
  expected: string;
  actual: number;
  ok: boolean;
  /** the first frame numbers that matched, to look them up in Wireshark */
  frames: number[];
}

export function expectedText(e: PacketExpectation): string {
  if (e.count !== undefined) return String(e.count);
  if (e.min !== undefined && e.max !== undefined) return `${e.min}..${e.max}`;
  if (e.min !== undefined) return `≥ ${e.min}`;
  if (e.max !== undefined) return `≤ ${e.max}`;
  return '≥ 1';
}

function judge(e: PacketExpectation, n: number): boolean {
  if (e.count !== undefined) return n === e.count;
  if (e.min === undefined && e.max === undefined) return n >= 1;
  return (e.min === undefined || n >= e.min) && (e.max === undefined || n <= e.max);
}

/** Counts each filter's frames (filters already expanded); two tshark processes at a time. */
export async function checkPackets(
  pcap: string,
  exps: PacketExpectation[],
): Promise<{ ok: boolean; results: PacketResult[] }> {
  const results: PacketResult[] = new Array(exps.length);
  let next = 0;
  const worker = async () => {
    while (next < exps.length) {
      const i = next++;
      const e = exps[i];
      let out: string;
      try {
        out = await tshark(['-r', pcap, '-n', '-Y', e.filter, '-T', 'fields', '-e', 'frame.number']);
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_CAPTURE_BROKEN') throw err;
        throw new Error(
          `the filter "${e.filter}" is not a valid display filter: ${(err as Error).message.split('  ')[0]}`,
        );
      }
      const frames = out
        .split('\n')
        .filter((l) => /^\d+$/.test(l))
        .map(Number);
      results[i] = {
        filter: e.filter,
        expected: expectedText(e),
        actual: frames.length,
        ok: judge(e, frames.length),
        frames: frames.slice(0, 20),
      };
    }
  };
  await Promise.all([worker(), worker()]);
  return { ok: results.every((r) => r.ok), results };
}
