// Records the lab's packets with Wireshark's dumpcap: on the local runtime from `lo`, filtered to the
// lab's own block (so a neighbouring lab is never in the file); on docker from each lab bridge, one
// interface per network in one pcapng (tcpdump cannot do several interfaces).
import { type ChildProcess, spawn } from 'node:child_process';
import type { LabSettings } from '../../services/common/settings.js';
import { ulaNet } from '../../services/common/settings.js';
import { networks } from '../../services/common/topology.js';

export type CaptureErrorCode =
  | 'ERR_NO_DUMPCAP'
  | 'ERR_CAPTURE_PERMISSION'
  | 'ERR_CAPTURE_FAILED'
  | 'ERR_CAPTURE_BROKEN';

/** A capture problem, with the one line that says what to install or how to run. */
export class CaptureError extends Error {
  constructor(
    readonly code: CaptureErrorCode,
    message: string,
    readonly hint: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface CaptureStats {
  packets: number;
  dropped: number;
  /** per interface, as dumpcap reported them */
  interfaces: { name: string; received: number; dropped: number }[];
}

/** The BPF filter of a local lab: its IPv4 block and its IPv6 ULA prefix (fd7f:60::/32 for 127.60). */
export function localCaptureFilter(s: LabSettings): string {
  const v4 = `net ${s.block}.0.0/16`;
  return s.ipv6 ? `${v4} or ip6 net ${ulaNet(s)}` : v4;
}

/** dumpcap's arguments for this runtime, writing pcapng to `output` ('-' for stdout). */
export function dumpcapArgs(s: LabSettings, output: string): string[] {
  const ifaces =
    s.runtime === 'docker'
      ? networks.flatMap((n) => ['-i', n.bridge]) // the bridges carry only lab traffic: no filter
      : ['-i', 'lo', '-f', localCaptureFilter(s)];
  // -n: pcapng even for one interface; -B: room for bursts (MiB). No -q: stop() watches the counter
  return [...ifaces, '-n', '-B', '16', '-w', output];
}

/** Parses dumpcap's closing lines: "Packets received/dropped on interface 'lo': 7/0 (…)". */
export function parseDumpcapStats(stderr: string): CaptureStats {
  const interfaces = [
    ...stderr.matchAll(/Packets received\/dropped on interface '([^']+)': (\d+)\/(\d+)/g),
  ].map((m) => ({ name: m[1], received: Number(m[2]), dropped: Number(m[3]) }));
  const captured = /Packets captured: (\d+)/.exec(stderr);
  return {
    packets: captured ? Number(captured[1]) : interfaces.reduce((n, i) => n + i.received, 0),
    dropped: interfaces.reduce((n, i) => n + i.dropped, 0),
    interfaces,
  };
}

/** What a failed start means for the user, from dumpcap's own words. */
export function explainStartFailure(stderr: string, err?: NodeJS.ErrnoException): CaptureError {
  if (err?.code === 'ENOENT')
    return new CaptureError(
      'ERR_NO_DUMPCAP',
      'dumpcap is not installed',
      'install it with: apt-get install wireshark-common tshark (scripts/install-deps.sh does it)',
    );
  const line = stderr.split('\n').find((l) => l.trim() && !/^(Capturing on|File:)/.test(l)) ?? 'no output';
  if (/permission|not permitted|superuser/i.test(stderr))
    return new CaptureError(
      'ERR_CAPTURE_PERMISSION',
      `dumpcap may not capture here: ${line.trim()}`,
      'run as root, or let dumpcap capture: setcap cap_net_raw,cap_net_admin+eip /usr/bin/dumpcap',
    );
  if (/no (such )?device|There is no device/i.test(stderr))
    return new CaptureError(
      'ERR_CAPTURE_FAILED',
      `dumpcap found no such interface: ${line.trim()}`,
      `start the lab first (lab up); on docker its bridges are ${networks.map((n) => n.bridge).join(', ')}`,
    );
  return new CaptureError(
    'ERR_CAPTURE_FAILED',
    `dumpcap did not start: ${line.trim()}`,
    'run dumpcap -D to see the interfaces it can use',
  );
}

export interface DumpcapProcess {
  child: ChildProcess;
  /**
   * Stops the capture (SIGINT, as Ctrl-C) and returns dumpcap's counts; first waits for the kernel's
   * last block (drain) unless the caller has proof that dumpcap wrote everything (an end marker).
   */
  stop(opts?: { drain?: boolean }): Promise<CaptureStats>;
}

const START_TIMEOUT_MS = 10_000;
/** Waits until dumpcap has written what the kernel still held. */
// the kernel hands packets to dumpcap in blocks that retire on a timeout; SIGINT drops a block still
// filling (measured here: the last 100 ms were lost, 200 ms were kept), so stop only once it settled
const DRAIN_MIN_MS = 300;
const DRAIN_QUIET_MS = 200;
const DRAIN_MAX_MS = 2000;

export async function drain(stderr: () => string): Promise<void> {
  const count = () => [...stderr().matchAll(/Packets: (\d+)/g)].pop()?.[1];
  const t0 = Date.now();
  let last = count();
  let quietSince = t0;
  while (Date.now() - t0 < DRAIN_MAX_MS) {
    await new Promise((r) => setTimeout(r, 50));
    const now = count();
    if (now !== last) [last, quietSince] = [now, Date.now()];
    if (Date.now() - t0 >= DRAIN_MIN_MS && Date.now() - quietSince >= DRAIN_QUIET_MS) return;
  }
}
const STOP_TIMEOUT_MS = 5000;

/**
 * Starts dumpcap and resolves once it captures, so no packet of the run is missed.
 * `stdout` 'pipe' gives the live pcapng stream (with output '-').
 */
export function startDumpcap(
  args: string[],
  opts: { stdout?: 'pipe' | 'ignore'; command?: string } = {},
): Promise<DumpcapProcess> {
  const child = spawn(opts.command ?? 'dumpcap', args, {
    stdio: ['ignore', opts.stdout ?? 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => {
    stderr += c;
  });
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  child.on('error', () => {}); // reported through the start promise below
  // a capture never outlives the command that started it
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  void exited.then(() => process.removeListener('exit', onExit));
  // dumpcap prints its counts once its output is closed, ~25 ms before it has torn its rings down
  const interfaces = args.filter((a) => a === '-i').length;
  const printed = new Promise<void>((resolve) => {
    const check = () => {
      if (parseDumpcapStats(stderr).interfaces.length < interfaces) return;
      child.stderr?.removeListener('data', check);
      resolve();
    };
    child.stderr?.on('data', check);
  });
  // and a piped stream is over once its reader has had the last bytes
  const outClosed = child.stdout
    ? new Promise<void>((r) => child.stdout?.once('close', () => r()))
    : Promise.resolve();
  const counted = Promise.all([printed, outClosed]);
  const stop = async ({ drain: draining = true } = {}): Promise<CaptureStats> => {
    if (child.exitCode === null && child.signalCode === null) {
      if (draining) await drain(() => stderr);
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      void exited.then(() => clearTimeout(t));
      await Promise.race([exited, counted]);
    }
    return parseDumpcapStats(stderr);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        explainStartFailure(`${stderr}\ndumpcap did not start capturing within ${START_TIMEOUT_MS / 1000} s`),
      );
    }, START_TIMEOUT_MS);
    const fail = (err?: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      process.removeListener('exit', onExit);
      reject(explainStartFailure(stderr, err));
    };
    const onError = (err: NodeJS.ErrnoException) => fail(err);
    const onClose = () => fail();
    child.once('error', onError);
    child.once('close', onClose);
    const ready = () => {
      // "File:" comes once the interfaces are open and the file exists ("Capturing on" comes before)
      if (!/^File: /m.test(stderr)) return;
      clearTimeout(timer);
      child.removeListener('close', onClose);
      child.removeListener('error', onError);
      child.stderr?.removeListener('data', ready);
      resolve({ child, stop });
    };
    child.stderr?.on('data', ready);
  });
}
