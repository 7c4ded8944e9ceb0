// What bench/nameserver.ts and bench/resolver.ts share: run Debian's dnsperf against one server and
// read its QPS, and a second, verbose run for the latency percentiles dnsperf does not print.
import { execFile, execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promisify } from 'node:util';
import { decodeMessage, encodeMessage, makeFlags } from '../services/common/dns-codec.js';

const run = promisify(execFile);

export interface PerfResult {
  qps: number;
  lost: number;
  p50: number;
  p99: number;
}

export interface PerfOptions {
  server: string;
  port: number;
  queryFile: string;
  seconds: number;
  clients: number;
  /** the source address, so every packet stays inside the lab's block */
  source: string;
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
    '-c',
    String(o.clients),
    '-q',
    '100',
  ];
}

/** Throughput from a quiet run, latency percentiles from a verbose one (one line a query). */
export async function dnsperf(o: PerfOptions): Promise<PerfResult> {
  const quiet = (await run('dnsperf', args(o, o.seconds), { maxBuffer: 1 << 20 })).stdout;
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(quiet)?.[1] ?? 0);
  const lost = Number(/Queries lost:\s+(\d+)/.exec(quiet)?.[1] ?? 0);
  const verbose = (await run('dnsperf', [...args(o, 2), '-v'], { maxBuffer: 1 << 30 })).stdout;
  const lat: number[] = [];
  for (const line of verbose.split('\n')) {
    if (!line.startsWith('> ')) continue;
    const s = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(s)) lat.push(s * 1000);
  }
  lat.sort((a, b) => a - b);
  const pct = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] : NaN);
  return { qps, lost, p50: pct(0.5), p99: pct(0.99) };
}

/** One question over UDP from `source`; resolves with the milliseconds it took (cold-cache timing). */
export function timeQuery(
  server: string,
  port: number,
  source: string,
  name: string,
  type = 'A',
): Promise<number> {
  const id = Math.floor(Math.random() * 65536);
  const q = encodeMessage({
    id,
    type: 'query',
    flags: makeFlags({ rd: true }),
    questions: [{ name, type: type as 'A', class: 'IN' }],
  });
  const sock = createSocket('udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`no answer from ${server} for ${name} in 5 s`));
    }, 5000);
    let t0 = 0;
    sock.on('message', (msg) => {
      try {
        if (decodeMessage(msg).id !== id) return;
      } catch {
        return;
      }
      clearTimeout(timer);
      sock.close();
      resolve(performance.now() - t0);
    });
    sock.bind({ address: source, port: 0 }, () => {
      t0 = performance.now();
      sock.send(q, port, server);
    });
  });
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
  return `${label.padEnd(22)} ${r.qps.toFixed(0).padStart(8)} QPS   p50 ${r.p50.toFixed(3)} ms   p99 ${r.p99.toFixed(3)} ms   lost ${r.lost}`;
}
