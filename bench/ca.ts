// bench/ca: OCSP answers per second for one known serial, from our CA and from `openssl ocsp` run as a
// responder (-index, -port) on the same certificates and the same responder key, measured by `ab`
// with the same request bytes in the same run: a request without a nonce (as browsers and staplers
// send; RFC 5019 lets a responder answer it pre-produced) and one with a nonce (signed per request).
// Target: ≥ 1× openssl's responder, as the median of the rounds' ratios. Each responder's CPU time
// per answer (from /proc) is printed too: on a shared machine it varies far less than answers/s.
// Like with like: `ab` opens one connection per request (no -k) to both, as openssl's responder
// closes every connection and serves one at a time (it hangs on the idle connection wrk opens first).
// OpenSSL 3.0's responder binds its port on every address, so it runs in a network namespace that has
// only `lo` (root); our CA, ab and openssl all run in that one namespace, so both responders pay the
// same kernel cost per connection (the host's namespace has docker's conntrack and NAT rules).
// A fresh openssl responder serves each measurement: a client that closes before sending its request
// leaves 3.0's responder spinning on that socket for good (openssl/openssl#31129).
// Usage: node dist/bench/ca.js [--block 127.71] [--requests 10000] [--concurrency 8] [--rounds 5]
import 'reflect-metadata';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import * as x509 from '@peculiar/x509';
import { obtainCertificate } from '../services/common/certificate.js';
import { addressOf, hostStateDir, port, settingsFromEnv } from '../services/common/settings.js';
import { startBenchHost } from './lab-host.js';

const { values } = parseArgs({
  options: {
    block: { type: 'string', default: '127.71' },
    requests: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '5' },
  },
});
if (process.getuid?.() !== 0) {
  process.stderr.write('bench/ca needs root: the responders run in a network namespace of their own\n');
  process.exit(77);
}
const IN_NETNS = 'ENTERLAB_BENCH_CA_NETNS';

/** Outside: make the namespace, run this benchmark again inside it, and remove the namespace. */
async function runInNetns(): Promise<number> {
  const netns = `enterlab-bench-ca-${process.pid}`;
  execFileSync('ip', ['netns', 'add', netns]);
  try {
    execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, [IN_NETNS]: netns },
    });
    const stop = () => child.kill('SIGTERM');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return await new Promise<number>((r) => child.once('exit', (code) => r(code ?? 1)));
  } finally {
    execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  }
}

if (!process.env[IN_NETNS]) process.exit(await runInNetns());

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'bench-ca-'));
const s = settingsFromEnv({}, { runtime: 'local', block: values.block, stateDir: dir, ipv6: false });
const OPENSSL_PORT = 8888;
const children: ChildProcess[] = [];

/** openssl's CA database line for a good certificate: V, expiry (UTCTime), no revocation, serial, file, DN. */
function indexLine(leafPem: string): string {
  const leaf = new x509.X509Certificate(leafPem);
  const t = leaf.notAfter.toISOString().replace(/[-:T]/g, '').slice(2, 14);
  return `V\t${t}Z\t\t${leaf.serialNumber.toUpperCase()}\tunknown\t/${leaf.subject.replace(/, /g, '/')}\n`;
}

/** CPU time (user + system, µs) a process has used: what an answer costs, whatever else the machine runs. */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (proc(5), fields 14 and 15)
  return (ticks * 1e6) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** ab: answers per second and p99 (ms), and the responder's CPU per answer; its "Length" failures are
 *  only signatures of another size. */
async function ab(url: string, requestFile: string, responderPid: number) {
  const args = ['-n', values.requests, '-c', values.concurrency, '-p', requestFile];
  args.push('-T', 'application/ocsp-request', '-H', 'Host: ca.test', url);
  const cpu0 = cpuMicros(responderPid);
  const r = await run('ab', args);
  const cpuUs = (cpuMicros(responderPid) - cpu0) / Number(values.requests);
  const rps = Number(/Requests per second:\s+([\d.]+)/.exec(r.stdout)?.[1]);
  const p99ms = Number(/^\s+99%\s+(\d+)/m.exec(r.stdout)?.[1]);
  const f = /\(Connect: (\d+), Receive: (\d+), Length: \d+, Exceptions: (\d+)\)/.exec(r.stdout);
  const errors = f ? Number(f[1]) + Number(f[2]) + Number(f[3]) : 0;
  const non2xx = Number(/Non-2xx responses:\s+(\d+)/.exec(r.stdout)?.[1] ?? 0);
  return { rps, p99ms, cpuUs, errors, non2xx };
}
type Figures = Awaited<ReturnType<typeof ab>>;

