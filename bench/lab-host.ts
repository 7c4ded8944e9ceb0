// A lab host started from dist/ for a benchmark, in the benchmark's own loopback block: resolves once
// the host has printed service.ready. As on the local runtime (lab-cli/runtime/local.ts), the host's
// events go to a file in its state directory, not to a pipe that this process would have to drain:
// reading ten event lines a request would take CPU from the load generator on a two-core machine,
// and the lab never does it. A benchmark measures; it reads the file only to see service.ready.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { FileTail, waitForReady } from '../lab-cli/runtime/tail.js';
import { hostStateDir, type LabSettings, PROJECT_ROOT, settingsEnv } from '../services/common/settings.js';
import { hostSpec } from '../services/common/topology.js';

export interface BenchHost {
  host: string;
  child: ChildProcess;
  pid: number;
  /** the host's events, one JSON line each */
  eventsPath: string;
  /** SIGTERM, and wait for the exit */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

export async function startBenchHost(
  s: LabSettings,
  host: string,
  env: Record<string, string> = {},
): Promise<BenchHost> {
  const dir = hostStateDir(host, s);
  mkdirSync(dir, { recursive: true });
  const eventsPath = join(dir, 'bench-events.ndjson');
  const out = openSync(eventsPath, 'w');
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, 'dist/services', hostSpec(host).service, 'main.js'), '--host', host],
    { env: { ...process.env, ...settingsEnv(s), ...env }, stdio: ['ignore', out, 'inherit'] },
  );
  closeSync(out);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let exitCode: number | null | undefined;
  child.once('exit', (code) => {
    exitCode = code;
  });
  const t0 = Date.now();
  await waitForReady(new FileTail(eventsPath, 0), () => {
    if (exitCode !== undefined) throw new Error(`${host} exited with ${exitCode} before it was ready`);
    if (Date.now() - t0 > READY_TIMEOUT_MS) {
      child.kill('SIGKILL');
      throw new Error(`${host} was not ready after ${READY_TIMEOUT_MS / 1000} s`);
    }
  });
  return {
    host,
    child,
    pid: child.pid ?? 0,
    eventsPath,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
