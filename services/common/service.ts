// main() for every service: read settings, open the control channel, start, print `service.ready`,
// shut down cleanly on SIGTERM, and exit non-zero with one clear line on a fatal error.
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CommonCommands } from './commands.js';
import { type AnyCommands, type CommandMap, type ControlServer, startControlServer } from './control.js';
import { createEmitter, type Emitter, type EventShape } from './events.js';
import { capOwnLogs } from './log-cap.js';
import type { ServiceEvent } from './service-events.js';
import {
  address6Of,
  addressOf,
  allAddressesOf,
  controlSocketPath,
  hostStateDir,
  type LabSettings,
  port,
  settingsFromEnv,
} from './settings.js';
import { type HostSpec, hostSpec, type NetworkName, type ServiceName } from './topology.js';

/**
 * What a service's start function gets; E is the union of the events it emits (its events.ts), M the
 * map of the control commands it answers (its commands.ts).
 */
export interface ServiceContext<E extends EventShape = EventShape, M extends CommandMap = AnyCommands> {
  host: string;
  spec: HostSpec;
  settings: LabSettings;
  events: Emitter<E>;
  control: ControlServer<M>;
  /** this host's private state directory (created) */
  stateDir: string;
  /** this host's runtime IPv4 address on a network (default: the one the lab sees) */
  address(network?: NetworkName): string;
  /** this host's IPv6 address, or undefined when the lab runs without IPv6 */
  address6(network?: NetworkName): string | undefined;
  /** every address of this host */
  addresses(): string[];
  /** a well-known port with the runtime's offset */
  port(wellKnown: number): number;
}

export interface RunningService {
  /** what is listening, for the ready event: e.g. ["udp 127.28.2.11:53", "tcp 127.28.2.11:53"] */
  listening: string[];
  /** why the host runs but does not do its job here (e.g. no root for raw packets): `lab status` shows it */
  off?: string;
  /** close sockets and finish in-flight work */
  close(): Promise<void>;
}

export type ServiceStart<E extends EventShape = EventShape, M extends CommandMap = AnyCommands> = (
  ctx: ServiceContext<E, M>,
) => Promise<RunningService>;

/** Turns a start error into the one line a user reads ("port 53 on 127.28.2.11 is in use"). */
export function describeFatal(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.code === 'EADDRINUSE') return `port ${e.port} on ${e.address} is in use by another program`;
  if (e?.code === 'EADDRNOTAVAIL') return `address ${e.address} is not configured on this machine`;
  if (e?.code === 'EACCES' && e.port !== undefined)
    return `no permission to bind port ${e.port} (run as root)`;
  return e instanceof Error ? e.message : String(err);
}

export async function runService<E extends EventShape = EventShape, M extends CommandMap = AnyCommands>(
  service: ServiceName,
  start: ServiceStart<E, M>,
): Promise<void> {
  let host = process.env.LAB_HOST ?? service;
  try {
    const { values } = parseArgs({ options: { host: { type: 'string' } }, strict: true });
    host = values.host ?? host;
    const spec = hostSpec(host);
    if (spec.service !== service)
      throw new Error(`host ${host} runs the ${spec.service} service, not ${service}`);
    const settings = settingsFromEnv();
    const stateDir = hostStateDir(host, settings);
    mkdirSync(stateDir, { recursive: true });
    capOwnLogs(); // local runtime: events.jsonl and stderr.log stay under LAB_LOG_MAX_MB each
    const events = createEmitter<E | ServiceEvent>(host);
    const control = await startControlServer<M & CommonCommands>(controlSocketPath(host, settings));
    const started = Date.now();
    control.register('ping', () => ({ host, pid: process.pid, uptimeMs: Date.now() - started }));
    control.register('status', () => ({
      host,
      pid: process.pid,
      uptimeMs: Date.now() - started,
      rss: process.memoryUsage().rss,
      commands: control.commands(),
    }));
    const ctx: ServiceContext<E, M> = {
      host,
      spec,
      settings,
      events,
      control,
      stateDir,
      address: (net) => addressOf(host, settings, net),
      address6: (net) => (settings.ipv6 ? address6Of(host, settings, net) : undefined),
      addresses: () => allAddressesOf(host, settings),
      port: (p) => port(p, settings),
    };
    const running = await start(ctx);
    events.emit({
      kind: 'service.ready',
      summary: running.off
        ? `${host} (${service}) is running but off: ${running.off}`
        : `${host} (${service}) is ready: ${running.listening.join(', ')}`,
      data: { service, pid: process.pid, listening: running.listening, off: running.off },
    });
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      const force = setTimeout(() => process.exit(0), 5000);
      force.unref();
      try {
        await running.close();
        await control.close();
      } finally {
        events.emit({ kind: 'service.stop', summary: `${host} stopped (${signal})`, data: { signal } });
        process.exit(0);
      }
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  } catch (err) {
    process.stderr.write(`lab: ${host}: ${describeFatal(err)}\n`);
    process.exit(1);
  }
}

/** Logs an unexpected error from a socket handler without dying: no service crashes on input. */
export function guard(events: Emitter<ServiceEvent>, where: string, err: unknown): void {
  events.emit({
    kind: 'service.error',
    summary: `${where}: ${err instanceof Error ? err.message : String(err)}`,
    data: { where, stack: err instanceof Error ? err.stack?.split('\n').slice(0, 4).join(' | ') : undefined },
  });
}
