// A lab host started from dist/ for a benchmark, in the benchmark's own loopback block: resolves once
// the host has printed service.ready. Its events are read only for that: a benchmark measures.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { type LabSettings, PROJECT_ROOT, settingsEnv } from '../services/common/settings.js';
import { hostSpec } from '../services/common/topology.js';

export interface BenchHost {
  host: string;
  child: ChildProcess;
  pid: number;
  /** SIGTERM, and wait for the exit */
  stop(): Promise<void>;
}

export function startBenchHost(
  s: LabSettings,
  host: string,
  env: Record<string, string> = {},
): Promise<BenchHost> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(PROJECT_ROOT, 'dist/services', hostSpec(host).service, 'main.js'), '--host', host],
      { env: { ...process.env, ...settingsEnv(s), ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let buf = '';
    let ready = false;
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (c: string) => {
      if (ready) return;
      buf = (buf + c).slice(-4096);
      if (!buf.includes('"service.ready"')) return;
      ready = true;
      resolve({
        host,
        child,
        pid: child.pid ?? 0,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.on('exit', (code) => {
      if (!ready) reject(new Error(`${host} exited with ${code} before it was ready`));
    });
  });
}
