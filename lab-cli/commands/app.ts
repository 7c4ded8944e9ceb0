// `lab app`: the app server — block a client, add a workshop listener to the kernel, read a profile.

import type { Command } from 'commander';
import type { CommandArgs, CommandName } from '../../services/common/commands.js';
import type { RegisterCommands } from './types.js';

export const register: RegisterCommands = (program, cli) => {
  const app: Command = program
    .command('app')
    .description('the app server (vhosts, kernel, profiler)')
    .addHelpText('after', '\nExample:\n  $ lab app listeners');
  const call = async <C extends CommandName<'app'>>(command: C, args?: CommandArgs<'app', C>) => {
    try {
      return await (await cli.runtime()).control('app', command, args);
    } catch (err) {
      const down = (err as { code?: string }).code === 'ERR_HOST_DOWN';
      return cli.fail(
        `app: ${(err as Error).message}`,
        down ? 'is the lab up? (lab status)' : 'see: lab app --help',
      );
    }
  };
  // an address, or a lab host's name (all its addresses)
  const client = (who: string) =>
    /^[\d.:a-f]+$/i.test(who) && /[.:]/.test(who) ? { ip: who } : { host: who };
  app
    .command('block <client>')
    .description('the IP blocklist listener answers this client (an address or a lab host) with 404')
    .addHelpText('after', '\nExamples:\n  $ lab app block browser\n  $ lab app block 172.28.1.10')
    .action(async (who: string) => {
      const r = await call('app.block', client(who));
      cli.print(r, () => `blocked: ${r.join(', ')}`);
    });
  app
    .command('unblock <client>')
    .description('remove a client from the blocklist')
    .addHelpText('after', '\nExample:\n  $ lab app unblock browser')
    .action(async (who: string) => {
      const r = await call('app.unblock', client(who));
      cli.print(r, () => (r.length ? `still blocked: ${r.join(', ')}` : 'nobody is blocked'));
    });
  app
    .command('listeners')
    .description("the kernel's listeners, event by event, in the order they run")
    .addHelpText('after', '\nExample:\n  $ lab app listeners')
    .action(async () => {
      const r = await call('app.listeners');
      cli.print(r, () =>
        Object.entries(r)
          .map(
            ([ev, ls]) =>
              `${cli.color.bold(ev)}\n${ls.map((l) => `  ${String(l.priority).padStart(5)}  ${l.name}`).join('\n') || '  (none)'}`,
          )
          .join('\n'),
      );
    });
  app
    .command('listen <event>')
    .description('add a workshop listener to a kernel event: throw, answer early, or add a header')
    .option('--action <action>', 'throw | respond | header', 'throw')
    .option('--priority <n>', 'higher runs first (the router is 32, the blocklist 256)', '0')
    .option('--status <code>', 'the status a respond listener answers with', '418')
    .option('--name <name>', 'the listener name (to remove it later)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ lab app listen kernel.request --action throw --priority 100\n  $ lab app listen kernel.request --action respond --status 503 --priority 300 --name Maintenance\n  $ lab app listen kernel.response --action header',
    )
    .action(async (event: string, o: { action: string; priority: string; status: string; name?: string }) => {
      const r = await call('app.listener.add', {
        event,
        action: o.action,
        priority: Number(o.priority),
        status: Number(o.status),
        name: o.name,
      });
      cli.print(
        r,
        () => `added ${r.added.name} on ${event}; remove it with: lab app unlisten ${r.added.name}`,
      );
    });
  app
    .command('unlisten <name>')
    .description('remove a workshop listener by name')
    .addHelpText('after', '\nExample:\n  $ lab app unlisten WorkshopThrowListener')
    .action(async (name: string) => {
      const r = await call('app.listener.remove', { name });
      if (!r.removed) cli.fail(`no listener called "${name}"`, 'see them with: lab app listeners');
      cli.print(r, () => `removed ${name}`);
    });
  app
    .command('profile <token>')
    .description("one request's kernel events and listeners (the X-Debug-Token of a response)")
    .addHelpText('after', '\nExample:\n  $ lab app profile 3fa2c1 --json')
    .action(async (token: string) => {
      const r = await call('app.profile', { token });
      if (!r) return cli.fail(`no profile ${token}`, 'the profiler keeps the last 200 requests');
      cli.print(r, () =>
        [
          `status ${r.status ?? '?'}`,
          ...r.events.map(
            (s) =>
              `${cli.color.bold(s.event)}  ${s.listeners.map((l) => `${l.listener} ${l.dur}µs${l.stoppedPropagation ? ' (stopped propagation)' : ''}`).join(', ') || cli.color.dim('no listener')}`,
          ),
        ].join('\n'),
      );
    });
};
