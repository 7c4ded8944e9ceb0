// `lab` subcommands: each service's issue adds lab-cli/commands/<name>.ts exporting
// `register(program, cli)`. main.ts loads every module in this folder.
import type { Command } from 'commander';
import type { LabSettings } from '../../services/common/settings.js';
import type { Runtime } from '../runtime/types.js';

export interface Cli {
  /** settings from the global options (--runtime, --block, --state) and the environment */
  settings(): LabSettings;
  /** the runtime chosen by the global options */
  runtime(): Promise<Runtime>;
  /** writes data as JSON when --json was given, else calls the text printer */
  print(data: unknown, text: () => string): void;
  /** colour helpers that return plain text when stdout is not a TTY */
  color: {
    bold(s: string): string;
    dim(s: string): string;
    red(s: string): string;
    green(s: string): string;
    yellow(s: string): string;
    cyan(s: string): string;
  };
  /** prints `lab: <message>` (and a hint) on stderr and exits with the code */
  fail(message: string, hint?: string, code?: number): never;
}

export type RegisterCommands = (program: Command, cli: Cli) => void;
