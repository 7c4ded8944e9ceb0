// What a capture embeds besides packets, on either runtime: the browser's TLS key log and every
// host's events while it ran. Locally both are files in the lab's state dir; on docker they are in
// the containers (the browser's profile, each container's stdout), so they are fetched from there.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventLine } from '../../services/common/event-schema.js';
import type { LabEvent } from '../../services/common/events.js';
import { hostStateDir, type LabSettings } from '../../services/common/settings.js';
import { hosts } from '../../services/common/topology.js';
import type { DockerRuntime } from '../runtime/docker.js';
import { eventsFile } from '../runtime/local.js';
import { readLines } from '../runtime/tail.js';
import type { Runtime } from '../runtime/types.js';

/** The browser's key log of every TLS session it made, inside its host (container or state dir). */
export const BROWSER_KEYLOG = (s: LabSettings) => join(hostStateDir('browser', s), 'profile', 'tls-keys.log');
/** The same file in the browser's container (its state dir is /lab/state there: Dockerfile). */
const CONTAINER_KEYLOG = '/lab/state/hosts/browser/profile/tls-keys.log';

/** Every host's events between two instants (µs since the epoch), in time order. */
export async function eventsBetween(runtime: Runtime, from: number, to: number): Promise<LabEvent[]> {
  if (runtime.name === 'docker') return (runtime as DockerRuntime).eventsBetween(from, to);
  const s = runtime.settings;
  return hosts
    .flatMap((h) => (existsSync(eventsFile(h.name, s)) ? readLines(eventsFile(h.name, s)) : []))
    .map(parseEventLine)
    .filter((e): e is LabEvent => !!e && e.ts >= from && e.ts <= to)
    .sort((a, b) => a.ts - b.ts);
}

/**
 * The browser's key log as a file on this machine (undefined when it made no TLS session yet):
 * locally the profile's own file; on docker a copy written into `dir`.
 */
export async function browserKeylog(runtime: Runtime, dir: string): Promise<string | undefined> {
  const s = runtime.settings;
  if (runtime.name !== 'docker') return existsSync(BROWSER_KEYLOG(s)) ? BROWSER_KEYLOG(s) : undefined;
  const r = await runtime.inHost?.('browser', ['cat', CONTAINER_KEYLOG]).catch(() => undefined);
  if (!r || r.exitCode !== 0 || !r.stdout) return undefined;
  const copy = join(dir, 'tls-keys.log');
  writeFileSync(copy, r.stdout);
  return copy;
}

/**
 * A key log path on this machine that Wireshark can read while a live capture runs. On docker a
 * `docker exec … tail -F` copies the container's file as it grows (Wireshark rereads a key log file
 * when it meets a session it cannot decrypt); `stop` ends that copy.
 */
export async function liveKeylog(runtime: Runtime): Promise<{ path: string; stop(): void }> {
  const s = runtime.settings;
  if (runtime.name !== 'docker') return { path: BROWSER_KEYLOG(s), stop: () => {} };
  const path = join(s.stateDir, 'capture-live', 'tls-keys.log');
  mkdirSync(join(s.stateDir, 'capture-live'), { recursive: true });
  const fd = openSync(path, 'w');
  let tail: ChildProcess | undefined;
  try {
    const id = await (runtime as DockerRuntime).containerId('browser');
    // tail ends with its stdin: a killed `lab capture --live` leaves nothing running in the container
    const follow = `tail -n +1 -F ${CONTAINER_KEYLOG} 2>/dev/null & read _; kill $!`;
    tail = spawn('docker', ['exec', '-i', id, 'sh', '-c', follow], { stdio: ['pipe', fd, 'ignore'] });
    tail.on('error', () => {}); // no docker CLI: the file stays empty, the capture goes on
  } catch {
    // no browser container: nothing to decrypt, the (empty) file is still there
  } finally {
    closeSync(fd);
  }
  return {
    path,
    stop: () => {
      tail?.stdin?.end();
      tail?.kill('SIGTERM');
    },
  };
}
