// The local runtime: every host a Node process on this machine, bound to its loopback projection
// (172.28.N.M → <block>.N.M). Pids and logs live in the lab's state dir; `down` kills by pid only.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { CommandArgs, CommandName, CommandResult } from '../../services/common/commands.js';
import { controlCall } from '../../services/common/control.js';
import type { LabEvent } from '../../services/common/events.js';
import {
  controlSocketPath,
  hostStateDir,
  type LabSettings,
  PROJECT_ROOT,
  settingsEnv,
} from '../../services/common/settings.js';
import { hostSpec, hosts } from '../../services/common/topology.js';
import { builtHosts, serviceEntry } from './built.js';
import { addLoopbackIpv6, removeLoopbackIpv6 } from './loopback.js';
import { FileTail, lastReady, tailEvents, waitForReady } from './tail.js';
import type { EventCursor, HostStatus, Runtime, UpOptions } from './types.js';

interface HostRecord {
  pid: number;
  startedAt: number;
  service: string;
  /** the process's start time in clock ticks since boot (/proc/<pid>/stat field 22): a pid reused
   * by another process after a reboot or a wrap has another start time */
  startTicks?: number;
}

interface LabState {
  settings: LabSettings;
  hosts: Record<string, HostRecord | undefined>;
  ipv6Added: string[];
}

const STOP_TIMEOUT_MS = 5000;
const READY_TIMEOUT_MS = 20_000;

/**
 * The hosts that start only once others are ready. The proxy and web2 get their first certificate
 * through ACME as they start (services/common/acme-certificate.ts): the CA checks each name through
 * the lab's resolver and nameservers, then on port 80 of the address the name has; web2's names
 * point at the proxy, which relays the CA's checks to web2. docker-compose.yml says the same with
 * depends_on.
 */
export const STARTS_AFTER: Readonly<Record<string, readonly string[]>> = {
  proxy: ['ca', 'resolver', 'ns-root', 'ns-tld', 'ns-example'],
  web2: ['proxy'],
};

export function eventsFile(host: string, s: LabSettings): string {
  return join(hostStateDir(host, s), 'events.jsonl');
}

