// bench/resolver: cache hits of the lab's resolver against unbound (Debian), measured by dnsperf with its
// default settings (1 client, 100 queries outstanding) on one query file, in the same run. Both resolve
// from the lab's root (the same ns-root, ns-tld, ns-example) and are warmed first, so every query is
// a cache hit. The resolver runs as the lab ships it: one event line per query step, to its log.
// Rounds alternate which server goes first (the machine's speed drifts); the median round's ratio
// counts, beside the CPU time each server spent a query (steadier than QPS on a shared machine).
// Then cold-cache resolution latency of both. Target: ≥ 0.5× unbound's QPS on cache hits.
// Usage: node dist/bench/resolver.js [--block 127.41] [--seconds 5] [--rounds 3] [--cold 15] [--events on|off]
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { LocalRuntime } from '../lab-cli/runtime/local.js';
import { addressOf, port, settingsFromEnv } from '../services/common/settings.js';
import { median, needTools, timeQuery } from './dnsperf.js';

const { values } = parseArgs({
  options: {
    block: { type: 'string', default: '127.41' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    cold: { type: 'string', default: '15' },
    // off: the resolver without its per-query events, to see what they cost (not how the lab ships)
    events: { type: 'string', default: 'on' },
  },
});
needTools('dnsperf', 'unbound', 'unbound-control');
const run = promisify(execFile);

// A mix like dnsperf's sample query files: mostly A, then AAAA, MX, NS, TXT, with CNAME chains
// (in one zone and across zones), a wildcard, NODATA and NXDOMAIN. Every name is cached.
const QUERIES = [
  'www.example.test A',
  'shop.example.test A',
  'cdn.example.test A',
  'example.test A',
  'mail.example.test A',
  'docs.example.test A',
  'ca.test A',
  'search.test A',
  'www.search.test A',
  'x.wild.example.test A',
  'www.xn--sjsten-xxa.test A',
  'www.example.test AAAA',
  'cdn.example.test AAAA',
  'ca.test AAAA',
  'example.test MX',
  'example.test NS',
  'example.test TXT',
  'v6only.example.test A',
  'nope.example.test A',
  'typo.test A',
];

// the resolver's events as shipped, unless --events off asks to see the difference
if (values.events === 'off') process.env.LAB_QUERY_EVENTS = '0';
else delete process.env.LAB_QUERY_EVENTS;
const tmp = mkdtempSync(join(tmpdir(), 'enterlab-bench-resolver-'));
const s = settingsFromEnv(process.env, {
  runtime: 'local',
  block: values.block,
  stateDir: join(tmp, 'lab'),
  ipv6: false,
});
const ours = addressOf('resolver', s);
const unboundAddress = `${s.block}.9.53`; // outside the plan's networks: never a lab host
const client = '127.0.0.1'; // the machine running the lab: our resolver's ACL lets it recurse
const dnsPort = port(53, s);
const rt = new LocalRuntime(s);
let unbound: ChildProcess | undefined;
const conf = join(tmp, 'unbound.conf');

function startUnbound(): ChildProcess {
  writeFileSync(
    join(tmp, 'root.hints'),
    `. 3600000 NS ns-root.test.\nns-root.test. 3600000 A ${addressOf('ns-root', s)}\n`,
  );
  writeFileSync(
    conf,
    `server:
  interface: ${unboundAddress}
  outgoing-interface: ${unboundAddress}
  port: ${dnsPort}
  num-threads: 1
  do-ip6: no
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  root-hints: "${tmp}/root.hints"
  local-zone: "test." nodefault
  module-config: "iterator"
  qname-minimisation: yes
  username: ""
  chroot: ""
  directory: "${tmp}"
  pidfile: ""
  use-syslog: no
  verbosity: 0
remote-control:
  control-enable: yes
  control-interface: "${tmp}/unbound.ctl"
  control-use-cert: no
`,
  );
  return spawn('unbound', ['-d', '-c', conf], { stdio: 'ignore' });
}

async function waitUp(server: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      await timeQuery(server, dnsPort, client, 'www.example.test');
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${server} does not answer`);
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

interface Round {
  qps: number;
  lost: number;
  /** CPU microseconds the server spent per answered query */
  cpuPerQuery: number;
}

/** One dnsperf run with its default clients and outstanding queries, for a fixed time. */
async function dnsperf(server: string, pid: number, queryFile: string): Promise<Round> {
  const cpu0 = cpuSeconds(pid);
  const { stdout } = await run('dnsperf', [
    '-s',
    server,
    '-p',
    String(dnsPort),
    '-a',
    client,
    '-d',
    queryFile,
    '-l',
    values.seconds,
  ]);
  const cpu = cpuSeconds(pid) - cpu0;
  const completed = Number(/Queries completed:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  return {
    qps: Number(/Queries per second:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0),
    lost: Number(/Queries lost:\s+(\d+)/.exec(stdout)?.[1] ?? 0),
    cpuPerQuery: completed ? (cpu / completed) * 1e6 : NaN,
  };
}

async function coldLatency(server: string, flush: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < Number(values.cold); i++) {
    await flush();
    times.push(await timeQuery(server, dnsPort, client, 'www.example.test'));
  }
  return median(times);
}

const line = (label: string, r: Round) =>
  `${label.padEnd(24)} ${r.qps.toFixed(0).padStart(7)} QPS   ${r.cpuPerQuery.toFixed(1).padStart(6)} µs CPU a query   lost ${r.lost}`;

try {
  await rt.up({ hosts: ['ns-root', 'ns-tld', 'ns-example', 'resolver'], quiet: true });
  unbound = startUnbound();
  await Promise.all([waitUp(ours), waitUp(unboundAddress)]);
  const resolverPid = (await rt.status()).find((h) => h.host === 'resolver')?.pid;
  if (!resolverPid || !unbound.pid) throw new Error('no pid for the resolver or unbound');
  for (const q of QUERIES) {
    const [name, type] = q.split(' ');
    for (const server of [ours, unboundAddress]) await timeQuery(server, dnsPort, client, name, type);
  }
  const queryFile = join(tmp, 'queries.txt');
  writeFileSync(queryFile, `${QUERIES.join('\n')}\n`);
  console.log(
    `cache hits: dnsperf defaults (1 client, 100 outstanding), ${values.seconds} s a run, ${QUERIES.length} questions, UDP; resolver events ${values.events}`,
  );
  // one unmeasured run each first: the resolver's JavaScript is compiled to machine code as it runs
  await dnsperf(ours, resolverPid, queryFile);
  await dnsperf(unboundAddress, unbound.pid, queryFile);
  const ratios: { qps: number; cpu: number }[] = [];
  for (let i = 0; i < Number(values.rounds); i++) {
    // alternate which goes first: a machine that slows down mid-round favours neither
    const oursFirst = i % 2 === 0;
    const a = oursFirst ? await dnsperf(ours, resolverPid, queryFile) : undefined;
    const b = await dnsperf(unboundAddress, unbound.pid, queryFile);
    const a2 = a ?? (await dnsperf(ours, resolverPid, queryFile));
    console.log(`round ${i + 1}`);
    console.log(`  ${line(`resolver ${ours}`, a2)}`);
    console.log(`  ${line(`unbound ${unboundAddress}`, b)}`);
    ratios.push({ qps: a2.qps / b.qps, cpu: b.cpuPerQuery / a2.cpuPerQuery });
    console.log(
      `  ratio ${(a2.qps / b.qps).toFixed(2)}× QPS, ${(b.cpuPerQuery / a2.cpuPerQuery).toFixed(2)}× CPU`,
    );
  }
  const qps = median(ratios.map((r) => r.qps));
  const cpu = median(ratios.map((r) => r.cpu));
  console.log(
    `ratio ours / unbound (median of ${ratios.length} rounds): ${qps.toFixed(2)}× QPS, ${cpu.toFixed(2)}× by CPU a query   target ≥ 0.5× → ${qps >= 0.5 ? 'met' : 'MISSED'}`,
  );
  const coldOurs = await coldLatency(ours, async () => {
    await rt.control('resolver', 'dns.flush', {});
  });
  const coldUnbound = await coldLatency(unboundAddress, async () => {
    execFileSync('unbound-control', ['-c', conf, 'flush_zone', '.'], { stdio: 'ignore' });
    execFileSync('unbound-control', ['-c', conf, 'flush_infra', 'all'], { stdio: 'ignore' });
  });
  console.log(
    `cold cache, www.example.test (root → test. → example.test., CNAME), median of ${values.cold}: ours ${coldOurs.toFixed(2)} ms, unbound ${coldUnbound.toFixed(2)} ms`,
  );
} finally {
  unbound?.kill();
  await rt.down();
  rmSync(tmp, { recursive: true, force: true });
}
