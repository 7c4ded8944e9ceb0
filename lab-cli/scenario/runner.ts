// Runs a scenario: brings the lab up if needed, plays each step, prints the story and each step's
// outcome as it goes, and writes runs/<time>-<name>/. A failed expectation makes the run fail.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEmitter, type LabEvent, nowMicros } from '../../services/common/events.js';
import { type LabSettings, PROJECT_ROOT } from '../../services/common/settings.js';
import { DEFAULT_LOOPBACK_BLOCK } from '../../services/common/topology.js';
import { loadCap } from '../../services/middlebox/tap.js';
import type { Printer } from '../output.js';
import { writeRunArtifacts } from '../render/artifacts.js';
import type { Runtime } from '../runtime/types.js';
import type { LabRunEvent } from './events.js';
import type { Expectation, Scenario } from './load.js';
import { checkEvents } from './match.js';
import type { StepContext } from './types.js';

export const RUNS_DIR = process.env.LAB_RUNS_DIR ?? join(PROJECT_ROOT, 'runs');

export type RunVerdict = 'passed' | 'failed' | 'skipped';

export interface RunResult {
  verdict: RunVerdict;
  runDir?: string;
  reason?: string;
  failures: string[];
}

interface PacketCheck {
  step: number;
  /** the scenario line of this packets entry */
  line: number;
  filter: string;
  count?: number;
  min?: number;
  max?: number;
  from: number;
  to: number;
}

const SETTLE_MS = 300;
const DEFAULT_WITHIN_MS = 3000;

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/**
 * Claims a run directory of its own: <time>[-<block>]-<scenario> (the block named when it is not
 * the default), created with mkdir without `recursive`, so two runs in the same second cannot both
 * get it: the second one takes -2, -3…
 */
export function claimRunDir(runsDir: string, scenario: string, settings: LabSettings): string {
  mkdirSync(runsDir, { recursive: true });
  const block =
    settings.runtime === 'local' && settings.block !== DEFAULT_LOOPBACK_BLOCK ? `-${settings.block}` : '';
  const base = join(runsDir, `${stamp()}${block}-${scenario}`);
  for (let n = 1; ; n++) {
    const dir = n === 1 ? base : `${base}-${n}`;
    try {
      mkdirSync(dir);
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 1000) throw err;
    }
  }
}

/** Why a scenario cannot run here (a missing host, no root, wrong runtime), or undefined. */
export async function skipReason(sc: Scenario, runtime: Runtime): Promise<string | undefined> {
  if (!sc.runtime.includes(runtime.name)) return `runs on the ${sc.runtime.join('/')} runtime only`;
  const needs = new Set(sc.needs);
  for (const step of sc.steps)
    if (step.kind === 'action') for (const n of step.action.needs?.(step.args) ?? []) needs.add(n);
  if (needs.has('root') && runtime.name === 'local' && process.getuid?.() !== 0) return 'needs root';
  if (needs.has('libpcap')) {
    const cap = loadCap();
    if ('error' in cap) return `needs libpcap: ${cap.error}`;
  }
  const status = await runtime.status();
  for (const n of needs) {
    if (n === 'root' || n === 'libpcap') continue;
    const h = status.find((s) => s.host === n);
    if (!h) return `needs "${n}", which is not a lab host`;
    if (h.state === 'off') return `needs ${n}: ${h.reason ?? 'off'}`;
    if (h.reason && h.state === 'running' && n === 'middlebox') return `needs ${n}: ${h.reason}`;
  }
  return undefined;
}

