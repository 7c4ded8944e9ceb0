// bench/browse: press-enter on a warm lab (resolver and proxy caches warm, the browser's HTTP cache
// bypassed), end to end through `browse`, against curl fetching the same page and subresources with
// the same TLS settings (lab root only, h2, one connection per origin) in the same run.
// Targets: the whole page ≤ 0.5 s; our per-request overhead ≤ 2× curl's.
// Usage: node dist/bench/browse.js [--block 127.46] [--runs 10]
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { controlCall } from '../services/common/control.js';
import {
  addressOf,
  controlSocketPath,
  PROJECT_ROOT,
  port,
  settingsFromEnv,
} from '../services/common/settings.js';

const { values } = parseArgs({
  options: { block: { type: 'string', default: '127.46' }, runs: { type: 'string', default: '10' } },
});
const RUNS = Number(values.runs);
const tmp = mkdtempSync(join(tmpdir(), 'bench-browse-'));
const env = { ...process.env, LAB_BLOCK: values.block, LAB_STATE_DIR: join(tmp, 'state'), NO_COLOR: '1' };
const s = settingsFromEnv(
  {},
  { runtime: 'local', block: values.block, stateDir: env.LAB_STATE_DIR, ipv6: false },
);
const lab = (...args: string[]) =>
  spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist/lab-cli/main.js'), ...args], {
    env,
    encoding: 'utf8',
  });
const run = promisify(execFile);

interface Har {
  log: { entries: { request: { url: string }; response: { status: number } }[] };
}
const browse = () =>
  controlCall(controlSocketPath('browser', s), 'browse', {
    text: 'https://www.example.test/hej',
    noCache: true,
  }) as Promise<{ status?: number; error?: { code: string }; har: Har }>;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const up = lab('up');
  if (up.status !== 0) throw new Error(`lab up failed: ${up.stderr}`);
  try {
    // warm-up: resolver, proxy cache, browser DNS cache
    const first = await browse();
    if (first.status !== 200) throw new Error(`warm-up load failed: ${JSON.stringify(first.error)}`);
    const urls = first.har.log.entries.map((e) => e.request.url);
    const ours: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const r = await browse();
      if (r.status !== 200) throw new Error(`load ${i} failed`);
      ours.push(performance.now() - t0);
    }

    // curl: the same URLs, the lab root as the only trust anchor, h2, names pinned to the proxy
    const rootPem = join(tmp, 'root.pem');
    const ca = `http://${addressOf('ca', s)}:${port(80, s)}/root.pem`;
    writeFileSync(rootPem, (await run('curl', ['-sf', ca])).stdout);
    const hosts = [...new Set(urls.map((u) => new URL(u).hostname))];
    const resolve = hosts.flatMap((h) => ['--resolve', `${h}:${port(443, s)}:${addressOf('proxy', s)}`]);
    const curlArgs = ['-sf', '--http2', '--cacert', rootPem, ...resolve, '-o', '/dev/null'];
    const theirs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      // one curl process per origin-ordered list: curl reuses one connection per host, like h2
      await run('curl', [...curlArgs, ...urls.flatMap((u, k) => (k ? ['-o', '/dev/null', u] : [u]))]);
      theirs.push(performance.now() - t0);
    }
    const o = median(ours);
    const c = median(theirs);
    console.log(
      `page: https://www.example.test/hej + ${urls.length - 1} subresources, ${RUNS} runs each, medians`,
    );
    console.log(`  enterlab browser  ${o.toFixed(1)} ms   (${(o / urls.length).toFixed(2)} ms per request)`);
    console.log(`  curl --http2      ${c.toFixed(1)} ms   (${(c / urls.length).toFixed(2)} ms per request)`);
    console.log(
      `  ratio             ${(o / c).toFixed(2)}x curl (target ≤ 2x); whole page target ≤ 500 ms: ${o <= 500 ? 'met' : 'missed'}`,
    );
  } finally {
    lab('down');
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
