// What bench/nameserver.ts and bench/resolver.ts share: run Debian's dnsperf against one server and
// read its QPS, and a second, verbose run for the latency percentiles dnsperf does not print.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { queryDns } from '../services/common/dns/client.js';

const run = promisify(execFile);

export interface PerfResult {
  qps: number;
  lost: number;
  p50: number;
  p99: number;
  /** the server's CPU time a query (µs) in the throughput run, when its processes were given */
  cpuPerQuery?: number;
}

export interface PerfOptions {
  server: string;
  port: number;
  queryFile: string;
  seconds: number;
  /** dnsperf -c; left out, dnsperf's own default (one client) */
  clients?: number;
  /** the source address, so every packet stays inside the lab's block */
  source: string;
  /** the server's processes, to read their CPU time around the throughput run */
  serverPids?: number[];
}

/** The processes with a UDP socket on address:port (ss -p), e.g. NSD's parent and its server child. */
export function pidsListeningOn(address: string, port: number): number[] {
  const out = execFileSync('ss', ['-Hulpn', `src ${address}:${port}`], { encoding: 'utf8' });
  return [...new Set([...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])))];
}

/** User + system CPU seconds of these processes so far (/proc/PID/stat fields 14 and 15). */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) "
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / 100; // USER_HZ
}

function args(o: PerfOptions, seconds: number): string[] {
  return [
    '-s',
    o.server,
    '-p',
    String(o.port),
    '-a',
    o.source,
    '-d',
    o.queryFile,
    '-l',
    String(seconds),
    ...(o.clients === undefined ? [] : ['-c', String(o.clients), '-q', '100']),
  ];
}

/** Throughput from a quiet run, latency percentiles from a verbose one (one line a query). */
export async function dnsperf(o: PerfOptions): Promise<PerfResult> {
  const cpu0 = o.serverPids ? cpuSeconds(o.serverPids) : 0;
  const quiet = (await run('dnsperf', args(o, o.seconds), { maxBuffer: 1 << 20 })).stdout;
  const cpu = o.serverPids ? cpuSeconds(o.serverPids) - cpu0 : undefined;
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(quiet)?.[1] ?? 0);
  const lost = Number(/Queries lost:\s+(\d+)/.exec(quiet)?.[1] ?? 0);
  const completed = Number(/Queries completed:\s+(\d+)/.exec(quiet)?.[1] ?? 0);
  const verbose = (await run('dnsperf', [...args(o, 2), '-v'], { maxBuffer: 1 << 30 })).stdout;
  const lat: number[] = [];
  for (const line of verbose.split('\n')) {
    if (!line.startsWith('> ')) continue;
    const s = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(s)) lat.push(s * 1000);
  }
  lat.sort((a, b) => a - b);
  const pct = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] : NaN);
  const cpuPerQuery = cpu !== undefined && completed ? (cpu * 1e6) / completed : undefined;
  return { qps, lost, p50: pct(0.5), p99: pct(0.99), cpuPerQuery };
}

/** One question over UDP from `source` (RD=1, no EDNS); resolves with the milliseconds it took (cold-cache timing). */
export async function timeQuery(
  server: string,
  port: number,
  source: string,
  name: string,
  type = 'A',
): Promise<number> {
  const reply = await queryDns(
    { name, type },
    { server, port, source, timeoutMs: 5000, rd: true, edns: false },
  );
  return reply.rtt;
}

export function needTools(...tools: string[]): void {
  for (const t of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
    } catch {
      console.error(`${t} is not installed (Debian: apt-get install dnsperf nsd unbound)`);
      process.exit(2);
    }
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function row(label: string, r: PerfResult): string {
  const cpu = r.cpuPerQuery === undefined ? '' : `   CPU ${r.cpuPerQuery.toFixed(1)} µs/query`;
  return `${label.padEnd(22)} ${r.qps.toFixed(0).padStart(8)} QPS   p50 ${r.p50.toFixed(3)} ms   p99 ${r.p99.toFixed(3)} ms   lost ${r.lost}${cpu}`;
}
