// `lab dns`: change the lab's zones, look at and flush the resolver's cache.

import type { Command } from 'commander';
import { isNameserverHost, type NameserverHost } from '../../services/common/commands.js';
import { hostsOfService } from '../../services/common/topology.js';
import { labNameProblem, labValue, zoneOf } from '../lab-names.js';
import type { Cli, RegisterCommands } from './types.js';

/** The nameserver host that serves the zone holding `name` (the most specific zone wins). */
export async function nameserverFor(cli: Cli, name: string): Promise<{ host: NameserverHost; zone: string }> {
  const problem = labNameProblem(name);
  if (problem) return cli.fail(problem, 'nothing was changed', 2);
  const best = await zoneOf(await cli.runtime(), name);
  if (!best) {
    const up = await (await cli.runtime()).isUp();
    return cli.fail(
      `no running nameserver serves a zone for ${name}`,
      up ? 'lab status shows which nameservers run' : 'is the lab up? (lab up; lab status)',
    );
  }
  return best;
}

export const register: RegisterCommands = (program, cli) => {
  const dns: Command = program
    .command('dns')
    .description("the lab's DNS: zones on the nameservers, the resolver's cache")
    .addHelpText(
      'after',
      '\nExamples:\n  $ lab dns set alias.example.test CNAME search.test\n  $ lab dns cache',
    );

  dns
    .command('set <name> <type> <value...>')
    .description('set a record (replacing that name and type), bump the SOA serial; at once')
    .option('--ttl <seconds>', 'TTL of the record', '300')
    .addHelpText(
      'after',
      '\nExamples:\n  $ lab dns set shop.example.test A 172.28.2.81 --ttl 30\n  $ lab dns set note.example.test TXT \'"hello workshop"\'',
    )
    .action(async (name: string, type: string, value: string[], o: { ttl: string }) => {
      const { host } = await nameserverFor(cli, name);
      try {
        const rec = await (await cli.runtime()).control(host, 'dns.set', {
          // names typed at the CLI are absolute, as dig and a browser read them
          name: `${name.replace(/\.$/, '')}.`,
          type,
          value: labValue(type, value.join(' '), cli.settings()),
          ttl: Number(o.ttl),
        });
        cli.print({ host, record: rec }, () => `${host}: ${rec}`);
      } catch (err) {
        cli.fail(`dns set: ${(err as Error).message}`, 'the zone is unchanged');
      }
    });

  dns
    .command('rm <name> [type]')
    .description('remove a record set (or every record of a name)')
    .addHelpText('after', '\nExample:\n  $ lab dns rm shop.example.test A')
    .action(async (name: string, type: string | undefined) => {
      const { host } = await nameserverFor(cli, name);
      try {
        const r = await (await cli.runtime()).control(host, 'dns.rm', { name, type });
        cli.print({ host, ...r }, () => `${host}: removed ${r.removed} record(s) of ${name}`);
      } catch (err) {
        cli.fail(`dns rm: ${(err as Error).message}`, 'the zone is unchanged');
      }
    });

  dns
    .command('zone <zone>')
    .description('print a zone as it is now, as a master file')
    .addHelpText('after', '\nExample:\n  $ lab dns zone example.test')
    .action(async (zone: string) => {
      const { host } = await nameserverFor(cli, zone);
      try {
        const text = await (await cli.runtime()).control(host, 'dns.zone', { zone });
        cli.print({ host, zone, text }, () => text);
      } catch (err) {
        cli.fail(`dns zone: ${(err as Error).message}`);
      }
    });

  dns
    .command('delay <host> <ms>')
    .description('make a nameserver hold its answers back (a slow authority); 0 to stop')
    .addHelpText('after', '\nExamples:\n  $ lab dns delay ns-example 400\n  $ lab dns delay ns-example 0')
    .action(async (host: string, ms: string) => {
      if (!isNameserverHost(host))
        return cli.fail(
          `${host} is not a nameserver`,
          `nameservers: ${hostsOfService('nameserver')
            .map((h) => h.name)
            .join(', ')}`,
        );
      try {
        const r = await (await cli.runtime()).control(host, 'dns.delay', { ms: Number(ms) });
        cli.print({ host, ...r }, () =>
          r.ms ? `${host}: answers held back ${r.ms} ms` : `${host}: answers go out at once`,
        );
      } catch (err) {
        cli.fail(`dns delay: ${(err as Error).message}`);
      }
    });

  dns
    .command('flush [name]')
    .description("empty the resolver's cache, or forget one name")
    .addHelpText('after', '\nExample:\n  $ lab dns flush www.example.test')
    .action(async (name: string | undefined) => {
      try {
        const r = await (await cli.runtime()).control('resolver', 'dns.flush', { name });
        cli.print(r, () => `resolver: forgot ${r.removed} cache entries${name ? ` for ${name}` : ''}`);
      } catch (err) {
        cli.fail(`dns flush: ${(err as Error).message}`);
      }
    });

  dns
    .command('cache')
    .description("the resolver's cache as a table, with the TTL each entry has left")
    .addHelpText('after', '\nExample:\n  $ lab dns cache --json')
    .action(async () => {
      try {
        const rows = await (await cli.runtime()).control('resolver', 'dns.cache');
        cli.print(rows, () => {
          if (!rows.length) return 'the cache is empty';
          const lines = rows.map((r) => {
            const ttl = r.ttl > 0 ? `${r.ttl}s` : cli.color.yellow(`stale ${-r.ttl}s`);
            const what =
              r.kind === 'positive' || r.kind === 'delegation'
                ? r.records.map((x) => x.split(' IN ')[1] ?? x).join(', ')
                : r.kind.toUpperCase();
            return `${r.name.padEnd(28)} ${r.type.padEnd(16)} ${ttl.padStart(8)}  ${what}`;
          });
          return [`${'NAME'.padEnd(28)} ${'TYPE'.padEnd(16)} ${'TTL'.padStart(8)}  DATA`, ...lines].join(
            '\n',
          );
        });
      } catch (err) {
        cli.fail(`dns cache: ${(err as Error).message}`);
      }
    });
};
