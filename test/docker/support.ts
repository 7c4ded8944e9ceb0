// What the docker suite needs around the lab: can Docker run here (and if not, the one line why),
// the image built from the offline base, the `lab` CLI, and commands inside containers.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { engineProblem } from '../../lab-cli/runtime/docker-engine.js';
import { dockerEventsFile } from '../../lab-cli/runtime/docker-events.js';
import { parseEventLine } from '../../services/common/event-schema.js';
import type { LabEvent } from '../../services/common/events.js';
import { PROJECT_ROOT } from '../../services/common/settings.js';

export const LAB = join(PROJECT_ROOT, 'dist/lab-cli/main.js');
export const env = { ...process.env, LAB_RUNTIME: 'docker', NO_COLOR: '1' };

/** Why the docker suite cannot run here, or undefined when it can. */
export async function dockerSkipReason(): Promise<string | undefined> {
  if (!existsSync(LAB)) return 'the project is not built (npm run build)';
  if (process.getuid?.() !== 0) return 'needs root (the DOCKER-USER rules and captures on the lab bridges)';
  try {
    await new Docker().ping();
  } catch (err) {
    return engineProblem(err as NodeJS.ErrnoException);
  }
  const v1 = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
  const v2 = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (v1.status !== 0 && v2.status !== 0) return 'no docker compose (v2) or docker-compose (v1) installed';
  return undefined;
}

/**
 * Until the middlebox is built on this branch, the lab runs with test/docker/forward-only.yml:
 * the kernel forwards (ip_forward=1), nothing sniffs, and scenarios that need it are skipped.
 */
export function composeFiles(): string | undefined {
  if (existsSync(join(PROJECT_ROOT, 'dist/services/middlebox/main.js'))) return undefined;
  return ['docker-compose.yml', 'test/docker/forward-only.yml'].join(':');
}

export function lab(args: string[], timeoutMs = 180_000) {
  const files = composeFiles();
  return spawnSync(process.execPath, [LAB, ...args, '--runtime', 'docker'], {
    cwd: PROJECT_ROOT,
    env: { ...env, ...(files ? { COMPOSE_FILE: files } : {}) },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
}

/** `docker compose logs -t` (or docker-compose v1): each line's service, time (µs) and text. */
export function composeLogs(): { service: string; at: number; text: string }[] {
  const v2 = spawnSync('docker', ['compose', 'version']).status === 0;
  const [cmd, pre] = v2 ? ['docker', ['compose']] : ['docker-compose', []];
  const files = composeFiles();
  const r = spawnSync(cmd, [...pre, '-p', 'enterlab', 'logs', '--no-color', '-t'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...(files ? { COMPOSE_FILE: files } : {}) },
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`compose logs failed: ${r.stderr.trim().split('\n').pop()}`);
  return r.stdout
    .split('\n')
    .map((l) => /^(\S+?)\s+\| (\d{4}-\d\d-\d\dT[\d:.]+Z) ?(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({
      service: m[1],
      at: Date.parse(m[2]) * 1000, // to the millisecond
      text: m[3],
    }));
}

/** A docker host's events since an instant (µs), from its events file on this machine. */
export function eventsSince(host: string, from: number): LabEvent[] {
  const path = dockerEventsFile(host);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => parseEventLine(l))
    .filter((e): e is LabEvent => !!e && e.ts >= from);
}

export function sh(cmd: string, args: string[], timeoutMs = 60_000): string {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A host's container (compose v1 and v2 name them differently; the labels are the same). */
export function containerOf(host: string): string {
  const id = sh('docker', [
    'ps',
    '-q',
    '--filter',
    'label=com.docker.compose.project=enterlab',
    '--filter',
    `label=com.docker.compose.service=${host}`,
  ]).trim();
  if (!id) throw new Error(`no running container for ${host}`);
  return id;
}

/** Runs a command as root in a host's container (docker exec), returning its output and status. */
export function inHost(host: string, argv: string[]) {
  return spawnSync('docker', ['exec', containerOf(host), ...argv], { encoding: 'utf8', timeout: 30_000 });
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The lab's containers, networks and volumes left on the machine (by the compose file's label). */
export function labResidue(kind: 'container' | 'network' | 'volume'): string[] {
  const args =
    kind === 'container'
      ? ['ps', '-a', '--filter', 'label=org.enterlab.lab=enterlab', '--format', '{{.Names}}']
      : [kind, 'ls', '--filter', 'label=org.enterlab.lab=enterlab', '--format', '{{.Name}}'];
  return sh('docker', args).split('\n').filter(Boolean);
}

export function dockerUserRules(): string[] {
  return sh('iptables', ['-w', '-S', 'DOCKER-USER'])
    .split('\n')
    .filter((l) => l.includes('enterlab-bridge'));
}

/** The INPUT rules that keep lab containers off the machine (docker/bridge-rules.sh), v4 and v6. */
export function isolationRules(): string[] {
  return ['iptables', 'ip6tables'].flatMap((t) =>
    sh(t, ['-w', '-S', 'INPUT'])
      .split('\n')
      .filter((l) => l.includes('enterlab-isolate')),
  );
}

/** Every address of this machine but loopback: bridge gateways, docker0, its own network. */
export function machineAddresses(): string[] {
  return sh('ip', ['-o', 'addr', 'show'])
    .split('\n')
    .map((l) => /\binet6? ([0-9a-f.:]+)\/\d+ .*scope (global|link)/.exec(l))
    .filter((m): m is RegExpExecArray => !!m && m[2] === 'global')
    .map((m) => m[1]);
}

/** The newest run directory of a scenario (lab run writes <runs>/<stamp>-<name>). */
export function latestRun(name: string): string {
  const runs = process.env.LAB_RUNS_DIR ?? join(PROJECT_ROOT, 'runs');
  const dir = readdirSync(runs)
    .filter((d) => d.endsWith(`-${name}`))
    .sort()
    .pop();
  if (!dir) throw new Error(`no run of ${name} in ${runs}`);
  return join(runs, dir);
}

/** tshark's fields of the frames a display filter selects, one array per frame. */
export function tsharkFields(file: string, filter: string, fields: string[]): string[][] {
  return sh(
    'tshark',
    ['-r', file, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])],
    120_000,
  )
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
}
