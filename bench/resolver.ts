// bench/resolver: dnsperf on cached names against our resolver and against unbound (Debian), both
// resolving from the lab's root (the same ns-root, ns-tld, ns-example), same query file, same run;
// then cold-cache resolution latency of both. Target: ≥ 0.5× unbound's QPS on cache hits.
// Usage: node dist/bench/resolver.js [--block 127.41] [--seconds 5] [--clients 4] [--cold 15]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalRuntime } from '../lab-cli/runtime/local.js';
import { addressOf, port, settingsFromEnv } from '../services/common/settings.js';
import { dnsperf, median, needTools, row, timeQuery } from './dnsperf.js';

const { values } = parseArgs({
  options: {
    block: { type: 'string', default: '127.41' },
    seconds: { type: 'string', default: '5' },
    clients: { type: 'string', default: '4' },
    cold: { type: 'string', default: '15' },
  },
});
needTools('dnsperf', 'unbound', 'unbound-control');

// cached names: a CNAME chain in one zone, an A, an AAAA, a NODATA and an NXDOMAIN
const QUERIES = [
  'www.example.test A',
  'cdn.example.test AAAA',
  'ca.test A',
  'v6only.example.test A',
  'nope.example.test A',
];

const tmp = mkdtempSync(join(tmpdir(), 'enterlab-bench-resolver-'));
process.env.LAB_QUERY_EVENTS = '0'; // one event line per query would measure stdout, not DNS
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

async function coldLatency(server: string, flush: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < Number(values.cold); i++) {
    await flush();
    times.push(await timeQuery(server, dnsPort, client, 'www.example.test'));
  }
  return median(times);
}

try {
  await rt.up({ hosts: ['ns-root', 'ns-tld', 'ns-example', 'resolver'], quiet: true });
  unbound = startUnbound();
  await Promise.all([waitUp(ours), waitUp(unboundAddress)]);
  for (const q of QUERIES) {
    const [name, type] = q.split(' ');
    for (const server of [ours, unboundAddress]) await timeQuery(server, dnsPort, client, name, type);
  }
  const queryFile = join(tmp, 'queries.txt');
  writeFileSync(queryFile, `${QUERIES.join('\n')}\n`);
  const opts = { port: dnsPort, queryFile, seconds: Number(values.seconds), clients: Number(values.clients) };
  const a = await dnsperf({ ...opts, server: ours, source: client });
  const b = await dnsperf({ ...opts, server: unboundAddress, source: client });
  const coldOurs = await coldLatency(ours, async () => {
    await rt.control('resolver', 'dns.flush', {});
  });
  const coldUnbound = await coldLatency(unboundAddress, async () => {
    execFileSync('unbound-control', ['-c', conf, 'flush_zone', '.'], { stdio: 'ignore' });
    execFileSync('unbound-control', ['-c', conf, 'flush_infra', 'all'], { stdio: 'ignore' });
  });
  console.log(`cache hits: dnsperf -c ${opts.clients}, ${opts.seconds} s, ${QUERIES.length} questions, UDP`);
  console.log(row(`resolver ${ours}`, a));
  console.log(row(`unbound ${unboundAddress}`, b));
  const ratio = a.qps / b.qps;
  console.log(
    `ratio ours / unbound: ${ratio.toFixed(2)}×   target ≥ 0.5× → ${ratio >= 0.5 ? 'met' : 'MISSED'}`,
  );
  console.log(
    `cold cache, www.example.test (root → test. → example.test., CNAME), median of ${values.cold}: ours ${coldOurs.toFixed(2)} ms, unbound ${coldUnbound.toFixed(2)} ms`,
  );
} finally {
  unbound?.kill();
  await rt.down();
  rmSync(tmp, { recursive: true, force: true });
}
