// bench/app: requests/s of /hej through the whole app (vhost, access log, every kernel event, profiler,
// events on stdout) against a bare express handler returning the same bytes, measured by wrk in the
// same run, each server in its own process on its own loopback address. No target: the kernel is
// written to be read (plain async/await, events through JSON.stringify), and the ratio is shown as is.
// Usage: node dist/bench/app.js [--block 127.44] [--seconds 10] [--connections 32] [--rounds 5]
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import express from 'express';
import { addressOf, port, settingsFromEnv } from '../services/common/settings.js';
import { startBenchHost } from './lab-host.js';

const { values } = parseArgs({
  options: {
    block: { type: 'string', default: '127.44' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '5' },
    // internal: this file also runs the bare server, in a child process of its own
    'serve-bare': { type: 'string' },
    'body-file': { type: 'string' },
  },
});
const run = promisify(execFile);
const VHOST = 'www.example.test';

/** The reference: express with one handler sending the bytes /hej sent, same headers that matter. */
function serveBare(listen: string, bodyFile: string): void {
  const saved = JSON.parse(readFileSync(bodyFile, 'utf8')) as {
    body: string;
    headers: Record<string, string>;
  };
  const body = Buffer.from(saved.body, 'base64');
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/hej', (_req, res) => {
    res.set(saved.headers);
    res.end(body);
  });
  const [host, p] = listen.split(':');
  app.listen(Number(p), host, () => process.stdout.write('ready\n'));
}

function waitForLine(child: ChildProcess, marker: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = false;
    let buf = '';
    child.stdout?.setEncoding('utf8');
    // keep draining: the app writes one event line per kernel step for every request
    child.stdout?.on('data', (c: string) => {
      if (seen) return;
      buf += c;
      if (buf.includes(marker)) {
        seen = true;
        buf = '';
        resolve();
      }
    });
    child.on('exit', (code) => !seen && reject(new Error(`${what} exited with ${code}`)));
  });
}

function fetchHej(url: string): Promise<{ body: Buffer; headers: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const r = request(url, { headers: { host: VHOST } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`/hej answered ${res.statusCode}`));
        const headers: Record<string, string> = {};
        for (const k of ['content-type', 'cache-control', 'x-debug-token', 'set-cookie']) {
          const v = res.headers[k];
          if (v !== undefined) headers[k] = Array.isArray(v) ? v[0] : v;
        }
        resolve({ body: Buffer.concat(chunks), headers });
      });
    });
    r.on('error', reject);
    r.end();
  });
}

/** CPU time (user + system, all threads) a process has used, in microseconds. */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime, stime in USER_HZ ticks
}

async function wrk(
  url: string,
  pid: number,
): Promise<{ rps: number; p99ms: number; non2xx: number; cpuPerRequestUs: number }> {
  const cpu0 = cpuMicros(pid);
  const r = await run('wrk', [
    '-t1',
    `-c${values.connections}`,
    `-d${values.seconds}s`,
    '--latency',
    '-H',
    `Host: ${VHOST}`,
    url,
  ]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1]);
  const m = /99%\s+([\d.]+)(us|ms|s)/.exec(r.stdout);
  const p99ms = m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : Number.NaN;
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(r.stdout)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(r.stdout)?.[1]);
  return { rps, p99ms, non2xx, cpuPerRequestUs: (cpuMicros(pid) - cpu0) / requests };
}

async function main(): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-app-'));
  const s = settingsFromEnv({}, { runtime: 'local', block: values.block, stateDir, ipv6: false });
  const children: ChildProcess[] = [];
  try {
    const app = await startBenchHost(s, 'app');
    children.push(app.child);
    const kernelUrl = `http://${addressOf('app', s, 'backend')}:${port(80, s)}/hej`;
    const hej = await fetchHej(kernelUrl);
    const bodyFile = join(stateDir, 'hej.json');
    writeFileSync(bodyFile, JSON.stringify({ body: hej.body.toString('base64'), headers: hej.headers }));

    const bareListen = `${values.block}.9.10:${port(80, s)}`;
    const bare = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), '--serve-bare', bareListen, '--body-file', bodyFile],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(bare);
    await waitForLine(bare, 'ready', 'bare express');
    const bareUrl = `http://${bareListen}/hej`;
    const same = await fetchHej(bareUrl);
    if (!same.body.equals(hej.body)) throw new Error('the bare handler does not send the same bytes');

    const rounds = Math.max(1, Number(values.rounds));
    process.stderr.write(
      `warming up, then ${rounds} rounds of wrk ${values.seconds}s on each (${hej.body.length} bytes a response)\n`,
    );
    await run('wrk', ['-t1', '-c8', '-d2s', '-H', `Host: ${VHOST}`, kernelUrl]);
    await run('wrk', ['-t1', '-c8', '-d2s', '-H', `Host: ${VHOST}`, bareUrl]);
    const line = (name: string, r: Awaited<ReturnType<typeof wrk>>) =>
      `  ${name.padEnd(26)} ${r.rps.toFixed(0).padStart(8)} req/s   p99 ${r.p99ms.toFixed(2)} ms   CPU ${r.cpuPerRequestUs.toFixed(0)} µs a request${r.non2xx ? `   (${r.non2xx} non-2xx!)` : ''}`;
    console.log(`/hej, ${hej.body.length} bytes, wrk -t1 -c${values.connections} -d${values.seconds}s`);
    // this machine's speed drifts over seconds: the two run in turns, in alternating order, and each
    // round's ratio is of two runs side by side in time; the median round is the figure
    const ratios: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const kernelFirst = i % 2 === 0;
      const first = kernelFirst ? await wrk(kernelUrl, app.pid) : await wrk(bareUrl, bare.pid ?? 0);
      const second = kernelFirst ? await wrk(bareUrl, bare.pid ?? 0) : await wrk(kernelUrl, app.pid);
      const [k, b] = kernelFirst ? [first, second] : [second, first];
      ratios.push(k.rps / b.rps);
      console.log(`round ${i + 1}: ratio ${(k.rps / b.rps).toFixed(2)}×`);
      console.log(line('kernel (whole app)', k));
      console.log(line('bare express, same bytes', b));
    }
    const ratio = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)];
    console.log(
      `ratio ${ratio.toFixed(2)}×, the median of ${rounds} rounds (${ratios.map((r) => r.toFixed(2)).join(', ')}): kernel cost ${((1 - ratio) * 100).toFixed(0)}% of bare throughput`,
    );
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(stateDir, { recursive: true, force: true });
  }
}

if (values['serve-bare']) serveBare(values['serve-bare'], values['body-file'] ?? '');
else await main();