export function stderrFile(host: string, s: LabSettings): string {
  return join(hostStateDir(host, s), 'stderr.log');
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count from the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

/**
 * Why a recorded pid is not this lab's host process, or undefined when it is. Checked before every
 * signal: the command line names the host, the environment names this lab's block and state dir,
 * and the start time is the one recorded (never signal a recycled pid or another lab's host).
 */
export function notOurProcess(rec: HostRecord, host: string, s: LabSettings): string | undefined {
  let cmd: string[];
  let env: string;
  try {
    cmd = readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8').split('\0');
    env = readFileSync(`/proc/${rec.pid}/environ`, 'utf8');
  } catch {
    return `pid ${rec.pid} has exited`;
  }
  if (!(cmd.includes('--host') && cmd[cmd.indexOf('--host') + 1] === host))
    return `pid ${rec.pid} is now another program (${cmd.join(' ').trim().slice(0, 60)})`;
  const envBlock = /(?:^|\0)LAB_BLOCK=([^\0]*)/.exec(env)?.[1];
  const envState = /(?:^|\0)LAB_STATE_DIR=([^\0]*)/.exec(env)?.[1];
  if (envBlock !== s.block || envState !== s.stateDir)
    return `pid ${rec.pid} is the ${host} of another lab (block ${envBlock}, state ${envState})`;
  if (rec.startTicks !== undefined && processStartTicks(rec.pid) !== rec.startTicks)
    return `pid ${rec.pid} was reused by another ${host} process`;
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class LocalRuntime implements Runtime {
  readonly name = 'local' as const;
  private readonly statePath: string;
  /** the state file names another lab (another block or state dir): read, said, never acted on */
  private foreign: string | undefined;
  private readonly said = new Set<string>();

  constructor(
    readonly settings: LabSettings,
    /** where warnings go (stderr for the CLI) */
    private readonly warn: (line: string) => void = (line) => process.stderr.write(`lab: ${line}\n`),
  ) {
    this.statePath = join(settings.stateDir, 'lab.json');
  }

  private say(line: string): void {
    if (this.said.has(line)) return;
    this.said.add(line);
    this.warn(line);
  }

  private load(): LabState {
    const empty: LabState = { settings: this.settings, hosts: {}, ipv6Added: [] };
    this.foreign = undefined;
    if (!existsSync(this.statePath)) return empty;
    let state: LabState;
    try {
      state = JSON.parse(readFileSync(this.statePath, 'utf8')) as LabState;
    } catch (err) {
      this.foreign = `${this.statePath} is not a lab state file (${(err as Error).message})`;
      this.say(`${this.foreign}; ignored, nothing in it is stopped`);
      return empty;
    }
    const block = state.settings?.block;
    const dir = state.settings?.stateDir;
    if (block !== this.settings.block || dir !== this.settings.stateDir) {
      const pids = Object.values(state.hosts ?? {})
        .filter((h) => h)
        .map((h) => h?.pid)
        .join(' ');
      this.foreign = `${this.statePath} names the lab of block ${block} in ${dir} (pids ${pids || 'none'}), not this one (block ${this.settings.block})`;
      this.say(
        `${this.foreign}: a copied checkout or another --block? Nothing in it is stopped or reused; remove the file when that lab is gone`,
      );
      return empty;
    }
    return state;
  }

  private save(state: LabState): void {
    mkdirSync(this.settings.stateDir, { recursive: true });
    if (this.foreign && existsSync(this.statePath)) {
      // keep the other lab's record for whoever owns it, out of this lab's way
      const aside = `${this.statePath}.foreign-${Date.now()}`;
      renameSync(this.statePath, aside);
      this.say(`the other lab's state file was moved to ${aside}`);
      this.foreign = undefined;
    }
    const tmp = `${this.statePath}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 2));
    renameSync(tmp, this.statePath);
  }

  async available(): Promise<HostStatus[]> {
    return builtHosts(this.settings);
  }

  private alive(state: LabState, host: string): boolean {
    const h = state.hosts[host];
    return !!h && notOurProcess(h, host, this.settings) === undefined;
  }

  async isUp(): Promise<boolean> {
    const state = this.load();
    const started = Object.keys(state.hosts).filter((h) => state.hosts[h]);
    return started.length > 0 && started.every((h) => this.alive(state, h));
  }

  async up(opts: UpOptions = {}): Promise<{ started: string[]; alreadyUp: boolean; off: HostStatus[] }> {
    const avail = await this.available();
    const off = avail.filter((a) => a.state === 'off');
    const wanted = avail.filter((a) => a.state !== 'off' && (!opts.hosts || opts.hosts.includes(a.host)));
    const state = this.load();
    const missing = wanted.filter((w) => !this.alive(state, w.host)).map((w) => w.host);
    if (missing.length === 0) return { started: [], alreadyUp: true, off };
    if (this.settings.ipv6 && state.ipv6Added.length === 0) {
      try {
        state.ipv6Added = addLoopbackIpv6(this.settings);
      } catch (err) {
        throw new Error(
          `could not add the lab's IPv6 addresses to lo (${(err as Error).message.split('\n')[0]}); run with LAB_IPV6=0 to start without IPv6`,
        );
      }
      this.save(state);
    }
    const started: string[] = [];
    // every host at once, except those of STARTS_AFTER, which wait until what they need is ready; a
    // failure stops only that host (and those after it), then it is all or nothing
    const starting = new Map<string, Promise<void>>();
    const start = (host: string): Promise<void> => {
      let p = starting.get(host);
      if (!p) {
        p = (async () => {
          await Promise.all((STARTS_AFTER[host] ?? []).filter((d) => missing.includes(d)).map(start));
          await this.spawnHost(host, state);
          started.push(host);
        })();
        starting.set(host, p);
      }
      return p;
    };
    const failed = (await Promise.allSettled(missing.map(start))).find((r) => r.status === 'rejected');
    if (failed) {
      for (const h of started) await this.killHost(h, state);
      if (Object.values(state.hosts).every((h) => !h)) this.releaseIpv6(state);
      this.save(state);
      throw (failed as PromiseRejectedResult).reason;
    }
    started.sort((a, b) => missing.indexOf(a) - missing.indexOf(b));
    return { started, alreadyUp: false, off };
  }

  private async spawnHost(host: string, state: LabState): Promise<void> {
    const spec = hostSpec(host);
    const dir = hostStateDir(host, this.settings);
    mkdirSync(dir, { recursive: true });
    const evPath = eventsFile(host, this.settings);
    const errPath = stderrFile(host, this.settings);
    const from = existsSync(evPath) ? statSync(evPath).size : 0;
    const errFrom = existsSync(errPath) ? statSync(errPath).size : 0;
    const out = openSync(evPath, 'a');
    const err = openSync(errPath, 'a');
    const child = spawn(process.execPath, [serviceEntry(spec.service), '--host', host], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...settingsEnv(this.settings), LAB_HOST: host },
      stdio: ['ignore', out, err],
      detached: true,
    });
    closeSync(out);
    closeSync(err);
    let exited: number | null | undefined;
    child.on('exit', (code) => {
      exited = code;
    });
    child.unref();
    const tail = new FileTail(evPath, from);
    const t0 = Date.now();
    await waitForReady(tail, () => {
      if (exited !== undefined) {
        const why = readFileSync(errPath, 'utf8').slice(errFrom).trim().split('\n').pop();
        throw new Error(why || `${host} exited with code ${exited} before it was ready`);
      }
      if (Date.now() - t0 > READY_TIMEOUT_MS) {
        child.kill('SIGKILL');
        throw new Error(`${host} was not ready after ${READY_TIMEOUT_MS / 1000} s (see lab logs ${host})`);
      }
    });
    const pid = child.pid as number;
    state.hosts[host] = {
      pid,
      startedAt: Date.now(),
      service: spec.service,
      startTicks: processStartTicks(pid),
    };
    this.save(state);
  }

  private async killHost(host: string, state: LabState): Promise<void> {
    const h = state.hosts[host];
    state.hosts[host] = undefined;
    if (!h) return;
    const not = notOurProcess(h, host, this.settings);
    if (not) {
      if (!not.endsWith('has exited')) this.say(`${host}: ${not}; left alone`);
      return;
    }
    const ours = () => notOurProcess(h, host, this.settings) === undefined;
    try {
      process.kill(h.pid, 'SIGTERM');
    } catch {
      return;
    }
    const t0 = Date.now();
    while (ours() && Date.now() - t0 < STOP_TIMEOUT_MS) await sleep(20);
    if (ours()) process.kill(h.pid, 'SIGKILL');
    while (ours()) await sleep(10);
  }

  private releaseIpv6(state: LabState): void {
    removeLoopbackIpv6(state.ipv6Added);
    state.ipv6Added = [];
  }

  async down(): Promise<void> {
    const state = this.load();
    if (this.foreign) return; // said by load(): another lab's file is never acted on
    await Promise.all(hosts.map((h) => this.killHost(h.name, state)));
    this.releaseIpv6(state);
    rmSync(this.statePath, { force: true });
  }

  async status(): Promise<HostStatus[]> {
    const state = this.load();
    return (await this.available()).map((a) => {
      const h = state.hosts[a.host];
      if (a.state === 'off') return a;
      const ports = this.readyPorts(a.host);
      if (!h) return { ...a, ports, state: 'stopped' };
      const not = notOurProcess(h, a.host, this.settings);
      return {
        ...a,
        ports,
        pid: h.pid,
        state: not ? 'dead' : 'running',
        uptimeMs: not ? undefined : Date.now() - h.startedAt,
        reason: not
          ? not.endsWith('has exited')
            ? this.lastError(a.host)
            : `${not}; not signalled`
          : this.offReason(a.host),
      };
    });
  }

  /** What the host said it listens on, from its last service.ready event. */
  private readyPorts(host: string): string[] {
    const ready = this.lastReady(host);
    return (ready?.data?.listening as string[] | undefined) ?? [];
  }

  private offReason(host: string): string | undefined {
    const off = this.lastReady(host)?.data?.off;
    return typeof off === 'string' ? off : undefined;
  }

  private lastReady(host: string): LabEvent | undefined {
    return lastReady(eventsFile(host, this.settings));
  }

  private lastError(host: string): string | undefined {
    const path = stderrFile(host, this.settings);
    if (!existsSync(path)) return 'killed (no exit message)';
    const last = readFileSync(path, 'utf8').trim().split('\n').pop();
    return last || 'killed (no exit message)';
  }

  async control<H extends string, C extends CommandName<H>>(
    host: H,
    command: C,
    args?: CommandArgs<H, C>,
    timeoutMs?: number,
  ): Promise<CommandResult<H, C>> {
    hostSpec(host);
    return controlCall<CommandResult<H, C>>(
      controlSocketPath(host, this.settings),
      command,
      args ?? {},
      timeoutMs,
    );
  }

  async stop(host: string): Promise<void> {
    hostSpec(host);
    const state = this.load();
    await this.killHost(host, state);
    this.save(state);
  }

  async start(host: string): Promise<void> {
    hostSpec(host);
    const state = this.load();
    if (this.alive(state, host)) return;
    if (!existsSync(serviceEntry(hostSpec(host).service))) throw new Error(`${host} is not built`);
    await this.spawnHost(host, state);
  }

  async restart(host: string): Promise<void> {
    await this.stop(host);
    await this.start(host);
  }

  async cursor(): Promise<EventCursor> {
    return tailEvents(hosts.map((h) => eventsFile(h.name, this.settings)));
  }

  async logs(host: string, opts: { follow?: boolean; onLine: (line: string) => void; signal?: AbortSignal }) {
    hostSpec(host);
    const tails = [
      new FileTail(eventsFile(host, this.settings), 0),
      new FileTail(stderrFile(host, this.settings), 0),
    ];
    for (;;) {
      for (const t of tails) for (const line of await t.lines()) opts.onLine(line);
      if (!opts.follow || opts.signal?.aborted) return;
      await sleep(200);
    }
  }
}