export async function runScenario(
  sc: Scenario,
  runtime: Runtime,
  out: Printer,
  opts: { capture?: boolean; runsDir?: string } = {},
): Promise<RunResult> {
  out.heading(`${sc.title}  (${sc.name}; JOURNEY ${sc.journey.join(', ')})`);
  out.story(sc.story);
  if (!(await runtime.isUp())) {
    out.info('bringing the lab up…');
    const up = await runtime.up();
    out.info(
      `lab up: ${up.started.length} hosts started${up.off.length ? `, off: ${up.off.map((o) => o.host).join(', ')}` : ''}`,
    );
  }
  const runDir = claimRunDir(opts.runsDir ?? RUNS_DIR, sc.name, runtime.settings);
  // dumpcap and sharkd start while the runner checks the hosts and opens its cursor
  let starting: ReturnType<typeof startCapture> | undefined;
  if (opts.capture) {
    starting = startCapture(runtime, runDir);
    starting.catch(() => {}); // reported below
  }
  const skip = await skipReason(sc, runtime);
  if (skip) {
    await starting?.then((c) => c.handle.close()).catch(() => {});
    rmSync(runDir, { recursive: true, force: true });
    out.result('skipped', skip);
    return { verdict: 'skipped', reason: skip, failures: [] };
  }
  const runnerEvents: LabEvent[] = [];
  const lab = createEmitter<LabRunEvent>('lab', (line) => runnerEvents.push(JSON.parse(line)));
  const cursor = await runtime.cursor();
  const all: LabEvent[] = [];
  const pull = async () => {
    all.push(...(await cursor.read()));
  };
  let capture: Awaited<ReturnType<typeof startCapture>> | undefined;
  if (starting) {
    try {
      capture = await starting;
    } catch (err) {
      // one line that says what to install or how to run; dumpcap is not left behind (it never started)
      const e = err as Error & { hint?: string };
      const line = `capture could not start: ${e.message}${e.hint ? ` — ${e.hint}` : ''}`;
      cursor.close?.();
      rmSync(runDir, { recursive: true, force: true });
      out.result('failed', line);
      return { verdict: 'failed', reason: line, failures: [line] };
    }
  }
  lab.emit({
    kind: 'scenario.start',
    summary: `scenario ${sc.name}: ${sc.title}`,
    data: { scenario: sc.name },
  });

  const failures: string[] = [];
  const packets: PacketCheck[] = [];
  let windowStart = 0;
  let windowFrom = nowMicros();
  const ctx: StepContext = {
    runtime,
    runDir,
    scenario: sc.name,
    note: (t) => out.note(t),
    vars: new Map(),
    events: async () => {
      await pull();
      return [...all];
    },
  };

  let aborted = false;
  const lastAction = sc.steps.map((step) => step.kind).lastIndexOf('action');
  if (lastAction < 0) capture?.handle.warm();
  for (const [i, step] of sc.steps.entries()) {
    const n = i + 1;
    if (aborted) break;
    if (step.kind === 'say') {
      lab.emit({ kind: 'scenario.say', summary: step.text, data: { step: n } });
      out.say(step.text);
      continue;
    }
    if (step.kind === 'action') {
      await pull();
      windowStart = all.length;
      windowFrom = nowMicros();
      const what = step.action.describe(step.args);
      lab.emit({ kind: 'scenario.step', summary: what, data: { step: n, action: step.action.name } });
      out.step(n, what);
      try {
        const r = await step.action.run(step.args, ctx);
        out.outcome(r.ok, r.detail, r.lines);
        if (!r.ok) {
          failures.push(`step ${n} (line ${step.line}) ${what}: ${r.detail ?? 'failed'}`);
          aborted = true;
        }
      } catch (err) {
        const msg = (err as Error).message;
        out.outcome(false, msg);
        failures.push(`step ${n} (line ${step.line}) ${what}: ${msg}`);
        aborted = true;
      }
      // no more traffic to make: sharkd's start-up now overlaps the last expectations' settle time
      if (i === lastAction) capture?.handle.warm();
      continue;
    }
    // JOURNEY: what the hosts say they did, checked against the scenario's expectations
    const results = await waitForExpectation(step.expect, async () => {
      await pull();
      return all.slice(windowStart);
    });
    out.step(n, 'expect');
    for (const r of results) {
      out.check(r.ok, r.line);
      if (!r.ok) failures.push(`step ${n} (line ${step.line}): expected ${r.line}`);
    }
    for (const [k, p] of (step.expect.packets ?? []).entries())
      packets.push({
        step: n,
        line: step.packetLines?.[k] ?? step.line,
        ...p,
        from: windowFrom,
        to: nowMicros(),
      });
  }
  // cleanup steps run whatever happened, so the next scenario finds the lab as it was
  for (const step of sc.cleanup) {
    if (step.kind !== 'action') continue;
    const what = step.action.describe(step.args);
    out.step(0, `cleanup: ${what}`);
    try {
      const r = await step.action.run(step.args, ctx);
      out.outcome(r.ok, r.detail);
    } catch (err) {
      out.outcome(false, (err as Error).message);
    }
  }
  lab.emit({ kind: 'scenario.end', summary: `scenario ${sc.name} ${failures.length ? 'failed' : 'passed'}` });
  // the capture stops, and is loaded and counted, while the hosts' last events come in
  const stopped = capture?.handle.stop();
  stopped?.catch(() => {}); // reported by finishCapture
  const collected = (async () => {
    await new Promise((r) => setTimeout(r, 100));
    await pull();
    cursor.close?.();
    return [...all, ...runnerEvents].sort((a, b) => a.ts - b.ts);
  })();
  const packetFailures = await finishCapture(capture, stopped, runtime, runDir, collected, packets, out);
  const events = await collected;
  failures.push(...packetFailures);
  await writeRunArtifacts(runDir, sc, events, failures);
  const verdict: RunVerdict = failures.length ? 'failed' : 'passed';
  out.result(verdict, `${runDir}`);
  for (const f of failures) out.failure(f);
  return { verdict, runDir, failures };
}

