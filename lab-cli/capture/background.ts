// `lab capture start|stop`: a dumpcap that outlives the command, found again by its pid file in the
// lab's state dir. Its stderr goes to dumpcap.log beside the capture, where stop reads the counts.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabSettings } from '../../services/common/settings.js';
import { type CaptureStats, drain, dumpcapArgs, explainStartFailure, parseDumpcapStats } from './dumpcap.js';
import { CAPTURE_FILE } from './enrich.js';

export interface BackgroundCapture {
  pid: number;
  dir: string;
  /** µs since the epoch */
  startedAt: number;
}

const statePath = (s: LabSettings) => join(s.stateDir, 'capture.json');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether pid is still our dumpcap (never signal a recycled pid). */
function isDumpcap(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0].endsWith('dumpcap');
  } catch {
    return false;
  }
}

export function runningCapture(s: LabSettings): BackgroundCapture | undefined {
  if (!existsSync(statePath(s))) return undefined;
  const c = JSON.parse(readFileSync(statePath(s), 'utf8')) as BackgroundCapture;
  return isDumpcap(c.pid) ? c : undefined;
}

export async function startBackgroundCapture(s: LabSettings, dir: string): Promise<BackgroundCapture> {
  const running = runningCapture(s);
  if (running)
    throw new Error(`a capture is already running (pid ${running.pid}, ${running.dir}): lab capture stop`);
  // docker has no .lab of its own until now: the pid file must be writable before dumpcap starts
  mkdirSync(s.stateDir, { recursive: true });
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'dumpcap.log');
  const fd = openSync(log, 'w');
  const child = spawn('dumpcap', dumpcapArgs(s, join(dir, CAPTURE_FILE)), {
    detached: true,
    stdio: ['ignore', 'ignore', fd],
  });
  closeSync(fd);
  const spawnError = new Promise<NodeJS.ErrnoException>((r) => child.once('error', r));
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const t0 = Date.now();
  for (;;) {
    const said = readFileSync(log, 'utf8');
    if (/^File: /m.test(said)) break; // it captures
    const err = await Promise.race([spawnError, sleep(50).then(() => undefined)]);
    if (err || exited || Date.now() - t0 > 10_000) {
      if (!exited) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw explainStartFailure(readFileSync(log, 'utf8'), err);
    }
  }
  const c: BackgroundCapture = { pid: child.pid as number, dir, startedAt: Date.now() * 1000 };
  try {
    writeFileSync(statePath(s), JSON.stringify(c, null, 2));
  } catch (err) {
    // a dumpcap nobody can find again must not go on recording
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot record the capture in ${statePath(s)}: ${(err as Error).message}`);
  }
  child.unref();
  return c;
}

export async function stopBackgroundCapture(
  s: LabSettings,
): Promise<BackgroundCapture & { stats: CaptureStats; stoppedAt: number }> {
  const c = runningCapture(s);
  if (!c) {
    rmSync(statePath(s), { force: true });
    throw new Error('no capture is running (start one: lab capture start)');
  }
  const log = join(c.dir, 'dumpcap.log');
  await drain(() => readFileSync(log, 'utf8'));
  const stoppedAt = Date.now() * 1000;
  process.kill(c.pid, 'SIGINT');
  for (let i = 0; i < 100 && isDumpcap(c.pid); i++) await sleep(50);
  if (isDumpcap(c.pid)) process.kill(c.pid, 'SIGKILL');
  rmSync(statePath(s), { force: true });
  return { ...c, stats: parseDumpcapStats(readFileSync(log, 'utf8')), stoppedAt };
}
