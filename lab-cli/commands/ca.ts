// `lab ca`: the certificates the lab's CA issued, revocation, a fresh hierarchy, and the root to trust.

import type { Command } from 'commander';
import type { CommandArgs, CommandName } from '../../services/common/commands.js';
import {
  CERT_HOLDERS,
  type ResetReport,
  type RevokeReport,
  renewEverywhere,
  resetEverywhere,
  revokeEverywhere,
} from '../actions/ca.js';
import { downHint } from '../hints.js';
import type { Runtime } from '../runtime/types.js';
import type { RegisterCommands } from './types.js';

export const register: RegisterCommands = (program, cli) => {
  const ca: Command = program
    .command('ca')
    .description("the lab's certificate authority (ca.test)")
    .addHelpText('after', '\nExample:\n  $ lab ca list');
  const withLab = async <T>(f: (rt: Runtime) => Promise<T>): Promise<T> => {
    try {
      return await f(await cli.runtime());
    } catch (err) {
      return cli.fail(`ca: ${(err as Error).message}`, await downHint(cli));
    }
  };
  const call = <C extends CommandName<'ca'>>(command: C, args?: CommandArgs<'ca', C>) =>
    withLab((rt) => rt.control('ca', command, args));

  ca.command('list')
    .description('every certificate issued: serial, names, status, dates')
    .addHelpText('after', '\nExample:\n  $ lab ca list --json')
    .action(async () => {
      const rows = await call('ca.list');
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
    .description(
      'revoke a certificate: OCSP says revoked at once, the CRL is regenerated, and the hosts that serve it staple "revoked" now',
    )
    .option(
      '--reason <reason>',
      'unspecified, keyCompromise, caCompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn',
      'unspecified',
    )
    .addHelpText('after', '\nExample:\n  $ lab ca revoke www.example.test --reason keyCompromise')
    .action(async (target: string, o: { reason: string }) => {
      const r = await withLab((rt) => revokeEverywhere(rt, target, o.reason));
      cli.print(r, () => revokeText(target, r));
    });

  ca.command('renew [host]')
    .description(
      'the proxy and web2 (or the one named) get a fresh certificate from the CA and staple its answer',
    )
    .addHelpText('after', '\nExample:\n  $ lab ca renew proxy')
    .action(async (host: string | undefined) => {
      if (host && !(CERT_HOLDERS as readonly string[]).includes(host))
        cli.fail(
          `ca renew: ${host} holds no certificate of the lab CA (hosts that do: ${CERT_HOLDERS.join(', ')})`,
        );
      const rows = await withLab((rt) => renewEverywhere(rt, host));
      cli.print(rows, () =>
        rows
          .map((h) =>
            h.serial
              ? `${h.host} serves a new certificate (serial ${h.serial}, OCSP ${h.staple})`
              : `${h.host}: not renewed (${h.error})`,
          )
          .join('\n'),
      );
    });

  ca.command('reset')
    .description(
      'throw the hierarchy away and make a new root, intermediate and OCSP responder; the proxy and web2 get certificates from it and the browser trusts the new root',
    )
    .addHelpText('after', '\nExample:\n  $ lab ca reset && lab run press-enter')
    .action(async () => {
      const r = await withLab(resetEverywhere);
      cli.print(r, () => resetText(r));
    });

  ca.command('trust')
    .description("print the lab's root certificate, and how to trust it in a browser (for workshops)")
    .addHelpText('after', '\nExample:\n  $ lab ca trust > lab-root.pem')
    .action(async () => {
      const r = await call('ca.trust');
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

/** Each revoked certificate and who served it, then what each of those hosts staples now. */
export function revokeText(target: string, r: RevokeReport): string {
  const lines = r.revoked.map(
    (c) =>
      `revoked ${c.serial} (${c.names.join(', ')}): ${c.reason}${c.servedBy.length ? `; served by ${c.servedBy.join(', ')}` : ''}`,
  );
  const holders = [...new Set(r.revoked.flatMap((c) => c.servedBy))];
  if (r.revoked.length > 1 && holders.length > 1)
    lines.push(`${r.revoked.length} certificates name ${target}: ${holders.join(' and ')} each served one`);
  for (const s of r.staples)
    lines.push(s.status === 'revoked' ? `${s.host} now staples "revoked"` : `${s.host} staples: ${s.status}`);
  if (r.staples.length === 0) lines.push('no running host serves it: nothing staples it');
  else lines.push(`to serve good certificates again: lab ca renew`);
  lines.push(
    r.browserForgot
      ? 'the browser forgot the OCSP answers it had verified'
      : 'the browser is not running (it checks afresh when it starts)',
  );
  return lines.join('\n');
}

export function resetText(r: ResetReport): string {
  return [
    `new root ${r.root}`,
    ...r.hosts.map((h) =>
      h.serial
        ? `${h.host} serves a certificate from the new hierarchy (serial ${h.serial}, OCSP ${h.staple})`
        : `${h.host}: not renewed (${h.error}); it gets one from the new hierarchy when it starts`,
    ),
    r.browserForgot
      ? 'the browser trusts the new root (it fetches it from ca.test on its next TLS connection)'
      : 'the browser is not running: its profile still trusts the old root; run lab ca reset again once it is up',
  ].join('\n');
}