async function waitForExpectation(exp: Expectation, window: () => Promise<LabEvent[]>) {
  const deadline = Date.now() + (exp.within ?? DEFAULT_WITHIN_MS);
  let results = checkEvents(exp, await window());
  // wait for what must appear; then let late events settle before judging counts and absences
  while (results.some((r) => !r.ok) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    results = checkEvents(exp, await window());
  }
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  return checkEvents(exp, await window());
}

type CaptureModule = typeof import('../capture/index.js');
type CaptureStats = Awaited<ReturnType<Awaited<ReturnType<CaptureModule['startCapture']>>['stop']>>;

async function captureModule(): Promise<CaptureModule> {
  return (await import('../capture/index.js')) as CaptureModule;
}

async function startCapture(runtime: Runtime, runDir: string) {
  const mod = await captureModule();
  const handle = await mod.startCapture(runtime.settings, runDir);
  return { mod, handle };
}

async function finishCapture(
  capture: Awaited<ReturnType<typeof startCapture>> | undefined,
  stopped: Promise<CaptureStats> | undefined,
  runtime: Runtime,
  runDir: string,
  events: Promise<LabEvent[]>,
  packets: PacketCheck[],
  out: Printer,
): Promise<string[]> {
  if (!capture || !stopped) {
    if (packets.length) out.info(`${packets.length} packet expectation(s) not checked: run with --capture`);
    return [];
  }
  const { mod, handle } = capture;
  try {
    const stats = await stopped;
    // each packet expectation looks only at the frames of its own step's window
    const timed = packets.map((p) => ({
      ...p,
      filter: `(${mod.expandHostRefs(p.filter, runtime.settings)}) && frame.time_epoch >= ${(p.from / 1e6).toFixed(6)} && frame.time_epoch <= ${(p.to / 1e6).toFixed(6)}`,
    }));
    const enriched = await mod.enrichCapture(runtime.settings, runDir, events, {
      expectedPackets: stats.packets,
      sharkd: handle.sharkd,
      packets: timed,
    });
    const { packets: res, ...counts } = enriched;
    writeFileSync(join(runDir, 'capture.json'), JSON.stringify({ ...stats, ...counts }, null, 2));
    out.info(
      `capture: ${stats.packets} packets, ${stats.dropped} dropped, ${enriched.comments} commented, TLS secrets ${enriched.secrets ? 'embedded' : 'none (no key log)'} → ${handle.pcapPath}`,
    );
    if (!res || packets.length === 0) return [];
    out.step(0, 'packets in the capture');
    const failures: string[] = [];
    res.results.forEach((r, i) => {
      const where = !r.ok && r.frames.length ? ` (frames ${r.frames.join(', ')})` : '';
      const line = r.error
        ? `${packets[i].filter}: ${r.error}`
        : `${packets[i].filter}: expected ${r.expected}, seen ${r.actual}${where}`;
      out.check(r.ok, line);
      if (!r.ok) failures.push(`step ${packets[i].step} (line ${packets[i].line}): packets ${line}`);
    });
    writeFileSync(join(runDir, 'packets.json'), JSON.stringify(res, null, 2));
    return failures;
  } catch (err) {
    // a broken capture is reported, never counted into nonsense
    const e = err as Error & { hint?: string };
    return [`capture: ${e.message}${e.hint ? ` — ${e.hint}` : ''}`];
  } finally {
    await handle.close();
  }
}
