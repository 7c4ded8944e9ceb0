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
import { controlCall } from '../../services/common/control.js';
import { parseEventLine } from '../../services/common/event-schema.js';
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
import { FileTail, readLines, waitForReady } from './tail.js';
import type { EventCursor, HostStatus, Runtime, UpOptions } from './types.js';

interface LabState {
  settings: LabSettings;
  hosts: Record<string, { pid: number; startedAt: number; service: string } | undefined>;
  ipv6Added: string[];
}

const STOP_TIMEOUT_MS = 5000;
const READY_TIMEOUT_MS = 20_000;

export function eventsFile(host: string, s: LabSettings): string {
  return join(hostStateDir(host, s), 'events.jsonl');
}

export function stderrFile(host: string, s: LabSettings): string {
  return join(hostStateDir(host, s), 'stderr.log');
}

/** A pid is one of our hosts only if its command line says so: never signal a recycled pid. */
function isOurProcess(pid: number, host: string): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmd.includes('--host') && cmd[cmd.indexOf('--host') + 1] === host;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class LocalRuntime implements Runtime {
  readonly name = 'local' as const;
  private readonly statePath: string;

  constructor(readonly settings: LabSettings) {
    this.statePath = join(settings.stateDir, 'lab.json');
  }

  private load(): LabState {
    if (!existsSync(this.statePath)) return { settings: this.settings, hosts: {}, ipv6Added: [] };
    return JSON.parse(readFileSync(this.statePath, 'utf8')) as LabState;
  }

  private save(state: LabState): void {
    mkdirSync(this.settings.stateDir, { recursive: true });
    const tmp = `${this.statePath}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 2));
    renameSync(tmp, this.statePath);
  }

  async available(): Promise<HostStatus[]> {
    return builtHosts(this.settings);
  }

  private alive(state: LabState, host: string): boolean {
    const h = state.hosts[host];
    return !!h && isOurProcess(h.pid, host);
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
    // every host at once: the proxy and web2 wait for the CA themselves (certificate.ts), so their
    // own start overlaps the CA's; a failure stops only that host, then it is all or nothing
    const start = async (host: string): Promise<void> => {
      await this.spawnHost(host, state);
      started.push(host);
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
    state.hosts[host] = { pid: child.pid as number, startedAt: Date.now(), service: spec.service };
    this.save(state);
  }

  private async killHost(host: string, state: LabState): Promise<void> {
    const h = state.hosts[host];
    state.hosts[host] = undefined;
    if (!h || !isOurProcess(h.pid, host)) return;
    try {
      process.kill(h.pid, 'SIGTERM');
    } catch {
      return;
    }
    const t0 = Date.now();
    while (isOurProcess(h.pid, host) && Date.now() - t0 < STOP_TIMEOUT_MS) await sleep(20);
    if (isOurProcess(h.pid, host)) process.kill(h.pid, 'SIGKILL');
    while (isOurProcess(h.pid, host)) await sleep(10);
  }

  private releaseIpv6(state: LabState): void {
    removeLoopbackIpv6(state.ipv6Added);
    state.ipv6Added = [];
  }

  async down(): Promise<void> {
    const state = this.load();
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
      const alive = isOurProcess(h.pid, a.host);
      return {
        ...a,
        ports,
        pid: h.pid,
        state: alive ? 'running' : 'dead',
        uptimeMs: alive ? Date.now() - h.startedAt : undefined,
        reason: alive ? this.offReason(a.host) : this.lastError(a.host),
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
    const path = eventsFile(host, this.settings);
    if (!existsSync(path)) return undefined;
    const lines = readLines(path);
    for (let i = lines.length - 1; i >= 0; i--) {
      if (lines[i].includes('"service.ready"')) return parseEventLine(lines[i]);
    }
    return undefined;
  }

  private lastError(host: string): string | undefined {
    const path = stderrFile(host, this.settings);
    if (!existsSync(path)) return 'killed (no exit message)';
    const last = readFileSync(path, 'utf8').trim().split('\n').pop();
    return last || 'killed (no exit message)';
  }

  async control(host: string, command: string, args: Record<string, unknown> = {}, timeoutMs?: number) {
    hostSpec(host);
    return controlCall(controlSocketPath(host, this.settings), command, args, timeoutMs);
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
    const tails = hosts.map((h) => {
      const path = eventsFile(h.name, this.settings);
      return new FileTail(path, existsSync(path) ? statSync(path).size : 0);
    });
    return {
      read: async () => {
        const out: LabEvent[] = [];
        for (const t of tails)
          for (const line of await t.lines()) {
            const ev = parseEventLine(line);
            if (ev) out.push(ev);
          }
        return out.sort((a, b) => a.ts - b.ts);
      },
    };
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
