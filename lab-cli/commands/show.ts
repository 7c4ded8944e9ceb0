// `lab show [run]`: a past run's summary, its files and its timeline; `--open` serves its ladder page.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEventLine } from '../../services/common/event-schema.js';
import { renderLadderFiles } from '../render/artifacts.js';
import { renderTimeline } from '../render/timeline.js';
import { RUNS_DIR } from '../scenario/runner.js';
import type { Cli, RegisterCommands } from './types.js';

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
          const { serveRun } = (await import('../render/serve.js')) as {
            serveRun(d: string): Promise<{ url: string; close(): Promise<void> }>;
          };
          const s = await serveRun(dir);
          process.stdout.write(`serving the ladder at ${s.url} (Ctrl-C to stop)\n`);
        } catch (err) {
          cli.fail(`cannot serve the run: ${(err as Error).message}`);
        }
      }
    });
};
