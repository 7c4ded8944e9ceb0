// The docker runtime: one container per host from docker-compose.yml, on three internal networks.
// Compose (its CLI) brings the lab up and down; dockerode does status, logs, exec and events.

import { mkdirSync } from 'node:fs';
import type Docker from 'dockerode';
import type { CommandArgs, CommandName, CommandResult } from '../../services/common/commands.js';
import { parseEventLine } from '../../services/common/event-schema.js';
import type { LabEvent } from '../../services/common/events.js';
import { type LabSettings, PROJECT_ROOT } from '../../services/common/settings.js';
import { hostSpec, hosts, networks } from '../../services/common/topology.js';
import { builtHosts } from './built.js';
import { type ComposeCli, compose, downArgs, findCompose, upArgs } from './compose.js';
import { connectEngine, labContainers } from './docker-engine.js';
import {
  DOCKER_EVENTS_DIR,
  DockerEvents,
  dockerEventsFile,
  followLines,
  stateChanges,
} from './docker-events.js';
import { controlArgv, execIn, parseControlAnswer } from './docker-exec.js';
import { containerRunDir, copyOut } from './docker-files.js';
import { ensureImage } from './docker-image.js';
import { addBridgeRules, checkPlanIsFree, labResidue, removeBridgeRules } from './docker-plan.js';
import { FileTail, lastReady, readLines, withRotated } from './tail.js';
import type { EventCursor, HostState, HostStatus, Runtime, UpOptions } from './types.js';

const HEALTHY_TIMEOUT_MS = 90_000;
/** the compose service that keeps the machine's firewall rules while the lab runs (not a lab host) */
const BRIDGE_RULES = 'bridge-rules';
const RULES_SCRIPT = '/lab/docker/bridge-rules.sh';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * running+healthy → running; `docker pause` → paused; created or health starting → starting;
 * exit 0 → stopped; else dead.
 */
export function hostState(c: Docker.ContainerInspectInfo | undefined): { state: HostState; reason?: string } {
  if (!c) return { state: 'stopped', reason: 'no container (lab up --runtime docker)' };
  const s = c.State;
  // a paused container still counts as Running for Docker: its processes are frozen, not gone
  if (s.Paused)
    return { state: 'paused', reason: `frozen: docker unpause ${(c.Name ?? '').replace(/^\//, '')}` };
  if (s.Running) {
    const health = s.Health?.Status;
    if (health === 'unhealthy') return { state: 'dead', reason: lastHealthOutput(c) ?? 'unhealthy' };
    return { state: health === 'starting' ? 'starting' : 'running' };
  }
  if (s.Status === 'created') return { state: 'stopped', reason: 'created, not started' };
  if (s.ExitCode === 0 && !s.OOMKilled) return { state: 'stopped' };
  return {
    state: 'dead',
    reason: s.OOMKilled
      ? 'killed: out of memory'
      : `exited with code ${s.ExitCode}${s.Error ? `: ${s.Error}` : ''}`,
  };
}

function lastHealthOutput(c: Docker.ContainerInspectInfo): string | undefined {
  const log = c.State.Health?.Log ?? [];
  return log[log.length - 1]?.Output?.trim() || undefined;
}

export class DockerRuntime implements Runtime {
  readonly name = 'docker' as const;
  private engine?: Docker;
  private cli?: ComposeCli;

  constructor(readonly settings: LabSettings) {}

  private async docker(): Promise<Docker> {
    this.engine ??= await connectEngine();
    return this.engine;
  }

  private async compose(): Promise<ComposeCli> {
    this.cli ??= await findCompose();
    if (!this.cli)
      throw new Error(
        'neither `docker compose` nor `docker-compose` is installed: scripts/docker-base.sh --engine-only installs docker-compose',
      );
    return this.cli;
  }

  private async inspectAll(): Promise<Map<string, Docker.ContainerInspectInfo>> {
    const docker = await this.docker();
    const out = new Map<string, Docker.ContainerInspectInfo>();
    await Promise.all(
      [...(await labContainers(docker))].map(async ([host, info]) => {
        out.set(host, await docker.getContainer(info.Id).inspect());
      }),
    );
    return out;
  }

  async available(): Promise<HostStatus[]> {
    return builtHosts(this.settings);
  }

  async isUp(): Promise<boolean> {
    const all = await this.inspectAll();
    const want = (await this.available()).filter((a) => a.state !== 'off');
    return want.length > 0 && want.every((a) => hostState(all.get(a.host)).state === 'running');
  }

