// `lab browser open [chromium|firefox]`: a real browser in the lab, with a throwaway profile that
// trusts the lab's root, its names resolved through the lab. Added to `lab browser` (browse.ts).

import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { labUrl, openRealBrowser, type RealBrowserName } from '../browsers/real-browser.js';
import { refusalName, seenOf } from '../browsers/seen.js';
import { downHint } from '../hints.js';
import type { RegisterCommands } from './types.js';

export const register: RegisterCommands = (program, cli) => {
  const browser: Command =
    program.commands.find((c) => c.name() === 'browser') ??
    program.command('browser').description('the browser host');
  browser
    .command('open [name]')
    .description(
      'start a real browser (chromium or firefox) that trusts the lab root and resolves through the lab',
    )
    .option('--url <url>', 'the page to open', 'https://www.example.test/')
    .option('--screenshot <file>', 'headless: save a PNG of the page (or of the error page) and exit')
    .option(
      '--dns <how>',
      'hosts: names mapped to the lab addresses; doh: the lab resolver over DoH',
      'hosts',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ lab browser open chromium\n  $ lab browser open firefox --dns doh --screenshot page.png\n' +
        '\nThe profile is thrown away: the lab root is trusted only there, never in your own browser.' +
        '\nOn the docker runtime the browser runs on this machine and reaches the containers over their' +
        "\nbridges, not through the middlebox (the lab's own browser host is the one behind the censor).",
    )
    .action(async (name: string | undefined, o: { url: string; screenshot?: string; dns: string }) => {
      const which = (name ?? 'chromium') as RealBrowserName;
      if (which !== 'chromium' && which !== 'firefox')
        cli.fail(`unknown browser "${name}"`, 'lab browser open chromium | firefox', 2);
      if (o.dns !== 'hosts' && o.dns !== 'doh') cli.fail(`--dns ${o.dns}: hosts or doh`, undefined, 2);
      const rt = await cli.runtime();
      let root: { pem: string };
      try {
        root = await rt.control('ca', 'ca.trust');
      } catch (err) {
        return cli.fail(`browser open: ${(err as Error).message}`, await downHint(cli));
      }
      const url = labUrl(o.url, rt.settings);
      const doh =
        o.dns === 'doh' ? (await import('../browsers/doh-url.js')).labDohUrl(rt.settings) : undefined;
      try {
        const cursor = await rt.cursor();
        const r = await openRealBrowser({
          browser: which,
          url,
          settings: rt.settings,
          rootPem: root.pem,
          screenshot: o.screenshot,
          doh,
        });
        await new Promise((done) => setTimeout(done, 300)); // the hosts' last events
        const seen = seenOf(await cursor.read());
        cursor.close?.();
        const refused = seen.refusals.map((c) => refusalName(c)).find(Boolean);
        const shot = o.screenshot && existsSync(o.screenshot) ? o.screenshot : undefined;
        cli.print({ browser: which, url, ...r, output: undefined, seen, refused, screenshot: shot }, () =>
          [
            `${which}: ${url}`,
            r.error ? cli.color.red(`✗ ${which} says: ${r.error}`) : '',
            refused ? cli.color.red(`✗ the browser refused the certificate: TLS alert ${refused}`) : '',
            `the lab saw: ${seen.dnsQueries} DNS queries at the resolver (${seen.dohQueries} over DoH), ${seen.handshakes.length} TLS handshakes, ${seen.requests.length} HTTP requests at the proxy`,
            ...seen.requests.slice(0, 8).map((q) => `  ${q}`),
            o.screenshot
              ? shot
                ? `screenshot: ${shot}`
                : cli.color.yellow(
                    `no screenshot${r.timedOut ? ' (the page never finished loading: an error page?)' : ''}`,
                  )
              : '',
            cli.color.dim(`profile ${r.profile} (trusts the lab root; delete it when done)`),
            cli.color.dim(r.argv.join(' ')),
          ]
            .filter(Boolean)
            .join('\n'),
        );
        if (r.error || refused || (o.screenshot && !shot)) process.exitCode = 1;
      } catch (err) {
        const e = err as Error & { hint?: string };
        cli.fail(`browser open: ${e.message}`, e.hint);
      }
    });
};
