// The lab's own commands: up, down, status, logs, stop/start/restart, list, run (show is in show.ts).

import { readableLine } from '../../services/common/event-output.js';
import { parseEventLine } from '../../services/common/event-schema.js';
import { runningCapture, stopBackgroundCapture } from '../capture/background.js';
import { JOURNEY } from '../journey.js';
import { terminalPrinter } from '../output.js';
import type { HostStatus } from '../runtime/types.js';
import { listScenarioFiles, loadScenario, ScenarioError, scenarioPath } from '../scenario/load.js';
import { loadActions } from '../scenario/registry.js';
import { runScenario } from '../scenario/runner.js';
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
    .addHelpText(
      'after',
      '\nExamples:\n  $ lab down\n  $ lab --block 127.46 down      # only the lab of block 127.46',
    )
    .action(async (o: { volumes?: boolean }) => {
      const rt = await cli.runtime();
      // a background capture of this lab ends with it (else dumpcap would outlive the lab)
      if (runningCapture(rt.settings)) {
        const c = await stopBackgroundCapture(rt.settings).catch(() => undefined);
        if (c)
          process.stderr.write(`lab: stopped the background capture (dumpcap pid ${c.pid}) in ${c.dir}\n`);
      }
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
    .option('--probes', "also the events of health probes (the proxy's probe of the app, every 2 s)")
    .addHelpText('after', '\nExample:\n  $ lab logs resolver -f')
    .action(async (host: string | undefined, o: { follow?: boolean; probes?: boolean }) => {
      const rt = await cli.runtime();
      const names = host ? [host] : (await rt.status()).filter((h) => h.state !== 'off').map((h) => h.host);
      try {
        await Promise.all(
          names.map((h) =>
            rt.logs(h, {
              follow: o.follow,
              onLine: (line) => {
                const ev = parseEventLine(line);
                if (ev?.probe && !o.probes) return;
                process.stdout.write(
                  ev ? `${cli.color.dim(h.padEnd(10))} ${readableLine(ev)}\n` : `${h.padEnd(10)} ${line}\n`,
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
    .addHelpText('after', '\nExample:\n  $ lab list --json')
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
    .option('--quiz', "ask the scenario's questions first, then run it and check the answers")
    .addHelpText('after', '\nExample:\n  $ lab run press-enter --capture\n  $ lab run scenarios/my-own.yaml')
    .action(async (name: string, o: { capture?: boolean; quiz?: boolean }) => {
      let sc: ReturnType<typeof loadScenario>;
      try {
        sc = loadScenario(scenarioPath(name), await loadActions());
      } catch (err) {
        if (err instanceof ScenarioError) cli.fail(err.message, undefined, 2);
        throw err;
      }
      const rt = await cli.runtime();
      const quiz = o.quiz ? await import('../ui/quiz.js') : undefined;
      const given = quiz && sc.questions.length ? await quiz.askQuestions(sc) : [];
      if (o.quiz && !sc.questions.length)
        console.log(cli.color.dim(`${sc.name} has no questions: running it`));
      try {
        const r = await runScenario(sc, rt, terminalPrinter(), { capture: o.capture });
        if (quiz && r.runDir && sc.questions.length)
          for (const a of quiz.answerQuestions(sc.questions, quiz.runEvents(r.runDir), given))
            console.log(
              `${a.right ? cli.color.green('✓') : cli.color.yellow('•')} ${a.ask} you said ${a.given ?? '?'}; the run says ${a.actual}`,
            );
        // the verdict is printed: exit now, so a runtime handle left open (a docker exec or log
        // stream) cannot keep a finished run alive; stdout to a pipe or file is written synchronously
        process.exit(r.verdict === 'passed' ? 0 : r.verdict === 'skipped' ? EXIT_SKIPPED : 1);
      } catch (err) {
        cli.fail(`run ${name}: ${(err as Error).message}`);
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
            const what = r.what.length > 70 ? `${r.what.slice(0, 69)}…` : r.what;
            return `${mark} ${String(r.step).padStart(2)}  ${what.padEnd(70)}  ${by}`;
          })
          .join('\n'),
      );
    });
};
