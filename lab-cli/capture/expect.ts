// `expect: packets:` — display filters counted by Wireshark (sharkd) in the run's capture. Filters name lab
// hosts, never addresses, so one scenario works on every block and runtime (README, "Scenarios"):
//   ${dst:ns-root}   packets to ns-root, on any of its addresses (v4 and v6)
//   ${src:browser}   packets from the browser
//   ${host:proxy}    packets to or from the proxy
//   ${ip:proxy} ${ip6:proxy}   the bare address, for anything else (e.g. dns.a == ${ip:proxy})
import { readFileSync } from 'node:fs';
import { address6Of, addressOf, allAddressesOf, type LabSettings } from '../../services/common/settings.js';
import { hosts } from '../../services/common/topology.js';
import { tshark } from './frames.js';
import { checkPcapngBlocks } from './nrb.js';
import { openSharkd, type Sharkd, SharkdError } from './sharkd.js';

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
  /** why the filter could not be counted (not a valid display filter) */
  error?: string;
}

export interface PacketReport {
  ok: boolean;
  results: PacketResult[];
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

// sharkd's iograph takes graph0..graph9
const IOGRAPH_MAX = 10;
// one bucket for any capture shorter than a day (ms); a longer one sums its buckets
const WHOLE_CAPTURE_MS = 86_400_000;

type Params = Record<string, string | number>;
const iographParams = (filters: string[]): Params => ({
  interval: WHOLE_CAPTURE_MS,
  ...Object.fromEntries(
    filters.flatMap((f, i) => [
      [`graph${i}`, 'packets'],
      [`filter${i}`, f],
    ]),
  ),
});

/** Frame counts per filter from sharkd's iograph answer: each graph's buckets, summed. */
export function iographCounts(answer: { iograph: { items: (number | string)[] }[] }): number[] {
  return answer.iograph.map((g) => g.items.reduce<number>((n, x) => n + Number(x), 0));
}

/** Groups expectations into iograph requests that fit sharkd's graph limit and line buffer. */
function batches<T extends { filter: string }>(sharkd: Sharkd, items: T[]): T[][] {
  const out: T[][] = [];
  for (const item of items) {
    const last = out.at(-1);
    const grown = [...(last ?? []), item].map((x) => x.filter);
    if (last && last.length < IOGRAPH_MAX && sharkd.fits('iograph', iographParams(grown))) last.push(item);
    else out.push([item]);
  }
  return out;
}

/** tshark for a filter too long for sharkd's 2 KiB request line: its matching frames. */
async function framesWithTshark(pcap: string, filter: string): Promise<number[]> {
  const out = await tshark(['-r', pcap, '-n', '-Y', filter, '-T', 'fields', '-e', 'frame.number']);
  return out
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}

/**
 * Counts each filter's frames (filters already expanded) in the capture loaded in a sharkd session
 * (or a file, in a session of its own): every filter compiled first ("check", so a bad one is named
 * with sharkd's reason and the others still count), then all counted in one iograph dissection pass
 * per ten filters. Failed expectations list their first frames.
 */
export async function checkPackets(
  source: Sharkd | string,
  exps: PacketExpectation[],
): Promise<PacketReport> {
  if (typeof source === 'string') {
    checkPcapngBlocks(readFileSync(source)); // a broken file is reported, never counted
    const sharkd = openSharkd();
    try {
      await sharkd.load(source);
      return await checkPackets(sharkd, exps);
    } finally {
      await sharkd.close();
    }
  }
  const sharkd = source;
  const errors = new Map<number, string>();
  const counts = new Map<number, number>();
  const long: number[] = [];
  for (const [i, e] of exps.entries()) {
    if (!sharkd.fits('iograph', iographParams([e.filter]))) {
      long.push(i);
      continue;
    }
    try {
      await sharkd.call('check', { filter: e.filter });
    } catch (err) {
      if (!(err instanceof SharkdError)) throw err;
      errors.set(i, `not a valid display filter: ${err.message.replace(/^Filter invalid - /, '')}`);
    }
  }
  const countable = exps
    .map((e, i) => ({ filter: e.filter, i }))
    .filter(({ i }) => !errors.has(i) && !long.includes(i));
  for (const batch of batches(sharkd, countable)) {
    const answer = await sharkd.call<{ iograph: { items: (number | string)[] }[] }>(
      'iograph',
      iographParams(batch.map((b) => b.filter)),
    );
    const n = iographCounts(answer);
    for (const [k, b] of batch.entries()) counts.set(b.i, n[k]);
  }
  const results: PacketResult[] = [];
  for (const [i, e] of exps.entries()) {
    const base = { filter: e.filter, expected: expectedText(e) };
    const error = errors.get(i);
    if (error) {
      results.push({ ...base, actual: 0, ok: false, frames: [], error });
      continue;
    }
    let frames: number[] = [];
    let actual = counts.get(i);
    if (actual === undefined) {
      frames = await framesWithTshark(sharkd.file ?? '', e.filter);
      actual = frames.length;
    } else if (!judge(e, actual)) {
      const rows = await sharkd.call<{ num: number }[]>('frames', {
        filter: e.filter,
        column0: '0',
        limit: 20,
      });
      frames = rows.map((r) => r.num);
    }
    results.push({ ...base, actual, ok: judge(e, actual), frames: frames.slice(0, 20) });
  }
  return { ok: results.every((r) => r.ok), results };
}
