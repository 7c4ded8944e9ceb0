// `lab ui`: the lab as a live web page (hosts, events, ladder, address bar, scenarios, controls).

import { RUNS_DIR } from '../scenario/runner.js';
import { startUi } from '../ui/server.js';
import type { RegisterCommands } from './types.js';

export const register: RegisterCommands = (program, cli) => {
  program
    .command('ui')
    .description('serve the lab as a live web page: hosts, events, ladder, address bar, scenarios, controls')
    .option(
      '--listen <address>',
      'address to listen on (a classroom: the address students can reach)',
      '127.0.0.1',
    )
    .option('--port <port>', 'port to listen on (0: any free port, printed)', '0')
    .addHelpText(
      'after',
      '\nThe link it prints carries a random token: only people given the link can see or drive the lab.\n' +
        '\nExamples:\n  $ lab ui\n  $ lab ui --listen 192.168.1.20 --port 8080',
    )
    .action(async (o: { listen: string; port: string }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        cli.fail(`--port ${o.port} is not a port number`, 'example: lab ui --port 8080', 2);
      const rt = await cli.runtime();
      let ui: Awaited<ReturnType<typeof startUi>>;
      try {
        ui = await startUi(rt, { host: o.listen, port, runsDir: RUNS_DIR });
      } catch (err) {
        return cli.fail(`ui: cannot listen on ${o.listen}:${port}: ${(err as Error).message}`);
      }
      const up = await rt.isUp();
      cli.print({ url: ui.url, labUp: up }, () =>
        [
          `${cli.color.bold('lab ui')} on ${cli.color.cyan(ui.url)}`,
          up
            ? ''
            : cli.color.yellow('the lab is not up: start it with `lab up` (the page shows it when it is)'),
          cli.color.dim('Ctrl-C stops the page (the lab stays up)'),
        ]
          .filter(Boolean)
          .join('\n'),
      );
      const stop = () => void ui.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
};
