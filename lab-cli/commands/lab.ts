// The lab's own commands: up, down, status, logs, stop/start/restart, list, run, show.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEventLine } from '../../services/common/event-schema.js';
import { JOURNEY } from '../journey.js';
import { optionalModule } from '../optional.js';
import { terminalPrinter } from '../output.js';
import { renderLadderFiles } from '../render/artifacts.js';
import { renderTimeline } from '../render/timeline.js';
import type { HostStatus } from '../runtime/types.js';
import { listScenarioFiles, loadScenario, ScenarioError, scenarioPath } from '../scenario/load.js';
import { loadActions } from '../scenario/registry.js';
import { RUNS_DIR, runScenario } from '../scenario/runner.js';
import type { Cli, RegisterCommands } from './types.js';

/** Exit code of a run that was skipped (automake's convention), so scripts can tell it from a pass. */
export const EXIT_SKIPPED = 77;

function uptime(ms?: number): string {
  if (ms === undefined) return '';
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function statusTable(cli: Cli, list: HostStatus[]): string {
  const state = (h: HostStatus) => {
    const s =
      h.state === 'running'
        ? cli.color.green(h.state)
        : h.state === 'dead'
          ? cli.color.red(h.state)
          : cli.color.dim(h.state);
    return s;
  };
  const rows = [['HOST', 'ADDRESSES', 'LISTENING', 'PID', 'STATE', 'UPTIME', 'NOTE']];
  for (const h of list) {
    rows.push([
      h.host,
      h.addresses.join(' '),
      [...new Set(h.ports.map((p) => p.replace(/^(\w+) .*:(\d+)$/, '$1/$2')))].join(' '),
      h.pid ? String(h.pid) : '',
      state(h),
      uptime(h.uptimeMs),
      h.reason ?? '',
    ]);
  }
  return table(rows);
}

function latestRun(): string | undefined {
  if (!existsSync(RUNS_DIR)) return undefined;
  const runs = readdirSync(RUNS_DIR).sort();
  return runs.length ? join(RUNS_DIR, runs[runs.length - 1]) : undefined;
}

function resolveRun(cli: Cli, run?: string): string {
  const dir = run ? (existsSync(run) ? run : join(RUNS_DIR, run)) : latestRun();
  if (!dir || !existsSync(join(dir, 'events.jsonl'))) {
    const known = existsSync(RUNS_DIR) ? readdirSync(RUNS_DIR).slice(-5) : [];
    return cli.fail(
      `no run ${run ? `"${run}"` : 'yet'}`,
      known.length ? `recent runs: ${known.join(', ')}` : 'try: lab run press-enter',
    );
  }
  return dir;
}

export const register: RegisterCommands = (program, cli) => {
  program
    .command('up')
    .description('start every host of the lab (a no-op when it is already up)')
    .addHelpText('after', '\nExample:\n  $ lab up && lab status')
    .action(async () => {
      const rt = await cli.runtime();
      try {
        const r = await rt.up();
        if (r.alreadyUp) cli.print({ alreadyUp: true }, () => 'the lab is already up (lab status shows it)');
        else {
          cli.print(r, () =>
            [
              `lab up on the ${rt.name} runtime: ${r.started.join(', ')}`,
              ...r.off.map((o) => cli.color.dim(`off: ${o.host} — ${o.reason}`)),
              rt.settings.ipv6
                ? ''
                : cli.color.dim('IPv6 is off (the local runtime needs root to add addresses to lo)'),
            ]
              .filter(Boolean)
              .join('\n'),
          );
        }
      } catch (err) {
        cli.fail(
          `lab up failed: ${(err as Error).message}`,
          'nothing was left running; fix the cause and run lab up again',
        );
      }
    });

  program
    .command('down')
    .description('stop every host (SIGTERM, then SIGKILL after 5 s), by pid only')
    .option('--volumes', 'docker: also remove the lab volumes (the CA state)')
    .action(async (o: { volumes?: boolean }) => {
      const rt = await cli.runtime();
      await rt.down({ volumes: o.volumes });
      cli.print({ down: true }, () => 'the lab is down');
    });

  program
    .command('status')
    .description('a table of hosts: addresses, ports, pid, state, uptime')
    .addHelpText('after', '\nExample:\n  $ lab status --json')
    .action(async () => {
      const rt = await cli.runtime();
      const list = await rt.status();
      cli.print(list, () => statusTable(cli, list));
      if (list.some((h) => h.state === 'dead')) process.exitCode = 1;
    });

  program
    .command('logs [host]')
    .description('what a host printed: its events and its error output')
    .option('-f, --follow', 'keep printing new lines')
    .addHelpText('after', '\nExample:\n  $ lab logs resolver -f')
    .action(async (host: string | undefined, o: { follow?: boolean }) => {
      const rt = await cli.runtime();
      const names = host ? [host] : (await rt.status()).filter((h) => h.state !== 'off').map((h) => h.host);
      try {
        await Promise.all(
          names.map((h) =>
            rt.logs(h, {
              follow: o.follow,
              onLine: (line) => {
                const ev = parseEventLine(line);
                process.stdout.write(
                  ev
                    ? `${cli.color.dim(h.padEnd(10))} ${ev.kind.padEnd(18)} ${ev.summary}\n`
                    : `${h.padEnd(10)} ${line}\n`,
                );
              },
            }),
          ),
        );
      } catch (err) {
        cli.fail((err as Error).message);
      }
    });

  for (const verb of ['stop', 'start', 'restart'] as const) {
    program
      .command(`${verb} <host>`)
      .description(`${verb} one host (scenarios use this to make a host fail)`)
      .addHelpText('after', `\nExample:\n  $ lab ${verb} ns-example`)
      .action(async (host: string) => {
        const rt = await cli.runtime();
        try {
          await rt[verb](host);
          cli.print({ host, done: verb }, () => `${host}: ${verb} done`);
        } catch (err) {
          cli.fail(`${verb} ${host}: ${(err as Error).message}`);
        }
      });
  }

  program
    .command('list')
    .description('the scenarios, with their one-line stories')
    .action(async () => {
      const actions = await loadActions();
      const rows: { name: string; title: string; journey: number[]; story: string; error?: string }[] = [];
      for (const f of listScenarioFiles()) {
        try {
          const sc = loadScenario(f, actions);
          rows.push({ name: sc.name, title: sc.title, journey: sc.journey, story: sc.story.split('\n')[0] });
        } catch (err) {
          rows.push({ name: f, title: '', journey: [], story: '', error: (err as Error).message });
        }
      }
      cli.print(rows, () =>
        rows
          .map((r) =>
            r.error
              ? cli.color.red(`✗ ${r.error}`)
              : `${cli.color.bold(r.name.padEnd(16))} ${r.title} ${cli.color.dim(`(JOURNEY ${r.journey.join(',')})`)}\n${' '.repeat(17)}${cli.color.dim(r.story)}`,
          )
          .join('\n'),
      );
    });

  program
    .command('run <scenario>')
    .description(
      'run a scenario: the story, each step and its outcome; exit 1 if an expectation fails, 77 if skipped',
    )
    .option('--capture', 'record every lab packet into capture.pcapng (needs dumpcap)')
    .addHelpText('after', '\nExample:\n  $ lab run press-enter --capture\n  $ lab run scenarios/my-own.yaml')
    .action(async (name: string, o: { capture?: boolean }) => {
      let sc: ReturnType<typeof loadScenario>;
      try {
        sc = loadScenario(scenarioPath(name), await loadActions());
      } catch (err) {
        if (err instanceof ScenarioError) cli.fail(err.message, undefined, 2);
        throw err;
      }
      const rt = await cli.runtime();
      try {
        const r = await runScenario(sc, rt, terminalPrinter(), { capture: o.capture });
        process.exitCode = r.verdict === 'passed' ? 0 : r.verdict === 'skipped' ? EXIT_SKIPPED : 1;
      } catch (err) {
        cli.fail(`run ${name}: ${(err as Error).message}`);
      }
    });

  program
    .command('show [run]')
    .description(
      "a past run's summary, its files and its timeline, from events.jsonl (default: the latest run)",
    )
    .option('--open', 'serve the run’s ladder page on 127.0.0.1 and print its address')
    .addHelpText('after', '\nExample:\n  $ lab show\n  $ lab show 20261124-120000-press-enter --open')
    .action(async (run: string | undefined, o: { open?: boolean }) => {
      const dir = resolve(resolveRun(cli, run));
      const events = readFileSync(join(dir, 'events.jsonl'), 'utf8')
        .split('\n')
        .map(parseEventLine)
        .filter((e) => !!e);
      const readJson = (f: string) =>
        existsSync(join(dir, f)) ? JSON.parse(readFileSync(join(dir, f), 'utf8')) : undefined;
      const summary = readJson('summary.json') ?? {};
      if (!existsSync(join(dir, 'ladder.html'))) await renderLadderFiles(dir, events, summary.title);
      const capture = readJson('capture.json');
      const packets = readJson('packets.json') as { results: { ok: boolean }[] } | undefined;
      const files = readdirSync(dir).sort();
      const paths: Record<string, string> = Object.fromEntries(files.map((f) => [f, join(dir, f)]));
      cli.print({ dir, summary, capture, files: paths }, () =>
        [
          `${cli.color.bold(dir)}`,
          `scenario ${summary.scenario ?? '?'}: ${summary.verdict ?? '?'}; ${events.length} events`,
          ...(summary.failures ?? []).map((f: string) => cli.color.red(`✗ ${f}`)),
          ...(capture
            ? [
                `capture: ${capture.packets} packets, ${capture.dropped} dropped, ${capture.comments} commented, TLS secrets ${capture.secrets ? 'embedded' : 'none'}` +
                  (packets
                    ? `; packet expectations ${packets.results.filter((r) => r.ok).length}/${packets.results.length} met`
                    : ''),
              ]
            : []),
          ...files.map((f) => `  ${f.padEnd(16)} ${paths[f]}`),
          ...(files.includes('capture.pcapng')
            ? [cli.color.dim(`  open it: wireshark ${paths['capture.pcapng']}`)]
            : []),
          '',
          renderTimeline(events),
        ].join('\n'),
      );
      if (o.open) {
        try {
          const { serveRun } = (await import(optionalModule('../render/serve.js'))) as {
            serveRun(d: string): Promise<{ url: string; close(): Promise<void> }>;
          };
          const s = await serveRun(dir);
          process.stdout.write(`serving the ladder at ${s.url} (Ctrl-C to stop)\n`);
        } catch (err) {
          cli.fail(`cannot serve the run: ${(err as Error).message}`);
        }
      }
    });

  registerJourney(program, cli);
};

export const registerJourney: RegisterCommands = (program, cli) => {
  program
    .command('journey')
    .description('the 38 steps of the journey and the scenarios that show each one')
    .addHelpText('after', '\nExample:\n  $ lab journey --json')
    .action(async () => {
      const actions = await loadActions();
      const scenarios = listScenarioFiles().flatMap((f) => {
        try {
          return [loadScenario(f, actions)];
        } catch {
          return [];
        }
      });
      const rows = JOURNEY.map((j) => ({
        ...j,
        coveredBy: scenarios.filter((s) => s.journey.includes(j.step)).map((s) => s.name),
      }));
      cli.print(rows, () =>
        rows
          .map((r) => {
            const mark = r.coveredBy.length ? cli.color.green('✓') : cli.color.red('·');
            const by = r.coveredBy.length
              ? r.coveredBy.join(', ')
              : cli.color.dim(`not yet (planned: ${r.scenario})`);
            return `${mark} ${String(r.step).padStart(2)}  ${r.what.slice(0, 70).padEnd(70)}  ${by}`;
          })
          .join('\n'),
      );
    });
};
