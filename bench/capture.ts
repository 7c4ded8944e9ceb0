// bench/capture: what `--capture` costs press-enter on a warm lab, with and without, alternating in
// the same run (ABBA order). Target: the whole run (what a user waits for: capture start, the run,
// stopping dumpcap, enrichment, packet checks) ≤ 1.2× slower with --capture, the page load (the browse
// step) too, and dumpcap's drop count 0.
// Usage: node dist/bench/capture.js [--runs 5] [--block 127.61]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { terminalPrinter } from '../lab-cli/output.js';
import { openRuntime } from '../lab-cli/runtime/index.js';
import { loadScenario, scenarioPath } from '../lab-cli/scenario/load.js';
import { loadActions } from '../lab-cli/scenario/registry.js';
import { runScenario } from '../lab-cli/scenario/runner.js';
import type { LabEvent } from '../services/common/events.js';
import { settingsFromEnv } from '../services/common/settings.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, block: { type: 'string', default: '127.61' } },
});
const runs = Number(values.runs);
const tmp = mkdtempSync(join(tmpdir(), 'enterlab-bench-capture-'));
const runtime = await openRuntime(
  settingsFromEnv(process.env, { runtime: 'local', block: values.block, stateDir: join(tmp, 'state') }),
);
const sc = loadScenario(scenarioPath('press-enter'), await loadActions());
const quiet = terminalPrinter(() => {});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** ms from the browse step to the page painted, from the run's own events */
function browseMs(runDir: string): number {
  const events = readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LabEvent);
  const step = events.find((e) => e.kind === 'scenario.step' && e.data?.action === 'browse');
  const painted = events.find((e) => e.kind === 'page.render' && step && e.ts > step.ts);
  if (!step || !painted) throw new Error(`${runDir}: no browse step or no page.render`);
  return (painted.ts - step.ts) / 1000;
}

async function once(capture: boolean) {
  const t0 = performance.now();
  const r = await runScenario(sc, runtime, quiet, { capture, runsDir: join(tmp, 'runs') });
  const wall = performance.now() - t0;
  if (r.verdict !== 'passed' || !r.runDir)
    throw new Error(`press-enter ${r.verdict}: ${r.failures.join('; ')}`);
  const dropped = capture ? JSON.parse(readFileSync(join(r.runDir, 'capture.json'), 'utf8')).dropped : 0;
  return { wall, browse: browseMs(r.runDir), dropped };
}

try {
  await runtime.up({ quiet: true });
  await once(false); // warm: certificates issued, code paths loaded
  const plain: Awaited<ReturnType<typeof once>>[] = [];
  const captured: Awaited<ReturnType<typeof once>>[] = [];
  for (let i = 0; i < runs; i++) {
    process.stderr.write(`run ${i + 1}/${runs}…\r`);
    // ABBA order, so neither side always runs right after the other's post-processing
    if (i % 2 === 0) plain.push(await once(false));
    captured.push(await once(true));
    if (i % 2 === 1) plain.push(await once(false));
  }
  const b0 = median(plain.map((p) => p.browse));
  const b1 = median(captured.map((p) => p.browse));
  const w0 = median(plain.map((p) => p.wall));
  const w1 = median(captured.map((p) => p.wall));
  const dropped = captured.reduce((n, c) => n + c.dropped, 0);
  console.log(`press-enter on a warm lab, median of ${runs} runs each, alternating:`);
  console.log(`  page load (browse step to page painted), no capture (reference): ${b0.toFixed(1)} ms`);
  console.log(`  page load with dumpcap recording:                                ${b1.toFixed(1)} ms`);
  console.log(`  ratio ${(b1 / b0).toFixed(2)}×   target ≤ 1.20× → ${b1 / b0 <= 1.2 ? 'met' : 'MISSED'}`);
  console.log(`  whole run, no capture (reference):                              ${w0.toFixed(0)} ms`);
  console.log(`  whole run with --capture (dumpcap, end marker, sharkd, editcap): ${w1.toFixed(0)} ms`);
  console.log(`  ratio ${(w1 / w0).toFixed(2)}×   target ≤ 1.20× → ${w1 / w0 <= 1.2 ? 'met' : 'MISSED'}`);
  console.log(
    `  packets dropped by dumpcap over ${runs} captures: ${dropped}   target 0 → ${dropped === 0 ? 'met' : 'MISSED'}`,
  );
} finally {
  await runtime.down();
  rmSync(tmp, { recursive: true, force: true });
}
