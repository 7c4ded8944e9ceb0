// bench/lab-up: time from `lab up` to every host ready on the local runtime, and the whole lab's resident
// memory (Σ PSS: shared pages counted once; Σ VmRSS printed beside it),
// beside a bare `node -e ''` start measured in the same run. Targets: ≤ 1.5 s, ≤ 400 MB.
// With Docker here, the docker runtime too (image built): to all healthy ≤ 8 s, containers ≤ 600 MB.
// Usage: node dist/bench/lab-up.js [--runs 3] [--block 127.30] [--docker-runs 2 | --docker-runs 0]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalRuntime } from '../lab-cli/runtime/local.js';
import { PROJECT_ROOT, settingsEnv, settingsFromEnv } from '../services/common/settings.js';
import { measureDocker } from './docker-lab.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    block: { type: 'string', default: '127.30' },
    'docker-runs': { type: 'string', default: '2' },
  },
});
const runs = Number(values.runs);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * The process's proportional set size: its own pages, plus each shared page divided by the number of
 * processes that map it. Summed over the lab it is the lab's resident memory with the pages every
 * host shares (the node binary, ~35 MB of file-backed RSS in each process) counted once, which a sum
 * of VmRSS counts ten times over.
 */
function pssOf(pid: number): number {
  const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** RSS of a node process that loads nothing: the floor for a lab of N Node processes. */
function bareRss(): number {
  const r = spawnSync(
    process.execPath,
    ['-e', 'setTimeout(() => console.log(process.memoryUsage().rss), 300)'],
    { encoding: 'utf8' },
  );
  return Number(r.stdout.trim());
}

const bare: number[] = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  spawnSync(process.execPath, ['-e', '']);
  bare.push(performance.now() - t0);
}

const upTimes: number[] = [];
const rss: number[] = [];
const pss: number[] = [];
let hostCount = 0;
for (let i = 0; i < runs; i++) {
  const stateDir = mkdtempSync(join(tmpdir(), 'enterlab-bench-up-'));
  const rt = new LocalRuntime(
    settingsFromEnv(process.env, { runtime: 'local', block: values.block, stateDir }),
  );
  try {
    const t0 = performance.now();
    const r = await rt.up();
    upTimes.push(performance.now() - t0);
    hostCount = r.started.length;
    await new Promise((res) => setTimeout(res, 500)); // let start-up garbage settle before measuring memory
    const status = await rt.status();
    const pids = status.filter((s) => s.pid && s.state === 'running').map((s) => s.pid as number);
    rss.push(pids.reduce((sum, pid) => sum + rssOf(pid), 0));
    pss.push(pids.reduce((sum, pid) => sum + pssOf(pid), 0));
  } finally {
    await rt.down();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

// the same through the CLI, as a user types it: `lab up` in a process of its own, then `lab down`
const cliTimes: number[] = [];
for (let i = 0; i < runs; i++) {
  const stateDir = mkdtempSync(join(tmpdir(), 'enterlab-bench-up-'));
  const env = {
    ...process.env,
    ...settingsEnv(settingsFromEnv(process.env, { runtime: 'local', block: values.block, stateDir })),
  };
  const lab = (cmd: string) =>
    spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist/lab-cli/main.js'), cmd], { env, encoding: 'utf8' });
  try {
    const t0 = performance.now();
    const r = lab('up');
    if (r.status !== 0) throw new Error(`lab up failed: ${r.stderr}`);
    cliTimes.push(performance.now() - t0);
  } finally {
    lab('down');
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const up = median(upTimes);
const mem = median(rss) / 2 ** 20;
const nodeStart = median(bare);
const floor = (bareRss() * hostCount) / 2 ** 20; // as many Node processes that load nothing
console.log(`lab up (local, ${hostCount} hosts, median of ${runs}): ${up.toFixed(0)} ms to all ready`);
console.log(
  `\`lab up\` through the CLI, median of ${runs}: ${median(cliTimes).toFixed(0)} ms (the CLI's own start included)`,
);
console.log(`bare node start (reference, same run):   ${nodeStart.toFixed(0)} ms`);
console.log(
  `ratio lab up / bare node start:          ${(up / nodeStart).toFixed(1)}×   target: lab up ≤ 1500 ms → ${up <= 1500 ? 'met' : 'MISSED'}`,
);
const resident = median(pss) / 2 ** 20;
console.log(
  `whole lab resident (Σ PSS, shared once): ${resident.toFixed(0)} MB (${(resident / hostCount).toFixed(0)} MB a host)   target ≤ 400 MB → ${resident <= 400 ? 'met' : 'MISSED'}`,
);
console.log(
  `Σ VmRSS of the hosts:                    ${mem.toFixed(0)} MB (${(mem / hostCount).toFixed(0)} MB a host; counts the shared node binary in every host)`,
);
console.log(
  `${hostCount} bare node processes, Σ VmRSS:       ${floor.toFixed(0)} MB (reference: the floor of that sum for ${hostCount} Node processes; the lab is ${(mem / floor).toFixed(1)}× it)`,
);

// the docker runtime, same run (skipped with the reason when no engine answers)
const dockerRuns = Number(values['docker-runs']);
if (dockerRuns > 0) {
  try {
    const d = await measureDocker(dockerRuns);
    const dUp = median(d.upMs);
    const dMem = median(d.memBytes) / 2 ** 20;
    console.log(
      `lab up (docker, ${d.hosts} hosts, median of ${dockerRuns}): ${dUp.toFixed(0)} ms to all healthy   ${(dUp / up).toFixed(1)}× local   target ≤ 8000 ms → ${dUp <= 8000 ? 'met' : 'MISSED'}`,
    );
    // the spread: on a shared 2-core machine one run can take half as long again as the next
    console.log(
      `  each docker run:                        ${d.upMs.map((ms) => ms.toFixed(0)).join(', ')} ms`,
    );
    console.log(
      `docker containers' memory:               ${dMem.toFixed(0)} MB (${(dMem / mem).toFixed(1)}× local RSS)   target ≤ 600 MB → ${dMem <= 600 ? 'met' : 'MISSED'}`,
    );
  } catch (err) {
    console.log(`docker runtime: skipped (${(err as Error).message})`);
  }
}
