// `lab browse`, `lab hosts`, `lab browser clear`: the browser host, from the terminal.

import { join } from 'node:path';
import type { Command } from 'commander';
import type { CommandArgs, CommandName } from '../../services/common/commands.js';
import { downHint } from '../hints.js';
import { labAddress, labNameProblem } from '../lab-names.js';
import { claimRunDir, RUNS_DIR } from '../scenario/runner.js';
import type { RegisterCommands } from './types.js';

export const register: RegisterCommands = (program, cli) => {
  const control = async <C extends CommandName<'browser'>>(
    command: C,
    args?: CommandArgs<'browser', C>,
    timeout?: number,
  ) => {
    try {
      return await (await cli.runtime()).control('browser', command, args, timeout);
    } catch (err) {
      return cli.fail(`browser: ${(err as Error).message}`, await downHint(cli));
    }
  };

  program
    .command('browse <text...>')
    .description(
      "type text in the browser's address bar and press Enter: the page as painted, and a waterfall",
    )
    .option('--no-cache', "bypass the browser's HTTP cache")
    .option('--http1', 'offer only HTTP/1.1 in ALPN (six connections per origin)')
    .option('--hard-fail', 'treat an unknown revocation status as an error')
    .option('--har <file>', 'also write the HAR to this file')
    .option(
      '--dns <how>',
      'udp (resolv.conf), or secure DNS to the resolver: dot (RFC 7858) or doh (RFC 8484)',
      'udp',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ lab browse https://www.example.test/hej\n  $ lab browse how to press enter\n  $ lab browse www.sjösten.test',
    )
    .action(
      async (
        words: string[],
        o: { cache: boolean; http1?: boolean; hardFail?: boolean; har?: string; dns: string },
      ) => {
        const dns = o.dns;
        if (dns !== 'udp' && dns !== 'dot' && dns !== 'doh')
          return cli.fail(`--dns ${dns}: udp, dot or doh`, undefined, 2);
        const runDir = claimRunDir(RUNS_DIR, 'browse', cli.settings());
        const r = await control(
          'browse',
          {
            text: words.join(' '),
            noCache: !o.cache,
            http1Only: o.http1,
            hardFailRevocation: o.hardFail,
            dns,
            runDir,
          },
          120_000,
        );
        if (o.har) {
          const { copyFileSync } = await import('node:fs');
          copyFileSync(join(runDir, 'browser.har'), o.har);
        }
        cli.print(r, () =>
          [
            r.error
              ? cli.color.red(`✗ ${r.error.code} (${r.error.step}): ${r.error.message}`)
              : cli.color.green(`${r.status} ${r.finalUrl}`),
            '',
            ...r.painted,
            '',
            ...r.waterfall.map((l, i) => (i === 0 ? cli.color.dim(l) : l)),
            '',
            cli.color.dim(`HAR and TLS keys in ${runDir}`),
          ].join('\n'),
        );
        if (r.error) process.exitCode = 1;
      },
    );

  const hosts: Command = program
    .command('hosts')
    .description("the browser host's hosts file (never the machine's)")
    .addHelpText(
      'after',
      '\nExample:\n  $ lab hosts add www.example.test 172.28.2.81 && lab browse www.example.test',
    );
  hosts
    .command('add <name> <address>')
    .description('point a name at an address for the browser only: no DNS query is sent for it')
    .addHelpText('after', '\nExample:\n  $ lab hosts add www.example.test 172.28.2.81')
    .action(async (name: string, address: string) => {
      const problem = labNameProblem(name);
      if (problem) cli.fail(problem, 'the hosts file is unchanged', 2);
      let runtimeAddress: string;
      try {
        // the same translation as lab dns set: a plan address becomes this lab's
        runtimeAddress = labAddress(address, cli.settings());
      } catch (err) {
        return cli.fail((err as Error).message, 'the hosts file is unchanged', 2);
      }
      const r = await control('hosts.add', { name, address: runtimeAddress });
      cli.print(r, () => `${runtimeAddress}\t${name} added to ${r.path}`);
    });
  hosts
    .command('rm <name>')
    .description('remove a name added with lab hosts add')
    .addHelpText('after', '\nExample:\n  $ lab hosts rm www.example.test')
    .action(async (name: string) => {
      const r = await control('hosts.rm', { name });
      cli.print(r, () => `${name} removed`);
    });
  hosts
    .command('list')
    .description('the hosts file as the browser reads it')
    .addHelpText('after', '\nExample:\n  $ lab hosts list --json')
    .action(async () => {
      const r = await control('hosts.list');
      cli.print(r, () =>
        [
          cli.color.dim(r.path),
          ...Object.entries(r.entries).map(([n, a]) => `${a.join(', ').padEnd(20)} ${n}`),
        ].join('\n'),
      );
    });

  const browser: Command = program
    .command('browser')
    .description('the browser host')
    .addHelpText('after', '\nExample:\n  $ lab browser clear');
  browser
    .command('clear')
    .description('forget the HTTP cache, learned HSTS, cookies and the DNS cache')
    .addHelpText('after', '\nExample:\n  $ lab browser clear && lab browse www.example.test')
    .action(async () => {
      const r = await control('browser.clear');
      cli.print(r, () => `cleared: ${r.cleared.join(', ')}`);
    });
};
