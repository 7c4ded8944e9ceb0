// `lab ca`: the certificates the lab's CA issued, revocation, a fresh hierarchy, and the root to trust.
import type { Command } from 'commander';
import type { RegisterCommands } from './types.js';

interface Row {
  serial: string;
  names: string[];
  notBefore: string;
  notAfter: string;
  status: string;
  revokedAt?: string;
  reason?: string;
}

export const register: RegisterCommands = (program, cli) => {
  const ca: Command = program
    .command('ca')
    .description("the lab's certificate authority (ca.test)")
    .addHelpText('after', '\nExample:\n  $ lab ca list');
  const call = async (command: string, args: Record<string, unknown> = {}) => {
    try {
      return await (await cli.runtime()).control('ca', command, args);
    } catch (err) {
      return cli.fail(`ca: ${(err as Error).message}`, 'is the lab up? (lab status)');
    }
  };

  ca.command('list')
    .description('every certificate issued: serial, names, status, dates')
    .addHelpText('after', '\nExample:\n  $ lab ca list --json')
    .action(async () => {
      const rows = (await call('ca.list')) as Row[];
      cli.print(rows, () =>
        rows.length === 0
          ? 'no certificates issued yet'
          : [
              `${'SERIAL'.padEnd(34)} ${'STATUS'.padEnd(22)} ${'NOT AFTER'.padEnd(11)} NAMES`,
              ...rows.map((r) => {
                const st =
                  r.status === 'revoked' ? cli.color.red(`revoked (${r.reason})`) : cli.color.green('good');
                return `${r.serial.padEnd(34)} ${st.padEnd(22)} ${r.notAfter.slice(0, 10).padEnd(11)} ${r.names.join(', ')}`;
              }),
            ].join('\n'),
      );
    });

  ca.command('revoke <nameOrSerial>')
    .description('revoke a certificate: OCSP says revoked at once, and the CRL is regenerated')
    .option(
      '--reason <reason>',
      'unspecified, keyCompromise, caCompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn',
      'unspecified',
    )
    .addHelpText('after', '\nExample:\n  $ lab ca revoke www.example.test --reason keyCompromise')
    .action(async (target: string, o: { reason: string }) => {
      const rows = (await call('ca.revoke', { target, reason: o.reason })) as Row[];
      cli.print(rows, () =>
        rows.map((r) => `revoked ${r.serial} (${r.names.join(', ')}): ${r.reason}`).join('\n'),
      );
    });

  ca.command('reset')
    .description('throw the hierarchy away and make a new root, intermediate and OCSP responder')
    .addHelpText('after', '\nExample:\n  $ lab ca reset')
    .action(async () => {
      const r = (await call('ca.reset')) as { root: string };
      cli.print(r, () => `new root ${r.root}; restart the hosts that hold certificates (lab restart proxy)`);
    });

  ca.command('trust')
    .description("print the lab's root certificate, and how to trust it in a browser (for workshops)")
    .addHelpText('after', '\nExample:\n  $ lab ca trust > lab-root.pem')
    .action(async () => {
      const r = (await call('ca.trust')) as { pem: string; url: string; subject: string };
      cli.print(r, () =>
        [
          r.pem.trim(),
          '',
          cli.color.dim(`${r.subject}; also at ${r.url}`),
          cli.color.dim(
            'Firefox: Settings → Privacy & Security → Certificates → View Certificates → Authorities → Import.',
          ),
          cli.color.dim(
            'Chromium: chrome://settings/certificates → Authorities → Import. Trust it for websites only,',
          ),
          cli.color.dim(
            'and only in a browser profile made for the lab: its name constraints allow only .test.',
          ),
        ].join('\n'),
      );
    });
};
