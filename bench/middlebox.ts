// bench/middlebox: can the censor keep up? A load runs against the proxy from the browser's address
// (so every packet crosses the censor's path: wrk cannot bind a source address, so the load is a
// keep-alive node:http client in a child process) while blocked requests are fired among it; in the
// same run: the proxy's req/s without and with the censor, the frames it inspected against what
// dumpcap saw on the wire, missed triggers (target 0), and the delay from the trigger segment to the
// first forged RST from capture timestamps (target <= 1 ms), next to the proxy's own first response
// byte for unblocked requests under the same load. Root only (raw packets).
// Usage: node dist/bench/middlebox.js [--block 127.62] [--seconds 5] [--triggers 40]
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { controlCall } from '../services/common/control.js';
import { addressOf, controlSocketPath, port, settingsFromEnv } from '../services/common/settings.js';
import { type BenchHost, startBenchHost } from './lab-host.js';

const { values } = parseArgs({
  options: {
    block: { type: 'string', default: '127.62' },
    seconds: { type: 'string', default: '5' },
    triggers: { type: 'string', default: '40' },
    connections: { type: 'string', default: '16' },
    'load-child': { type: 'boolean', default: false },
  },
});
if (process.getuid?.() !== 0) {
  process.stderr.write('bench/middlebox needs root (the censor captures and injects raw packets)\n');
  process.exit(77);
}
const stateDir = mkdtempSync(join(tmpdir(), 'bench-middlebox-'));
const s = settingsFromEnv({}, { runtime: 'local', block: values.block, stateDir, ipv6: false });
const run = promisify(execFile);
const children = new Map<string, BenchHost>();
const browser = addressOf('browser', s);
const proxy = addressOf('proxy', s);
const url = `http://${proxy}:${port(80, s)}/hej`;

async function startHost(host: string): Promise<void> {
  children.set(host, await startBenchHost(s, host));
}

async function stopHost(host: string): Promise<void> {
  await children.get(host)?.stop();
  children.delete(host);
}

/** The load: keep-alive GETs from the browser's address on N connections for the given seconds. */
async function loadChild(): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: Number(values.connections), localAddress: browser });
  const until = Date.now() + Number(values.seconds) * 1000;
  let done = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const r = request(
        { host: proxy, port: port(80, s), path: '/hej', agent, headers: { host: 'www.example.test' } },
        (res) => {
          res.resume();
          res.on('end', () => {
            done++;
            resolve();
          });
        },
      );
      r.on('error', reject);
      r.end();
    });
  const worker = async () => {
    while (Date.now() < until) await one();
  };
  await Promise.all(Array.from({ length: Number(values.connections) }, worker));
  process.stdout.write(`${JSON.stringify({ rps: done / Number(values.seconds) })}\n`);
  agent.destroy();
}

async function load(): Promise<number> {
  const r = await run(process.execPath, [
    process.argv[1],
    '--load-child',
    '--block',
    values.block,
    '--seconds',
    values.seconds,
    '--connections',
    values.connections,
  ]);
  return (JSON.parse(r.stdout) as { rps: number }).rps;
}

/** A blocked request (Host header rule) from the browser's address: reset, or answered (a miss). */
async function trigger(): Promise<'reset' | 'answered'> {
  const r = await run('curl', [
    '-s',
    '-o',
    '/dev/null',
    '--max-time',
    '3',
    '--interface',
    browser,
    '-H',
    'Host: blocked.test',
    url,
  ]).then(
    () => 0,
    (e: { code?: number }) => e.code ?? 1,
  );
  return r === 56 || r === 52 ? 'reset' : 'answered';
}

async function startDumpcap(file: string): Promise<ChildProcess> {
  const d = spawn(
    'dumpcap',
    ['-q', '-i', 'lo', '-f', `tcp port ${port(80, s)} and host ${browser}`, '-w', file],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100 && !(existsSync(file) && statSync(file).size > 0); i++)
    await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));
  return d;
}

async function tshark(file: string, filter: string, fields: string[]): Promise<string[][]> {
  const r = await run(
    'tshark',
    ['-r', file, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])],
    { maxBuffer: 1 << 28 },
  );
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
}

const quantile = (xs: number[], q: number) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length ? a[Math.min(a.length - 1, Math.floor(q * a.length))] : Number.NaN;
};
const ms = (us: number) => `${(us / 1000).toFixed(3)} ms`;

