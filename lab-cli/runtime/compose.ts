// Compose through its CLI (docs/ARCHITECTURE.md, "Runtimes"): `docker compose` (v2) when the plugin is
// there, else `docker-compose` (v1.29, Debian's). The arguments are built here, run in docker.ts.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The compose project: containers are enterlab_<host>_1 (v1) or enterlab-<host>-1 (v2). */
export const PROJECT = 'enterlab';
/** The label every lab container, network and volume carries (docker-compose.yml). */
export const LAB_LABEL = 'org.enterlab.lab=enterlab';

export interface ComposeCli {
  /** argv[0] and the words before the compose subcommand */
  command: string;
  prefix: string[];
  version: 1 | 2;
}

export async function findCompose(): Promise<ComposeCli | undefined> {
  try {
    await run('docker', ['compose', 'version'], { timeout: 10_000 });
    return { command: 'docker', prefix: ['compose'], version: 2 };
  } catch {}
  // found on PATH, not run: `docker-compose version` is a Python start (~1 s here) before every command
  if (onPath('docker-compose')) return { command: 'docker-compose', prefix: [], version: 1 };
  return undefined;
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir || '.', command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** `up -d` for some services (all when none): dependencies come up first, healthy (depends_on). */
export function upArgs(cli: ComposeCli, services: string[] = []): string[] {
  return [...cli.prefix, '-p', PROJECT, 'up', '-d', '--no-build', '--remove-orphans', ...services];
}

export function buildArgs(cli: ComposeCli, service = 'browser'): string[] {
  return [...cli.prefix, '-p', PROJECT, 'build', service];
}

/** `down`: containers and networks; the CA's volume only when asked. */
export function downArgs(cli: ComposeCli, volumes = false): string[] {
  return [
    ...cli.prefix,
    '-p',
    PROJECT,
    'down',
    '--remove-orphans',
    '--timeout',
    '6',
    ...(volumes ? ['--volumes'] : []),
  ];
}

/** Runs compose in the project directory (so docker-compose.override.yml applies, as for a user). */
export async function compose(
  cli: ComposeCli,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  timeoutMs = 300_000,
): Promise<{ stdout: string; stderr: string }> {
  return run(cli.command, args, {
    cwd,
    env: { ...process.env, ...env },
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
  });
}
