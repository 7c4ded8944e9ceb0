// Every command and every group of `lab` has --help with an example (the README promises it).
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../lab-cli/commands/index.js';
import type { Cli } from '../../../lab-cli/commands/types.js';

function program(): Command {
  const p = new Command('lab');
  const cli = { color: {} } as unknown as Cli;
  for (const mod of COMMANDS) mod.register(p, cli);
  return p;
}

function helpOf(cmd: Command): string {
  let out = '';
  cmd.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  cmd.outputHelp();
  return out;
}

function all(cmd: Command, path: string[] = []): { path: string; cmd: Command }[] {
  return cmd.commands.flatMap((c) => [
    { path: [...path, c.name()].join(' '), cmd: c },
    ...all(c, [...path, c.name()]),
  ]);
}

describe('lab --help', () => {
  it('shows an example for every command and group', () => {
    const missing = all(program())
      .filter(({ cmd }) => !/\nExamples?:\n\s+\$ lab /.test(helpOf(cmd)))
      .map(({ path }) => path);
    expect(missing).toEqual([]);
  });
});
