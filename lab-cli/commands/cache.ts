// `lab cache`: the proxy's cache — purge a URL, ban by regex, statistics, parameters, the VCL in use.

import type { Command } from 'commander';
import type { CommandArgs, CommandName } from '../../services/common/commands.js';
import { type VclInfo, vclUseArgs } from '../../services/proxy/vcl-file.js';
import { downHint } from '../hints.js';
import type { RegisterCommands } from './types.js';

export const register: RegisterCommands = (program, cli) => {
  const cache: Command = program
    .command('cache')
    .description("the proxy's cache (Varnish-like)")
    .addHelpText('after', '\nExample:\n  $ lab cache stats');
  const call = async <C extends CommandName<'proxy'>>(command: C, args?: CommandArgs<'proxy', C>) => {
    try {
      return await (await cli.runtime()).control('proxy', command, args);
    } catch (err) {
      return cli.fail(`cache: ${(err as Error).message}`, await downHint(cli));
    }
  };
  cache
    .command('purge <url>')
    .description('remove one URL (every variant) from the cache')
    .addHelpText('after', '\nExample:\n  $ lab cache purge https://www.example.test/hej')
    .action(async (url: string) => {
      try {
        new URL(url);
      } catch {
        cli.fail(`"${url}" is not a URL`, 'example: lab cache purge https://www.example.test/hej', 2);
      }
      const r = await call('cache.purge', { url });
      cli.print(r, () => `purged ${url}: ${r.removed} object(s)`);
    });
  cache
    .command('ban <regex>')
    .description('remove every object whose host+path matches a regular expression')
    .addHelpText('after', "\nExample:\n  $ lab cache ban '^cdn\\.example\\.test/img/'")
    .action(async (regex: string) => {
      try {
        new RegExp(regex);
      } catch (err) {
        cli.fail(
          `"${regex}" is not a regular expression: ${(err as Error).message}`,
          "example: lab cache ban '^www\\.example\\.test/'",
          2,
        );
      }
      const r = await call('cache.ban', { regex });
      cli.print(r, () => `banned /${regex}/: ${r.removed} object(s)`);
    });
  const param = cache
    .command('param')
    .description("the cache's parameters (like varnishadm param.show); `param set` changes one")
    .addHelpText(
      'after',
      '\nExamples:\n  $ lab cache param\n  $ lab cache param set default_ttl 0\n  $ lab cache param set memory_limit 64M',
    )
    .action(async () => {
      const r = await call('cache.param');
      cli.print(r, () =>
        r
          .map((p) => `${p.name.padEnd(22)} ${String(p.value).padEnd(14)} (default ${String(p.default)})`)
          .join('\n'),
      );
    });
  param
    .command('set <name> <value>')
    .description('change one parameter at run time (like varnishadm param.set)')
    .addHelpText('after', '\nExample:\n  $ lab cache param set default_grace 30')
    .action(async (name: string, value: string) => {
      const r = await call('cache.param.set', { name, value });
      cli.print(r, () => `${r.name} = ${String(r.value)}`);
    });
  const vcl = cache
    .command('vcl')
    .description('the VCL in use and its rules (like varnishadm vcl.list); `vcl use` loads another')
    .addHelpText(
      'after',
      '\nExamples:\n  $ lab cache vcl\n  $ lab cache vcl use services/proxy/vcl-examples/cache-with-cookies.mjs\n  $ lab cache vcl use default',
    )
    .action(async () => {
      const r = await call('cache.vcl');
      cli.print(r, () => describeVcl(r));
    });
  vcl
    .command('use <file>')
    .description(
      "compile a VCL file and use it from the next request on (varnishadm vcl.load + vcl.use); 'default' goes back to the built-in VCL. A file that does not compile changes nothing",
    )
    .addHelpText(
      'after',
      '\nExample:\n  $ lab cache vcl use services/proxy/vcl-examples/cache-with-cookies.mjs',
    )
    .action(async (file: string) => {
      let args: ReturnType<typeof vclUseArgs>;
      try {
        args = vclUseArgs(file);
      } catch (err) {
        return cli.fail((err as Error).message, 'example: lab cache vcl use my-vcl.mjs', 2);
      }
      const r = await call('cache.vcl.use', args);
      cli.print(r, () => describeVcl(r));
    });
  cache
    .command('stats')
    .description('hits, misses, passes, objects and bytes in the cache')
    .addHelpText('after', '\nExample:\n  $ lab cache stats --json')
    .action(async () => {
      const r = await call('cache.stats');
      cli.print(r, () =>
        Object.entries(r)
          .map(([k, v]) => `${k.padEnd(16)} ${v}`)
          .join('\n'),
      );
    });
};

/** The VCL in use, as `lab cache vcl` prints it. */
function describeVcl(r: VclInfo): string {
  return [
    `VCL ${r.name}${r.file ? ` (${r.file})` : ''}`,
    `  over the default: ${r.overridden.join(', ') || 'nothing'}`,
    `  recv rules:       ${r.recvRules.join(', ')}`,
    `  beresp rules:     ${r.berespRules.join(', ')}`,
  ].join('\n');
}
