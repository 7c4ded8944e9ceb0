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
    // no commas (not `in {a, b}`): checkPackets hands all filters to one tshark -z io,stat
    const field = form === 'host' ? 'addr' : form;
    const tests = allAddressesOf(host, s).map((a) => `${a.includes(':') ? 'ipv6' : 'ip'}.${field} == ${a}`);
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
  /** a failed expectation's first matching frames, to look them up in Wireshark */
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

/** Frame counts of several filters in one pass: the last row of `tshark -z io,stat,0,f1,f2…`. */
export function parseIoStat(out: string, n: number): number[] | undefined {
  const row = out
    .split('\n')
    .filter((l) => /^\|\s*[\d.]+\s*<>\s*([\d.]+|Dur)\s*\|/.test(l))
    .pop();
  const cells = row
    ?.split('|')
    .slice(2)
    .map((c) => c.trim())
    .filter((c) => c !== '');
  if (!cells || cells.length < 2 * n || cells.some((c) => !/^\d+$/.test(c))) return undefined;
  return Array.from({ length: n }, (_, i) => Number(cells[2 * i])); // Frames, Bytes per filter
}

async function framesOf(pcap: string, filter: string): Promise<number[]> {
  try {
    const out = await tshark(['-r', pcap, '-n', '-Y', filter, '-T', 'fields', '-e', 'frame.number']);
    return out
      .split('\n')
      .filter((l) => /^\d+$/.test(l))
      .map(Number);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_CAPTURE_BROKEN') throw err;
    throw new Error(
      `the filter "${filter}" is not a valid display filter: ${(err as Error).message.split('  ')[0]}`,
    );
  }
}

/**
 * Counts each filter's frames (filters already expanded) in one tshark pass; a filter with a comma
 * (which io,stat would split) or a failed pass falls back to one tshark per filter, which also names
 * a filter tshark cannot parse. Failed expectations list their first frames.
 */
export async function checkPackets(
  pcap: string,
  exps: PacketExpectation[],
): Promise<{ ok: boolean; results: PacketResult[] }> {
  let counts: (number | undefined)[] = exps.map(() => undefined);
  const batch = exps.map((e, i) => ({ e, i })).filter(({ e }) => !e.filter.includes(','));
  if (batch.length) {
    try {
      const out = await tshark([
        '-r',
        pcap,
        '-n',
        '-q',
        '-z',
        `io,stat,0,${batch.map(({ e }) => e.filter).join(',')}`,
      ]);
      const n = parseIoStat(out, batch.length);
      if (n) counts = counts.map((c, i) => n[batch.findIndex((b) => b.i === i)] ?? c);
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_CAPTURE_BROKEN') throw err;
    }
  }
  const results: PacketResult[] = [];
  for (const e of exps) {
    const counted = counts[results.length];
    const frames = counted === undefined || !judge(e, counted) ? await framesOf(pcap, e.filter) : [];
    const actual = counted ?? frames.length;
    results.push({
      filter: e.filter,
      expected: expectedText(e),
      actual,
      ok: judge(e, actual),
      frames: frames.slice(0, 20),
    });
  }
  return { ok: results.every((r) => r.ok), results };
}
