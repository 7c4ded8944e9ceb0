// The control commands of every lab host, by host: the one typed contract the services' handlers
// (services/<service>/commands.ts) and the CLI's calls (lab-cli/runtime: Runtime.control) share.
// A host or command named at run time (a scenario's `control` action) gets AnyCommands: unknown results.
import type { AppCommands, Web2Commands } from '../app/commands.js';
import type { BrowserCommands } from '../browser/commands.js';
import type { CaCommands } from '../ca/commands.js';
import type { MiddleboxCommands } from '../middlebox/commands.js';
import type { NameserverCommands } from '../nameserver/commands.js';
import type { ProxyCommands } from '../proxy/commands.js';
import type { ResolverCommands } from '../resolver/commands.js';
import type { AnyCommands } from './control.js';
import { hosts } from './topology.js';

type None = Record<string, never>;

/** What every host answers (services/common/service.ts). */
export type CommonCommands = {
  ping: { args: None; result: { host: string; pid: number; uptimeMs: number } };
  status: {
    args: None;
    result: { host: string; pid: number; uptimeMs: number; rss: number; commands: string[] };
  };
};

/** A host that serves TLS with a certificate from the CA (services/common/tls-identity.ts). */
export type TlsCommands = {
  'tls.info': { args: None; result: { serial: string; names: string[]; notAfter: string; staple: string } };
  /** a new certificate from the CA, now */
  'tls.renew': { args: None; result: { serial: string; notAfter: string; staple: string } };
  /** a new OCSP answer to staple, now */
  'ocsp.refresh': { args: None; result: { status: string; nextUpdate?: string } };
};

/** Each lab host's own commands. */
export interface HostCommands {
  browser: BrowserCommands;
  middlebox: MiddleboxCommands;
  'ns-root': NameserverCommands;
  'ns-tld': NameserverCommands;
  'ns-example': NameserverCommands;
  ca: CaCommands;
  resolver: ResolverCommands;
  proxy: ProxyCommands;
  app: AppCommands;
  web2: Web2Commands;
}

/** The hosts HostCommands names, at run time: test/unit/common/commands.test.ts holds them to topology.ts. */
export const HOSTS_WITH_COMMANDS = {
  browser: true,
  middlebox: true,
  'ns-root': true,
  'ns-tld': true,
  'ns-example': true,
  ca: true,
  resolver: true,
  proxy: true,
  app: true,
  web2: true,
} as const satisfies Record<keyof HostCommands, true>;

/** The hosts that answer every command of M: HostsAnswering<TlsCommands> is 'proxy' | 'web2'. */
export type HostsAnswering<M> = {
  [H in keyof HostCommands]: HostCommands[H] extends M ? H : never;
}[keyof HostCommands];

/** The hosts that serve TLS with a certificate from the CA (tls.info, tls.renew, ocsp.refresh). */
export const TLS_HOSTS = ['proxy', 'web2'] as const satisfies readonly HostsAnswering<TlsCommands>[];

export function servesTls(host: string): host is (typeof TLS_HOSTS)[number] {
  return (TLS_HOSTS as readonly string[]).includes(host);
}

/** ns-root, ns-tld, ns-example. */
export type NameserverHost = HostsAnswering<NameserverCommands>;

export function isNameserverHost(host: string): host is NameserverHost {
  return hosts.some((h) => h.name === host && h.service === 'nameserver');
}

/** The commands host H answers: its own and the common ones; any command for a host named at run time. */
export type CommandsOf<H extends string> = H extends keyof HostCommands
  ? HostCommands[H] & CommonCommands
  : AnyCommands;
export type CommandName<H extends string> = keyof CommandsOf<H> & string;
export type CommandArgs<H extends string, C extends CommandName<H>> = CommandsOf<H>[C] extends {
  args: infer A;
}
  ? A
  : never;
export type CommandResult<H extends string, C extends CommandName<H>> = CommandsOf<H>[C] extends {
  result: infer R;
}
  ? R
  : never;
