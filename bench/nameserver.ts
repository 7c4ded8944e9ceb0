// bench/nameserver: dnsperf against ns-example and against NSD (Debian, one server process,
// rrl-ratelimit: 0) serving the same rendered zone file on another loopback address, in one run.
// The questions are every name and type of example.test as loaded, a wildcard, an NXDOMAIN and a
// NODATA; dnsperf runs with its own defaults (one client, 100 queries outstanding) unless told.
// ns-example runs as it ships (an event line a query) and then with per-query events off, so the
// cost of the event log shows beside the DNS work. The two servers take turns, alternating which
// goes first (this machine's speed drifts), and the median round's ratio is the figure. Each
// server's CPU time a query is printed too: on a busy machine QPS measures the scheduler's share as
// much as the server, while CPU time a query stays steady.
// Target: ≥ 0.5× NSD's QPS as it ships.
// Usage: node dist/bench/nameserver.js [--block 127.41] [--seconds 5] [--rounds 3] [--clients N]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalRuntime } from '../lab-cli/runtime/local.js';
import { addressOf, port, settingsFromEnv } from '../services/common/settings.js';
import { loadZoneFile, renderZoneFile } from '../services/nameserver/zones.js';
import { dnsperf, median, needTools, type PerfResult, pidsListeningOn, row, timeQuery } from './dnsperf.js';

const { values } = parseArgs({
  options: {
    block: { type: 'string', default: '127.41' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string' },
  },
});
needTools('dnsperf', 'nsd');

const tmp = mkdtempSync(join(tmpdir(), 'enterlab-bench-ns-'));
const s = settingsFromEnv(process.env, {
  runtime: 'local',
  block: values.block,
  stateDir: join(tmp, 'lab'),
  ipv6: false,
});
const ours = addressOf('ns-example', s);
const nsdAddress = `${s.block}.9.13`; // outside the plan's networks: never a lab host
const source = `${s.block}.9.1`;
const dnsPort = port(53, s);
const rt = new LocalRuntime(s);
let nsd: ChildProcess | undefined;

/** Every name × type example.test holds, plus a wildcard, an NXDOMAIN and a NODATA. */
function queryMix(): string[] {
  const zone = loadZoneFile('example.test.zone', s);
  const lines: string[] = [];
  for (const [name, types] of zone.names) {
    if (name.startsWith('*.')) continue;
    for (const type of types.keys()) lines.push(`${name} ${type}`);
  }
  lines.push('anything.wild.example.test A', 'tpyo.example.test A', 'v6only.example.test A');
  return lines;
}

function startNsd(): Promise<void> {
  writeFileSync(join(tmp, 'example.test.zone'), renderZoneFile('example.test.zone', s));
  writeFileSync(
    join(tmp, 'nsd.conf'),
    `server:
  ip-address: ${nsdAddress}@${dnsPort}
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "${tmp}"
  pidfile: ""
  database: ""
  zonelistfile: "${tmp}/zone.list"
  xfrdfile: "${tmp}/xfrd.state"
  xfrdir: "${tmp}"
  logfile: "${tmp}/nsd.log"
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: example.test
  zonefile: "${tmp}/example.test.zone"
`,
  );
  nsd = spawn('nsd', ['-d', '-c', join(tmp, 'nsd.conf')], { stdio: 'ignore' });
  return waitUp(nsdAddress);
}

async function waitUp(server: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      await timeQuery(server, dnsPort, '127.0.0.1', 'www.example.test');
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${server} does not answer`);
}

/** ns-example (started with these query events) and NSD in turns; the rounds' results. */
async function rounds(
  opts: Omit<Parameters<typeof dnsperf>[0], 'server' | 'source'>,
): Promise<{ ours: PerfResult[]; nsd: PerfResult[]; ratios: number[] }> {
  const out = { ours: [] as PerfResult[], nsd: [] as PerfResult[], ratios: [] as number[] };
  const oursPids = pidsListeningOn(ours, dnsPort);
  const nsdPids = pidsListeningOn(nsdAddress, dnsPort);
  for (let r = 0; r < Number(values.rounds); r++) {
    const runOurs = () => dnsperf({ ...opts, server: ours, source, serverPids: oursPids });
    const runNsd = () => dnsperf({ ...opts, server: nsdAddress, source, serverPids: nsdPids });
    let o: PerfResult;
    let n: PerfResult;
    if (r % 2 === 0) {
      o = await runOurs();
      n = await runNsd();
    } else {
      n = await runNsd();
      o = await runOurs();
    }
    out.ours.push(o);
    out.nsd.push(n);
    out.ratios.push(o.qps / n.qps);
  }
  return out;
}

function report(label: string, r: Awaited<ReturnType<typeof rounds>>): number {
  const m = median(r.ratios);
  const i = r.ratios.indexOf(m);
  console.log(row(`ns-example, ${label}`, r.ours[i]));
  console.log(row('NSD', r.nsd[i]));
  console.log(
    `  ratio ours / NSD: ${m.toFixed(2)}×  (rounds: ${r.ratios.map((x) => x.toFixed(2)).join(', ')})`,
  );
  return m;
}

try {
  await startNsd();
  const mix = queryMix();
  const queryFile = join(tmp, 'queries.txt');
  writeFileSync(queryFile, `${mix.join('\n')}\n`);
  const opts = {
    port: dnsPort,
    queryFile,
    seconds: Number(values.seconds),
    clients: values.clients === undefined ? undefined : Number(values.clients),
  };
  console.log(
    `dnsperf ${opts.clients === undefined ? '(its defaults: one client, 100 outstanding)' : `-c ${opts.clients}`}, ${opts.seconds} s a run, ${mix.length} questions (every name × type of example.test), UDP`,
  );

  delete process.env.LAB_QUERY_EVENTS; // as it ships: an event line a query, to the host's log file
  await rt.up({ hosts: ['ns-example'], quiet: true });
  const shipped = report('as it ships (query events on)', await rounds(opts));
  await rt.down();

  process.env.LAB_QUERY_EVENTS = '0';
  await rt.up({ hosts: ['ns-example'], quiet: true });
  report('query events off', await rounds(opts));

  console.log(`target ≥ 0.5× as it ships → ${shipped >= 0.5 ? 'met' : 'MISSED'} (${shipped.toFixed(2)}×)`);
} finally {
  nsd?.kill();
  await rt.down();
  rmSync(tmp, { recursive: true, force: true });
}