  async up(opts: UpOptions = {}): Promise<{ started: string[]; alreadyUp: boolean; off: HostStatus[] }> {
    const docker = await this.docker();
    const cli = await this.compose();
    const avail = await this.available();
    const off = avail.filter((a) => a.state === 'off');
    const wanted = avail.filter((a) => a.state !== 'off' && (!opts.hosts || opts.hosts.includes(a.host)));
    const before = await this.inspectAll();
    const missing = wanted
      .filter((w) => hostState(before.get(w.host)).state !== 'running')
      .map((w) => w.host);
    if (missing.length === 0) return { started: [], alreadyUp: true, off };
    await checkPlanIsFree(docker);
    await ensureImage(docker, cli, opts.quiet);
    // the hosts' events files (a bind mount): made by the user who runs lab, not by dockerd as root
    mkdirSync(DOCKER_EVENTS_DIR, { recursive: true });
    try {
      const rules = addBridgeRules();
      await compose(cli, upArgs(cli, ['bridge-rules', ...missing]), PROJECT_ROOT);
      await rules;
      await this.waitHealthy(missing);
    } catch (err) {
      // leave nothing half-started: containers and networks go, the CA's volume stays
      await compose(cli, downArgs(cli), PROJECT_ROOT).catch(() => undefined);
      removeBridgeRules();
      throw new Error(composeProblem(err as Error));
    }
    return { started: missing, alreadyUp: false, off };
  }

  /** Inspects the hosts again whenever Docker reports a health change, a start or a death (≤ 1 s apart). */
  private async waitHealthy(hostNames: string[]): Promise<void> {
    const t0 = Date.now();
    const changes = await stateChanges(await this.docker());
    try {
      for (;;) {
        changes.seen();
        const all = await this.inspectAll();
        const states = hostNames.map((h) => ({ h, ...hostState(all.get(h)) }));
        const dead = states.find((s) => s.state === 'dead' || (s.state === 'stopped' && all.has(s.h)));
        if (dead) throw new Error(`${dead.h} ${dead.reason ?? 'stopped'}; ${await this.lastStderr(dead.h)}`);
        if (states.every((s) => s.state === 'running')) return;
        if (Date.now() - t0 > HEALTHY_TIMEOUT_MS) {
          const late = states.filter((s) => s.state !== 'running').map((s) => s.h);
          throw new Error(
            `not healthy after ${HEALTHY_TIMEOUT_MS / 1000} s: ${late.join(', ')} (lab logs HOST)`,
          );
        }
        await changes.next(1000);
      }
    } finally {
      changes.close();
    }
  }

  private async lastStderr(host: string): Promise<string> {
    const lines: string[] = [];
    await followLines(await this.container(host), {
      follow: false,
      onLine: (l) => l.stream === 'stderr' && lines.push(l.line),
    }).catch(() => undefined);
    return lines.pop() ?? 'no message (lab logs for more)';
  }

  async down(opts: { volumes?: boolean } = {}): Promise<void> {
    const docker = await this.docker();
    const cli = await this.compose();
    await compose(cli, downArgs(cli, opts.volumes), PROJECT_ROOT);
    removeBridgeRules();
    const left = await labResidue(docker, opts.volumes);
    if (left.length)
      throw new Error(`lab down left ${left.join(', ')}: remove them with docker rm -f / docker network rm`);
  }

  async status(): Promise<HostStatus[]> {
    const all = await this.inspectAll();
    const list = await Promise.all(
      (await this.available()).map(async (a) => {
        const c = all.get(a.host);
        if (a.state === 'off' && !c) return a;
        const { state, reason } = hostState(c);
        const ready = c && state !== 'stopped' ? lastReady(dockerEventsFile(a.host)) : undefined;
        return {
          ...a,
          // in the plan's order (home, internet, backend), as the container really has them
          addresses: c?.State.Running
            ? a.addresses.filter((x) => containerAddresses(c).includes(x))
            : a.addresses,
          ports: (ready?.data?.listening as string[] | undefined) ?? [],
          pid: c?.State.Pid || undefined,
          state,
          uptimeMs: state === 'running' && c ? Date.now() - Date.parse(c.State.StartedAt) : undefined,
          reason: reason ?? (typeof ready?.data?.off === 'string' ? ready.data.off : undefined),
        };
      }),
    );
    const rules = all.get(BRIDGE_RULES);
    return rules ? [...list, await this.bridgeRulesStatus(rules)] : list;
  }

  /**
   * The bridge-rules service as a row of `lab status`: running only while the machine's firewall
   * has every rule the lab needs (docker/bridge-rules.sh check, run in its container), else which one
   * is missing. A missing DOCKER-USER rule breaks browsing; a missing INPUT rule, isolation.
   */
  private async bridgeRulesStatus(c: Docker.ContainerInspectInfo): Promise<HostStatus> {
    const row: HostStatus = {
      host: BRIDGE_RULES,
      service: BRIDGE_RULES,
      addresses: [],
      ports: [],
      pid: c.State.Pid || undefined,
      state: 'running',
    };
    if (!c.State.Running || c.State.Paused) return { ...row, ...hostState(c) };
    const bridges = networks.map((n) => n.bridge);
    const r = await execIn(await this.docker(), c.Id, [RULES_SCRIPT, 'check', ...bridges], 20_000).catch(
      () => undefined,
    );
    // no answer in time (a loaded machine): its healthcheck, which runs the same check, speaks for it
    if (!r)
      return {
        ...row,
        ...hostState(c),
        reason: `rules not checked in time; ${hostState(c).reason ?? 'healthy'}`,
      };
    const missing = r.stderr.trim().split('\n').filter(Boolean);
    return r.exitCode === 0
      ? {
          ...row,
          uptimeMs: Date.now() - Date.parse(c.State.StartedAt),
          reason: `DOCKER-USER accepts ${bridges.join(', ')}; INPUT refuses them`,
        }
      : { ...row, state: 'dead', reason: `${missing.join('; ')} (bridge-rules puts it back within 2 s)` };
  }

