// bench/ca: OCSP answers per second for one known serial, from our CA and from `openssl ocsp` run as a
// responder (-index, -port) on the same certificates and the same responder key, measured by `ab`
// with the same request bytes in the same run: a request without a nonce (as browsers and staplers
// send; RFC 5019 lets a responder answer it pre-produced) and one with a nonce (signed per request).
// Target: ≥ 1× openssl's responder. `ab`, not wrk: openssl's responder serves one connection at a
// time and hangs on the idle connection wrk opens first; ab's one request per connection suits both.
// OpenSSL 3.0's responder binds its port on every address, so it runs in a network namespace of its
// own that has only `lo` (root): nothing is reachable from outside this machine.
// Usage: node dist/bench/ca.js [--block 127.71] [--requests 20000] [--concurrency 8]
import 'reflect-metadata';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '8' },
  },
});
if (process.getuid?.() !== 0) {
  process.stderr.write('bench/ca needs root: the openssl responder runs in a network namespace of its own\n');
  process.exit(77);
}
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'bench-ca-'));
const s = settingsFromEnv({}, { runtime: 'local', block: values.block, stateDir: dir, ipv6: false });
const NETNS = `enterlab-bench-ca-${process.pid}`;
const OPENSSL_PORT = 8888;
const children: ChildProcess[] = [];
const inNetns = (cmd: string, args: string[]) => run('ip', ['netns', 'exec', NETNS, cmd, ...args]);

/** openssl's CA database line for a good certificate: V, expiry (UTCTime), no revocation, serial, file, DN. */
function indexLine(leafPem: string): string {
  const leaf = new x509.X509Certificate(leafPem);
  const t = leaf.notAfter.toISOString().replace(/[-:T]/g, '').slice(2, 14);
  return `V\t${t}Z\t\t${leaf.serialNumber.toUpperCase()}\tunknown\t/${leaf.subject.replace(/, /g, '/')}\n`;
}

/** ab: answers per second and p99 (ms); its "Length" failures are only signatures of another size. */
async function ab(url: string, requestFile: string, netns: boolean) {
  const args = ['-n', values.requests, '-c', values.concurrency, '-p', requestFile];
  args.push('-T', 'application/ocsp-request', '-H', 'Host: ca.test', url);
  const r = netns ? await inNetns('ab', args) : await run('ab', args);
  const rps = Number(/Requests per second:\s+([\d.]+)/.exec(r.stdout)?.[1]);
  const p99ms = Number(/^\s+99%\s+(\d+)/m.exec(r.stdout)?.[1]);
  const f = /\(Connect: (\d+), Receive: (\d+), Length: \d+, Exceptions: (\d+)\)/.exec(r.stdout);
  const errors = f ? Number(f[1]) + Number(f[2]) + Number(f[3]) : 0;
  const non2xx = Number(/Non-2xx responses:\s+(\d+)/.exec(r.stdout)?.[1] ?? 0);
  return { rps, p99ms, errors, non2xx };
}

/** `openssl ocsp` as a client must say the serial is good, from either responder. */
async function checkGood(url: string, f: { leaf: string; issuer: string; root: string }, netns: boolean) {
  const args = ['ocsp', '-issuer', f.issuer, '-cert', f.leaf, '-url', url, '-CAfile', f.root];
  const r = netns ? await inNetns('openssl', args) : await run('openssl', args);
  if (!/: good/.test(r.stdout)) throw new Error(`${url} did not answer good:\n${r.stdout}${r.stderr}`);
}

try {
  children.push((await startBenchHost(s, 'ca')).child);
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
  execFileSync('ip', ['netns', 'add', NETNS]);
  execFileSync('ip', ['-n', NETNS, 'link', 'set', 'lo', 'up']);
  const openssl = spawn(
    'ip',
    [
      ...['netns', 'exec', NETNS, 'openssl', 'ocsp', '-index', join(dir, 'index.txt')],
      ...['-port', String(OPENSSL_PORT), '-rsigner', join(pki, 'responder.pem')],
      ...['-rkey', join(pki, 'responder.key'), '-CA', files.issuer, '-nmin', '60'],
    ],
    { stdio: 'ignore' },
  );
  children.push(openssl);
  const ref = `http://127.0.0.1:${OPENSSL_PORT}/`;
  for (let i = 0; ; i++) {
    try {
      await checkGood(ref, files, true);
      break;
    } catch (err) {
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const ours = `http://${addressOf('ca', s)}:${port(80, s)}/ocsp`;
  await checkGood(ours, files, false);

  process.stdout.write(
    `OCSP for one serial: ab -n ${values.requests} -c ${values.concurrency}, same request bytes\n`,
  );
  const row = (name: string, r: Awaited<ReturnType<typeof ab>>) =>
    `  ${name.padEnd(34)} ${r.rps.toFixed(0).padStart(7)} answers/s   p99 ${r.p99ms} ms` +
    `${r.non2xx ? `   non-2xx ${r.non2xx}` : ''}${r.errors ? `   failed ${r.errors}` : ''}\n`;
  for (const [kind, file] of Object.entries(requests)) {
    const theirs = await ab(ref, file, true);
    const mine = await ab(ours, file, false);
    process.stdout.write(row(`openssl ocsp, ${kind} (reference)`, theirs));
    process.stdout.write(row(`enterlab ca, ${kind}`, mine));
    const ratio = mine.rps / theirs.rps;
    process.stdout.write(
      `  ${kind}: ${ratio.toFixed(2)}x openssl's responder (target ≥ 1x): ${ratio >= 1 ? 'met' : 'NOT met'}\n`,
    );
  }
} finally {
  for (const c of children) c.kill('SIGTERM');
  try {
    execFileSync('ip', ['netns', 'del', NETNS], { stdio: 'ignore' });
  } catch {
    // never created
  }
  rmSync(dir, { recursive: true, force: true });
}
