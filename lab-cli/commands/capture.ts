// `lab capture start|stop` (a capture across several commands) and `lab capture --live` (pcapng on
// stdout, for `| wireshark -k -i -`).
import { join } from 'node:path';
import { startBackgroundCapture, stopBackgroundCapture } from '../capture/background.js';
import { dumpcapArgs, startDumpcap } from '../capture/dumpcap.js';
import { CAPTURE_FILE, enrichCapture } from '../capture/enrich.js';
import { browserKeylog, eventsBetween, liveKeylog } from '../capture/sources.js';
import { renderLadderFiles } from '../render/artifacts.js';
import { RUNS_DIR } from '../scenario/runner.js';
import type { Cli, RegisterCommands } from './types.js';

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

function failCapture(cli: Cli, err: unknown): never {
  const e = err as Error & { hint?: string };
  return cli.fail(e.message, e.hint);
}

export const register: RegisterCommands = (program, cli) => {
  const capture = program
    .command('capture')
    .description('record the lab’s packets: start/stop around anything you do, or --live into Wireshark')
    .option('--live', 'write pcapng to stdout as packets arrive (pipe it into wireshark -k -i -)')
    .addHelpText(
      'after',
      '\nExample:\n  $ lab capture --live | wireshark -k -i -\n  $ lab capture start && lab browse www.example.test && lab capture stop',
    )
    .action(async (o: { live?: boolean }) => {
      if (!o.live) return void capture.help();
      if (process.stdout.isTTY)
        cli.fail('--live writes binary pcapng: pipe it', 'lab capture --live | wireshark -k -i -');
      const s = cli.settings();
      let p: Awaited<ReturnType<typeof startDumpcap>>;
      try {
        p = await startDumpcap(dumpcapArgs(s, '-'), { stdout: 'pipe' });
      } catch (err) {
        failCapture(cli, err);
      }
      p.child.stdout?.pipe(process.stdout);
      const keys = await liveKeylog(await cli.runtime());
      process.stderr.write(
        `lab: capturing live (Ctrl-C to stop); to decrypt TLS in Wireshark: -o tls.keylog_file:${keys.path}\n`,
      );
      // stop when the reader goes away (Wireshark closed) or on Ctrl-C / SIGTERM
      const stop = async () => {
        const stats = await p.stop();
        keys.stop();
        process.stderr.write(`lab: ${stats.packets} packets, ${stats.dropped} dropped\n`);
        process.exit(0);
      };
      process.stdout.on('error', stop);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await new Promise((r) => p.child.once('close', r));
    });

  capture
    .command('start')
    .description('start recording every lab packet in the background (until lab capture stop)')
    .addHelpText(
      'after',
      '\nExample:\n  $ lab capture start && lab browse www.example.test && lab capture stop',
    )
    .action(async () => {
      const s = cli.settings();
      // a capture of a lab that is down would record nothing, and outlive the next lab down
      if (!(await (await cli.runtime()).isUp()))
        cli.fail('the lab is down: there is nothing to capture', 'lab up first, then lab capture start');
      try {
        const c = await startBackgroundCapture(s, join(RUNS_DIR, `${stamp()}-capture`));
        cli.print(
          c,
          () =>
            `capturing (dumpcap pid ${c.pid}) into ${join(c.dir, CAPTURE_FILE)}; stop with: lab capture stop`,
        );
      } catch (err) {
        failCapture(cli, err);
      }
    });

  capture
    .command('stop')
    .description('stop the background capture; embed TLS secrets, host names and event comments')
    .addHelpText(
      'after',
      '\nExample:\n  $ lab capture stop && tshark -r runs/*-capture/capture.pcapng -N n -Y http2',
    )
    .action(async () => {
      const s = cli.settings();
      try {
        const c = await stopBackgroundCapture(s);
        const runtime = await cli.runtime();
        const events = await eventsBetween(runtime, c.startedAt, c.stoppedAt);
        const keylog = await browserKeylog(runtime, c.dir);
        const enriched = await enrichCapture(s, c.dir, events, {
          keylog,
          title: 'enterlab capture (lab capture start/stop)',
          expectedPackets: c.stats.packets,
        });
        if (events.length) await renderLadderFiles(c.dir, events, 'lab capture start/stop');
        const pcap = join(c.dir, CAPTURE_FILE);
        cli.print({ ...c, ...enriched, pcap }, () =>
          [
            `${c.stats.packets} packets, ${c.stats.dropped} dropped, ${enriched.comments} commented, TLS secrets ${enriched.secrets ? 'embedded' : 'none'}`,
            `→ ${pcap}`,
            cli.color.dim(`open it: wireshark ${pcap}`),
          ].join('\n'),
        );
      } catch (err) {
        failCapture(cli, err);
      }
    });
};