  async control<H extends string, C extends CommandName<H>>(
    host: H,
    command: C,
    typed?: CommandArgs<H, C>,
    timeoutMs = 30_000,
  ): Promise<CommandResult<H, C>> {
    hostSpec(host);
    const args: Record<string, unknown> = Object.assign({}, typed);
    const docker = await this.docker();
    const c = (await labContainers(docker)).get(host);
    if (c?.State !== 'running')
      throw Object.assign(new Error(`the host is not running (container ${c ? c.State : 'missing'})`), {
        code: 'ERR_HOST_DOWN',
      });
    // a run's directory is on this machine: the host writes in its container, then it is copied here
    const runDir = typeof args.runDir === 'string' ? args.runDir : undefined;
    const inside = runDir ? { ...args, runDir: containerRunDir(host, runDir) } : args;
    const r = await execIn(docker, c.Id, controlArgv(host, command, inside, timeoutMs), timeoutMs + 5000);
    try {
      return parseControlAnswer<CommandResult<H, C>>(r, command);
    } finally {
      if (runDir) await copyOut(docker, c.Id, containerRunDir(host, runDir), runDir);
    }
  }

  async inHost(host: string, argv: string[]) {
    const c = await this.container(host);
    return execIn(await this.docker(), c.id, argv, 30_000);
  }

  private async container(host: string): Promise<Docker.Container> {
    if (host !== BRIDGE_RULES) hostSpec(host);
    const docker = await this.docker();
    const c = (await labContainers(docker)).get(host);
    if (!c) throw new Error(`${host} has no container: lab up --runtime docker`);
    return docker.getContainer(c.Id);
  }

  async stop(host: string): Promise<void> {
    const c = await this.container(host);
    if ((await c.inspect()).State.Running) await c.stop({ t: 5 });
  }

  async start(host: string): Promise<void> {
    const c = await this.container(host);
    if (!(await c.inspect()).State.Running) await c.start();
    await this.waitHealthy([host]);
  }

  async restart(host: string): Promise<void> {
    await (await this.container(host)).restart({ t: 5 });
    await sleep(200);
    await this.waitHealthy([host]);
  }

  async cursor(): Promise<EventCursor> {
    const events = new DockerEvents(await this.docker());
    await events.start();
    return { read: () => events.read(), close: () => events.close() };
  }

  /** Every host's events between two instants (µs), from their events files (`lab capture stop`). */
  async eventsBetween(from: number, to: number): Promise<LabEvent[]> {
    const out: LabEvent[] = [];
    for (const h of hosts)
      for (const path of withRotated(dockerEventsFile(h.name)))
        for (const line of readLines(path)) {
          const ev = parseEventLine(line);
          if (ev && ev.ts >= from && ev.ts <= to) out.push(ev);
        }
    return out.sort((a, b) => a.ts - b.ts);
  }

  /** The id of a host's container (for a `docker exec` the CLI keeps running). */
  async containerId(host: string): Promise<string> {
    return (await this.container(host)).id;
  }

  /** As on local: the host's events (its events file), then what it wrote on stderr (its container's log). */
  async logs(host: string, opts: { follow?: boolean; onLine: (line: string) => void; signal?: AbortSignal }) {
    const c = await this.container(host);
    const stderr = followLines(c, {
      follow: !!opts.follow,
      signal: opts.signal,
      onLine: (l) => l.stream === 'stderr' && opts.onLine(l.line),
    });
    const events = new FileTail(dockerEventsFile(host), 0);
    for (;;) {
      for (const line of await events.lines()) opts.onLine(line);
      if (!opts.follow || opts.signal?.aborted) break;
      await sleep(200);
    }
    await stderr;
  }
}

export function containerAddresses(c: Docker.ContainerInspectInfo): string[] {
  const out: string[] = [];
  for (const n of Object.values(c.NetworkSettings.Networks ?? {})) {
    if (n.IPAddress) out.push(n.IPAddress);
    if (n.GlobalIPv6Address) out.push(n.GlobalIPv6Address);
  }
  return out;
}

/** Compose's own words for the usual failures, turned into what to do. */
export function composeProblem(err: Error & { stderr?: string }): string {
  const text = `${err.stderr ?? ''}\n${err.message}`;
  if (/Pool overlaps|overlaps with other one/i.test(text))
    return 'a lab subnet (172.28.1-3.0/24 or fd28:1-3::/64) is used by another docker network: docker network ls, then docker network rm it';
  if (/bridge name .* exists|device or resource busy/i.test(text))
    return 'a lab bridge name (lab-home, lab-internet, lab-backend) is taken: ip link show, then remove it';
  const last = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .pop();
  return last ?? err.message;
}
