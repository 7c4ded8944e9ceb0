// bench/nameserver: dnsperf against ns-example and against NSD (Debian) serving the same rendered zone
// file on another loopback address, same query file, same run. Target: ≥ 0.5× NSD's QPS.
// Usage: node dist/bench/nameserver.js [--block 127.41] [--seconds 5] [--clients 4]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalRuntime } from '../lab-cli/runtime/local.js';
import { addressOf, port, settingsFromEnv } from '../services/common/settings.js';
import { renderZoneFile } from '../services/nameserver/zones.js';
import { dnsperf, needTools, row, timeQuery } from './dnsperf.js';

const { values } = parseArgs({
  options: {
    block: { type: 'string', default: '127.41' },
    seconds: { type: 'string', default: '5' },
    clients: { type: 'string', default: '4' },
  },
});
needTools('dnsperf', 'nsd');

// the same questions for both servers: a CNAME followed in the zone, A, AAAA, and a NODATA
const QUERIES = [
  'www.example.test A',
  'cdn.example.test A',
  'cdn.example.test AAAA',
  'v6only.example.test A',
];

const tmp = mkdtempSync(join(tmpdir(), 'enterlab-bench-ns-'));
process.env.LAB_QUERY_EVENTS = '0'; // one event line per query would measure stdout, not DNS
const s = settingsFromEnv(process.env, {
  runtime: 'local',
  block: values.block,
  stateDir: join(tmp, 'lab'),
  ipv6: false,
});
const ours = addressOf('ns-example', s);
const nsdAddress = `${s.block}.9.13`; // outside the plan's networks: never a lab host
const dnsPort = port(53, s);
const rt = new LocalRuntime(s);
let nsd: ChildProcess | undefined;

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

try {
  await rt.up({ hosts: ['ns-example'], quiet: true });
  await startNsd();
  const queryFile = join(tmp, 'queries.txt');
  writeFileSync(queryFile, `${QUERIES.join('\n')}\n`);
  const opts = { port: dnsPort, queryFile, seconds: Number(values.seconds), clients: Number(values.clients) };
  const a = await dnsperf({ ...opts, server: ours, source: `${s.block}.9.1` });
  const b = await dnsperf({ ...opts, server: nsdAddress, source: `${s.block}.9.1` });
  console.log(`dnsperf -c ${opts.clients}, ${opts.seconds} s, ${QUERIES.length} questions, UDP`);
  console.log(row(`ns-example ${ours}`, a));
  console.log(row(`NSD ${nsdAddress}`, b));
  const ratio = a.qps / b.qps;
  console.log(`ratio ours / NSD: ${ratio.toFixed(2)}×   target ≥ 0.5× → ${ratio >= 0.5 ? 'met' : 'MISSED'}`);
} finally {
  nsd?.kill();
  await rt.down();
  rmSync(tmp, { recursive: true, force: true });
}
