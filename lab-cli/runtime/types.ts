// What the CLI needs of a runtime (local processes or docker containers). Same scenarios, either one.
import type { CommandArgs, CommandName, CommandResult } from '../../services/common/commands.js';
import type { LabEvent } from '../../services/common/events.js';
import type { LabSettings } from '../../services/common/settings.js';

export type HostState = 'running' | 'dead' | 'stopped' | 'off' | 'starting' | 'paused';

export interface HostStatus {
  host: string;
  service: string;
  addresses: string[];
  ports: string[];
  pid?: number;
  state: HostState;
  uptimeMs?: number;
  /** why a host is off or dead, one line */
  reason?: string;
}

export interface UpOptions {
  /** only these hosts (default: every implemented host) */
  hosts?: string[];
  quiet?: boolean;
}

/** A position in every host's event stream; `read` returns events after it and moves it on. */
export interface EventCursor {
  read(): Promise<LabEvent[]>;
  /** stops following (docker: the log and event streams), so a finished run can exit */
  close?(): void;
}

export interface Runtime {
  readonly name: 'local' | 'docker';
  readonly settings: LabSettings;
  up(opts?: UpOptions): Promise<{ started: string[]; alreadyUp: boolean; off: HostStatus[] }>;
  down(opts?: { volumes?: boolean }): Promise<void>;
  status(): Promise<HostStatus[]>;
  isUp(): Promise<boolean>;
  /**
   * one command on a host's control channel (errors carry the service's message), typed by the host's
   * commands (services/common/commands.ts); a host or command named at run time gets `unknown`
   */
  control<H extends string, C extends CommandName<H>>(
    host: H,
    command: C,
    args?: CommandArgs<H, C>,
    timeoutMs?: number,
  ): Promise<CommandResult<H, C>>;
  stop(host: string): Promise<void>;
  start(host: string): Promise<void>;
  restart(host: string): Promise<void>;
  /** a cursor at the current end of every host's events */
  cursor(): Promise<EventCursor>;
  /** the raw log lines of a host (stdout events and stderr), for `lab logs` */
  logs(
    host: string,
    opts: { follow?: boolean; onLine: (line: string) => void; signal?: AbortSignal },
  ): Promise<void>;
  /** docker: a command as root in a host's container, its own netns (e.g. ip6tables for a black hole) */
  inHost?(host: string, argv: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** hosts whose service can run here (built, and with the privileges it needs) */
  available(): Promise<HostStatus[]>;
}
