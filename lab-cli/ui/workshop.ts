// What the page can do, each through the code the CLI itself runs: the browser host's `browse` (as
// `lab browse`), the scenario runner (as `lab run`), and the scenario actions (as a scenario's steps
// and the `lab ca|block|cache|dns|stop|start` commands, which send the same control commands).
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { nowMicros } from '../../services/common/events.js';
import { JOURNEY } from '../journey.js';
import { type Printer, terminalPrinter } from '../output.js';
import type { Runtime } from '../runtime/types.js';
import { listScenarioFiles, loadScenario } from '../scenario/load.js';
import { loadActions } from '../scenario/registry.js';
import { runScenario } from '../scenario/runner.js';
import type { StepContext } from '../scenario/types.js';
import type { Hub } from './hub.js';

export interface UiContext {
  runtime: Runtime;
  hub: Hub;
  runsDir: string;
  busy: boolean;
}

/** The workshop's buttons: scenario actions by name (lab-cli/actions/), nothing else. */
export const CONTROLS = [
  'ca.revoke',
  'block.add',
  'block.rm',
  'block.clear',
  'cache.purge',
  'dns.flush',
  'host.stop',
  'host.start',
  'browser.clear',
] as const;

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

export async function scenarioList() {
  const actions = await loadActions();
  return listScenarioFiles().flatMap((f) => {
    try {
      const sc = loadScenario(f, actions);
      return [
        {
          name: sc.name,
          title: sc.title,
          story: sc.story,
          journey: sc.journey.map((n) => ({ step: n, what: JOURNEY.find((j) => j.step === n)?.what ?? '' })),
          steps: sc.steps.map((s) =>
            s.kind === 'say' ? `» ${s.text}` : s.kind === 'action' ? s.action.describe(s.args) : 'expect …',
          ),
        },
      ];
    } catch (err) {
      return [
        { name: basename(f), title: '', story: '', journey: [], steps: [], error: (err as Error).message },
      ];
    }
  });
}

/** The address bar: what `lab browse TEXT` does, with its waterfall and the page as painted. */
export async function browseFromUi(ctx: UiContext, b: Record<string, unknown>) {
  const text = String(b.text ?? '').trim();
  if (!text) return { error: { code: 'ERR_EMPTY', step: 'omnibox', message: 'type a URL or words' } };
  const run = `${stamp()}-browse`;
  const runDir = join(ctx.runsDir, run);
  mkdirSync(runDir, { recursive: true });
  ctx.hub.newLadder(`lab browse ${text}`);
  const dns = b.dns === 'dot' || b.dns === 'doh' ? b.dns : undefined;
  try {
    const r = await ctx.runtime.control(
      'browser',
      'browse',
      { text, noCache: b.noCache === true, runDir, ...(dns ? { dns } : {}) },
      120_000,
    );
    return { ...r, run, files: filesOf(runDir) };
  } catch (err) {
    return { error: { code: 'ERR_LAB', step: 'lab', message: `${(err as Error).message} (is the lab up?)` } };
  }
}

/** The Run button: `lab run NAME`, its printed lines streamed to every page, then the verdict. */
export async function runFromUi(ctx: UiContext, name: string, capture: boolean) {
  const file = listScenarioFiles().find((f) => basename(f).replace(/\.ya?ml$/, '') === name);
  if (!file) return { verdict: 'failed', failures: [`no scenario named "${name}"`] };
  const sc = loadScenario(file, await loadActions());
  ctx.hub.newLadder(`${sc.title} (${sc.name})`);
  ctx.hub.broadcast('run', { name, line: `▶ lab run ${name}${capture ? ' --capture' : ''}` });
  const terminal = terminalPrinter((s) => {
    for (const line of s.replace(ANSI, '').split('\n')) if (line) ctx.hub.broadcast('run', { name, line });
  });
  // each step also becomes a band of the live ladder, as scenario.step does in the run's ladder.html
  const printer: Printer = {
    ...terminal,
    step: (n, text) => {
      if (n > 0 && text !== 'expect')
        ctx.hub.add({
          ts: nowMicros(),
          host: 'lab',
          kind: 'scenario.step',
          summary: text,
          data: { step: n },
        });
      terminal.step(n, text);
    },
  };
  const r = await runScenario(sc, ctx.runtime, printer, { capture, runsDir: ctx.runsDir });
  const run = r.runDir ? basename(r.runDir) : undefined;
  const result = {
    name,
    verdict: r.verdict,
    reason: r.reason,
    failures: r.failures,
    run,
    files: r.runDir ? filesOf(r.runDir) : [],
  };
  ctx.hub.broadcast('verdict', result);
  return result;
}

/** A workshop button: one scenario action, its arguments checked by the action's own schema. */
export async function runControl(ctx: UiContext, name: string, raw: unknown) {
  if (!(CONTROLS as readonly string[]).includes(name))
    return { ok: false, detail: `"${name}" is not a workshop control (${CONTROLS.join(', ')})` };
  const action = (await loadActions()).get(name);
  if (!action) return { ok: false, detail: `no action ${name}` };
  const parsed = action.schema.safeParse(raw ?? null);
  if (!parsed.success)
    return { ok: false, detail: `${name}: ${parsed.error.issues.map((i) => i.message).join('; ')}` };
  const what = action.describe(parsed.data);
  const stepCtx: StepContext = {
    runtime: ctx.runtime,
    runDir: join(ctx.runsDir, `${stamp()}-ui`),
    scenario: 'ui',
    note: () => {},
    vars: new Map(),
    events: async () => [],
  };
  try {
    const r = await action.run(parsed.data, stepCtx);
    ctx.hub.broadcast('control', { what, ...r });
    return { what, ...r };
  } catch (err) {
    const r = { what, ok: false, detail: (err as Error).message };
    ctx.hub.broadcast('control', r);
    return r;
  }
}

/** the artifacts a run left, in the order a workshop opens them */
function filesOf(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const order = ['ladder.html', 'browser.har', 'timeline.txt', 'capture.pcapng', 'events.jsonl'];
  return readdirSync(dir)
    .filter((f) => order.includes(f))
    .sort((a, b) => order.indexOf(a) - order.indexOf(b));
}