/** `openssl ocsp` as a client must say the serial is good, from either responder. */
async function checkGood(url: string, f: { leaf: string; issuer: string; root: string }) {
  const r = await run('openssl', [
    'ocsp',
    '-issuer',
    f.issuer,
    '-cert',
    f.leaf,
    '-url',
    url,
    '-CAfile',
    f.root,
  ]);
  if (!/: good/.test(r.stdout)) throw new Error(`${url} did not answer good:\n${r.stdout}${r.stderr}`);
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

try {
  const ca = await startBenchHost(s, 'ca');
  children.push(ca.child);
  // a leaf from our CA, asked for from the browser's address (the CA issues to lab networks only)
  const leafDir = join(dir, 'leaf');
  mkdirSync(leafDir);
  const cert = await obtainCertificate(s, leafDir, addressOf('browser', s), ['bench.example.test']);
  const pki = join(hostStateDir('ca', s), 'pki');
  const files = {
    leaf: join(dir, 'leaf.pem'),
    issuer: join(pki, 'intermediate.pem'),
    root: join(pki, 'root.pem'),
  };
  const leafPem = cert.chain.split(/(?=-----BEGIN CERTIFICATE-----)/)[0];
  writeFileSync(files.leaf, leafPem);
  writeFileSync(join(dir, 'index.txt'), indexLine(leafPem));
  // the two requests, built by openssl itself: without and with a nonce
  const requests = { 'no nonce': join(dir, 'plain.der'), nonce: join(dir, 'nonce.der') };
  const reqout = (extra: string[], out: string) =>
    execFileSync('openssl', ['ocsp', '-issuer', files.issuer, '-cert', files.leaf, ...extra, '-reqout', out]);
  reqout(['-no_nonce'], requests['no nonce']);
  reqout([], requests.nonce);

  // the reference: openssl's responder with the same index, responder certificate and key
  const ref = `http://127.0.0.1:${OPENSSL_PORT}/`;
  const startOpenssl = async () => {
    const openssl = spawn(
      'openssl',
      [
        ...['ocsp', '-index', join(dir, 'index.txt'), '-port', String(OPENSSL_PORT)],
        ...['-rsigner', join(pki, 'responder.pem'), '-rkey', join(pki, 'responder.key')],
        ...['-CA', files.issuer, '-nmin', '60'],
      ],
      { stdio: 'ignore' },
    );
    children.push(openssl);
    const exited = new Promise<void>((r) => openssl.once('exit', () => r()));
    for (let i = 0; ; i++) {
      try {
        await checkGood(ref, files);
        break;
      } catch (err) {
        if (i > 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return {
      pid: openssl.pid ?? 0,
      stop: async () => {
        openssl.kill('SIGTERM');
        await exited;
      },
    };
  };
  const ours = `http://${addressOf('ca', s)}:${port(80, s)}/ocsp`;
  await checkGood(ours, files);
  const measureOpenssl = async (file: string) => {
    const openssl = await startOpenssl();
    try {
      return await ab(ref, file, openssl.pid);
    } finally {
      await openssl.stop();
    }
  };

  const rounds = Number(values.rounds);
  process.stdout.write(
    `OCSP for one serial: ab -n ${values.requests} -c ${values.concurrency}, one connection per request, ` +
      `same request bytes, ${rounds} round${rounds === 1 ? '' : 's'}\n`,
  );
  const row = (name: string, r: Figures) =>
    `  ${name.padEnd(34)} ${r.rps.toFixed(0).padStart(7)} answers/s   p99 ${r.p99ms} ms` +
    `   cpu ${r.cpuUs.toFixed(0).padStart(4)} µs/answer` +
    `${r.non2xx ? `   non-2xx ${r.non2xx}` : ''}${r.errors ? `   failed ${r.errors}` : ''}\n`;
  const ratios: Record<string, number[]> = {};
  const cpuRatios: Record<string, number[]> = {};
  for (let round = 1; round <= rounds; round++) {
    for (const [kind, file] of Object.entries(requests)) {
      // alternate who goes first: the namespace's TIME_WAIT sockets grow over the run
      let theirs: Figures;
      let mine: Figures;
      if (round % 2) {
        theirs = await measureOpenssl(file);
        mine = await ab(ours, file, ca.pid);
      } else {
        mine = await ab(ours, file, ca.pid);
        theirs = await measureOpenssl(file);
      }
      process.stdout.write(row(`openssl ocsp, ${kind} (reference)`, theirs));
      process.stdout.write(row(`enterlab ca, ${kind}`, mine));
      const ratio = mine.rps / theirs.rps;
      ratios[kind] = [...(ratios[kind] ?? []), ratio];
      cpuRatios[kind] = [...(cpuRatios[kind] ?? []), mine.cpuUs / theirs.cpuUs];
      process.stdout.write(`  round ${round}, ${kind}: ${ratio.toFixed(2)}x\n`);
    }
  }
  for (const [kind, list] of Object.entries(ratios)) {
    const m = median(list);
    process.stdout.write(
      `  ${kind}: ${m.toFixed(2)}x openssl's responder (median of ${list.map((x) => x.toFixed(2)).join(', ')}; ` +
        `target ≥ 1x): ${m >= 1 ? 'met' : 'NOT met'}\n` +
        `    CPU per answer: ${median(cpuRatios[kind]).toFixed(2)}x openssl's (median; less disturbed by ` +
        `whatever else the machine runs)\n`,
    );
  }
} finally {
  // leave nothing running in the namespace: every child is stopped and waited for
  const alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
  await Promise.all(
    alive.map((c) => {
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      return exited;
    }),
  );
  rmSync(dir, { recursive: true, force: true });
}
