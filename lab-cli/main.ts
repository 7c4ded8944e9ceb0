#!/usr/bin/env node
// `lab`: start the lab, run scenarios, look at what happened. Subcommands live in lab-cli/commands/.
import { Command, CommanderError } from 'commander';
import { type LabSettings, settingsFromEnv } from '../services/common/settings.js';
import { COMMANDS } from './commands/index.js';
import type { Cli } from './commands/types.js';
import { color } from './output.js';
import { openRuntime } from './runtime/index.js';
import type { Runtime } from './runtime/types.js';

const program = new Command('lab')
  .description('enterlab: what happens when you type a URL and press Enter, on real hosts and real sockets')
  .option(
    '--runtime <name>',
    'local (processes on this machine) or docker (containers)',
    process.env.LAB_RUNTIME,
  )
  .option('--block <127.N>', 'loopback block of the local runtime', process.env.LAB_BLOCK)
  .option('--state <dir>', 'state directory of the lab (pids, logs, host state)', process.env.LAB_STATE_DIR)
  .option('--json', 'print data as JSON')
  .addHelpText('after', '\nExample:\n  $ lab run press-enter\n  $ lab browse https://www.example.test/hej')
  .showHelpAfterError()
  .exitOverride();

let runtimeCache: Runtime | undefined;

const cli: Cli = {
  settings(): LabSettings {
    const o = program.opts<{ runtime?: string; block?: string; state?: string }>();
    try {
      return settingsFromEnv(process.env, {
        runtime: o.runtime as LabSettings['runtime'] | undefined,
        block: o.block,
        stateDir: o.state,
      });
    } catch (err) {
      return cli.fail((err as Error).message, undefined, 2);
    }
  },
  async runtime() {
    runtimeCache ??= await openRuntime(cli.settings());
    return runtimeCache;
  },
  print(data, text) {
    if (program.opts().json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else process.stdout.write(text().replace(/\n?$/, '\n'));
  },
  color,
  fail(message, hint, code = 1): never {
    process.stderr.write(`lab: ${message}\n`);
    if (hint) process.stderr.write(`     ${hint}\n`);
    process.exit(code);
  },
};

function loadCommands(): void {
  for (const mod of COMMANDS) mod.register(program, cli);
}

async function main(): Promise<void> {
  loadCommands();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    cli.fail((err as Error).message);
  }
}

await main();
