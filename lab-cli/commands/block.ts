// `lab block`: the censor on the path (the middlebox) - its rules, and a dry run over a capture.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CommandArgs, CommandName } from '../../services/common/commands.js';
import { dryRun } from '../../services/middlebox/dry-run.js';
import { downHint } from '../hints.js';
import type { RegisterCommands } from './types.js';

const KINDS = `Rules (one per line in a rule file; # starts a comment):
  ip <host|address>[:port]   destination, matched on the SYN (port as in the plan: 443, 80)
  sni <name>                 TLS ClientHello server_name, the name and its subdomains
  host <name>                HTTP Host header
  keyword <word>             a word in the HTTP request target (path and query)
  dns <name>                 DNS question: a forged answer races the real one
Options: rst+ack (RSTs carry ACK), offsets=0,1460,2920 (one RST copy per sequence offset).
Only lab names (*.test) and lab addresses are accepted.

Example:
  $ lab block add sni blocked.test && lab browse https://blocked.test/`;

export const register: RegisterCommands = (program, cli) => {
  const block: Command = program
    .command('block')
    .description('the censor on the path (middlebox): rules that forge RSTs and DNS answers')
    .addHelpText('after', `\n${KINDS}`);
  const call = async <C extends CommandName<'middlebox'>>(command: C, args?: CommandArgs<'middlebox', C>) => {
    try {
      return await (await cli.runtime()).control('middlebox', command, args);
    } catch (err) {
      const e = err as Error & { code?: string };
      if (e.code === 'ERR_BAD_RULE')
        return cli.fail(`block: ${e.message}`, `lab block --help lists the rule kinds`, 2);
      return cli.fail(`block: ${e.message}`, await downHint(cli));
    }
  };
  block
    .command('add <rule...>')
    .description('add a rule (refused, and nothing changes, if it does not parse or leaves the lab)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ lab block add sni blocked.test\n  $ lab block add ip proxy:443 rst+ack\n  $ lab block add dns blocked.test\n  $ lab block add keyword forbidden offsets=0,1460',
    )
    .action(async (words: string[]) => {
      const r = await call('block.add', { rule: words.join(' ') });
      cli.print(r, () => `blocking: ${r.text} (rule ${r.id})`);
    });
  block
    .command('rm <rule...>')
    .description('remove a rule, by its id or its text')
    .addHelpText('after', '\nExamples:\n  $ lab block rm sni blocked.test\n  $ lab block rm 2')
    .action(async (words: string[]) => {
      const r = await call('block.rm', { rule: words.join(' ') });
      cli.print(r, () => `removed: ${r.text}`);
    });
  block
    .command('list')
    .description('the rules in force')
    .addHelpText('after', '\nExample:\n  $ lab block list --json')
    .action(async () => {
      const rules = await call('block.list');
      cli.print(rules, () =>
        rules.length
          ? rules.map((r) => `${String(r.id).padStart(3)}  ${r.text}`).join('\n')
          : 'no rules: nothing is blocked',
      );
    });
  block
    .command('load <file>')
    .description('replace every rule with those of a rule file (all of them parse, or nothing changes)')
    .addHelpText('after', '\nExample:\n  $ lab block load scenarios/rules/censor.rules')
    .action(async (file: string) => {
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        cli.fail(`block load: ${(err as Error).message}`, 'give the path of a rule file', 2);
      }
      const rules = await call('block.load', { text });
      cli.print(
        rules,
        () => `${rules.length} rules in force:\n${rules.map((r) => `  ${r.text}`).join('\n')}`,
      );
    });
  block
    .command('clear')
    .description('remove every rule')
    .addHelpText('after', '\nExample:\n  $ lab block clear')
    .action(async () => {
      await call('block.clear');
      cli.print([], () => 'no rules: nothing is blocked');
    });
  block
    .command('dry-run <capture>')
    .description(
      'play a capture (pcap or pcapng of lo, or of the home network) through rules; print what would be injected',
    )
    .option('--rules <file>', 'a rule file')
    .option('--rule <rule>', 'a rule (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .addHelpText(
      'after',
      '\nExamples:\n  $ lab block dry-run runs/20260101-120000-rst-middlebox/capture.pcapng --rule "sni blocked.test"\n  $ lab block dry-run lo.pcap --rules scenarios/rules/censor.rules --json',
    )
    .action((capture: string, o: { rules?: string; rule: string[] }) => {
      const text = [...(o.rules ? [readFileSync(o.rules, 'utf8')] : []), ...o.rule].join('\n');
      if (!text.trim())
        cli.fail('block dry-run: no rules', 'add --rule "sni blocked.test" or --rules <file>', 2);
      let r: ReturnType<typeof dryRun> | undefined;
      try {
        r = dryRun(readFileSync(capture), text, cli.settings());
      } catch (err) {
        cli.fail(
          `block dry-run: ${(err as Error).message}`,
          'the capture must be pcap or pcapng, the rules lab rules',
          2,
        );
      }
      const res = r as ReturnType<typeof dryRun>;
      cli.print(
        {
          injections: res.outcomes.map(({ ts, outcome }) => ({ ts, ...stripFrames(outcome) })),
          stats: res.stats,
        },
        () =>
          [
            ...res.lines,
            `${res.stats.frames} frames: ${res.stats.matches} matches, ${res.stats.injectedRsts} RSTs and ${res.stats.injectedDns} DNS answers would be injected`,
          ].join('\n'),
      );
    });
};

function stripFrames(o: ReturnType<typeof dryRun>['outcomes'][number]['outcome']): Record<string, unknown> {
  if (o.kind === 'rst') return { ...o, packets: o.packets.map(({ frame: _f, ...p }) => p) };
  if (o.kind === 'dns') {
    const { frame: _f, ...answer } = o.answer;
    return { ...o, answer };
  }
  return o;
}