async function main() {
  await Promise.all([startHost('ca'), startHost('app')]);
  await startHost('proxy');
  try {
    process.stdout.write(
      `load ${values.seconds} s, ${values.connections} keep-alive connections, ${browser} → ${url}\n`,
    );
    // the reference: the same load, the same capture running, no censor
    const refDump = await startDumpcap(join(stateDir, 'reference.pcapng'));
    const reference = await load();
    refDump.kill('SIGTERM');
    await new Promise((r) => refDump.once('exit', r));
    process.stdout.write(`  reference (capture on, no censor): ${reference.toFixed(0)} req/s\n`);

    await startHost('middlebox');
    const ctl = (c: string, a: Record<string, unknown> = {}) =>
      controlCall(controlSocketPath('middlebox', s), c, a);
    await ctl('block.load', {
      text: 'sni blocked.test\nhost blocked.test\nkeyword forbidden\ndns blocked.test\n',
    });
    const file = join(stateDir, 'bench.pcapng');
    const dump = await startDumpcap(file);
    const before = (await ctl('middlebox.stats')) as { frames: number; skipped: Record<string, number> };
    const loading = load();
    // the triggers, spread over the load
    const outcomes: string[] = [];
    const spacing = (Number(values.seconds) * 1000 * 0.8) / Number(values.triggers);
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < Number(values.triggers); i++) {
      outcomes.push(await trigger());
      await new Promise((r) => setTimeout(r, spacing));
    }
    const withCensor = await loading;
    await new Promise((r) => setTimeout(r, 300));
    const after = (await ctl('middlebox.stats')) as { frames: number; skipped: Record<string, number> };
    dump.kill('SIGTERM');
    await new Promise((r) => dump.once('exit', r));

    const wire = (await tshark(file, 'frame', ['frame.number'])).length;
    const inspected = after.frames - before.frames;
    const missed = outcomes.filter((o) => o === 'answered').length;
    // per blocked flow: the request segment (the trigger) and the first forged RST after it
    const requests = await tshark(file, 'http.request && http.host == "blocked.test"', [
      'tcp.stream',
      'frame.time_epoch',
    ]);
    const forged = await tshark(file, 'tcp.flags.reset == 1 && ip.ttl == 47', [
      'tcp.stream',
      'frame.time_epoch',
    ]);
    const delays: number[] = [];
    for (const [stream, t] of requests) {
      const first = forged
        .filter((f) => f[0] === stream)
        .map((f) => Number(f[1]))
        .sort((a, b) => a - b)[0];
      if (first !== undefined) delays.push((first - Number(t)) * 1e6);
    }
    // the reference for the delay: the proxy's first response byte after an unblocked request, same load
    const responses = await tshark(file, 'http.response && http.request_in', ['http.time']);
    const proxyAnswer = responses.map((r) => Number(r[0]) * 1e6);

    process.stdout.write(
      `  with the censor inspecting:        ${withCensor.toFixed(0)} req/s = ${(withCensor / reference).toFixed(2)}× the reference\n`,
    );
    process.stdout.write(
      `  frames inspected: ${inspected} of ${wire} on the wire (${(inspected / wire).toFixed(3)}×), ${(inspected / Number(values.seconds)).toFixed(0)} frames/s; skipped: ${JSON.stringify(after.skipped)}\n`,
    );
    // a trigger is missed when no forgery follows it; a forgery can still lose the race to the proxy
    process.stdout.write(
      `  triggers: ${requests.length} blocked requests on the wire, ${delays.length} followed by forged RSTs: missed ${requests.length - delays.length} (target 0); curl reset ${outcomes.length - missed} of ${outcomes.length} (${missed} answered by the proxy before the forgery arrived)\n`,
    );
    const p50 = quantile(delays, 0.5);
    const p99 = quantile(delays, 0.99);
    const ref50 = quantile(proxyAnswer, 0.5);
    process.stdout.write(
      `  trigger → first forged RST (capture timestamps, ${delays.length} flows): median ${ms(p50)}, p99 ${ms(p99)}, max ${ms(Math.max(...delays))} (target <= 1 ms)\n`,
    );
    process.stdout.write(
      `  the proxy's own answer under the same load (request → response, ${proxyAnswer.length} requests): median ${ms(ref50)}; the forgery takes ${(p50 / ref50).toFixed(2)}× that\n`,
    );
  } finally {
    await run('ip', [
      'route',
      'del',
      'local',
      `${proxy}/32`,
      'dev',
      'lo',
      'src',
      browser,
      'table',
      'local',
    ]).catch(() => undefined);
    for (const h of [...children.keys()].reverse()) await stopHost(h);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

(values['load-child'] ? loadChild() : main()).catch((err) => {
  process.stderr.write(`bench/middlebox: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
