// A docker host's events: each container writes them as JSON lines to its events file on a bind
// mount (`.lab/docker/<host>/events.jsonl`, docker-compose.yml; services/common/event-output.ts),
// while its stdout, what `docker compose up` shows, gets readable lines. A cursor follows the files,
// with a container's death (docker events) added to the timeline as an event. The containers' logs
// (their readable lines and stderr) are read through the engine.
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { type LabEvent, nowMicros } from '../../services/common/events.js';
import { PROJECT_ROOT } from '../../services/common/settings.js';
import { hosts } from '../../services/common/topology.js';
import { PROJECT } from './compose.js';
import { FrameSplitter } from './docker-engine.js';
import { tailEvents } from './tail.js';

/** On this machine, the folder docker-compose.yml mounts at /lab/events in every lab container. */
export const DOCKER_EVENTS_DIR = join(PROJECT_ROOT, '.lab', 'docker');

/** A docker host's events file on this machine. */
export function dockerEventsFile(host: string, dir = DOCKER_EVENTS_DIR): string {
  return join(dir, host, 'events.jsonl');
}

type Line = { stream: 'stdout' | 'stderr'; line: string };

/** The streams of a cursor must not keep `lab run` alive once it is done. */
function unref(stream: Readable): void {
  (stream as Readable & { socket?: { unref(): void } }).socket?.unref();
}

/** A container's log lines; with follow, until the container stops or the signal aborts. */
export async function followLines(
  c: Docker.Container,
  opts: {
    follow: boolean;
    since?: number;
    onLine: (l: Line) => void;
    signal?: AbortSignal;
    background?: boolean;
  },
): Promise<void> {
  const split = new FrameSplitter();
  const base = { stdout: true, stderr: true, since: opts.since ?? 0 };
  if (!opts.follow) {
    for (const l of split.push(await c.logs({ ...base, follow: false }))) opts.onLine(l);
    return;
  }
  let stream: Readable;
  try {
    // dockerd answers a follow only with the first line: the signal must reach the request itself
    stream = (await c.logs({ ...base, follow: true, abortSignal: opts.signal })) as unknown as Readable;
  } catch {
    return; // closed before the first line, or the container is gone
  }
  if (opts.background) unref(stream);
  if (opts.signal?.aborted) {
    stream.destroy(); // closed while the answer was on its way
    return;
  }
  await new Promise<void>((resolve) => {
    opts.signal?.addEventListener('abort', () => {
      stream.destroy();
      resolve();
    });
    stream.on('data', (chunk: Buffer) => {
      for (const l of split.push(chunk)) opts.onLine(l);
    });
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
  });
}

/**
 * A lab container changed (health status, start, death): `next` resolves at the next change, or after
 * waitMs. `seen` marks what came before as read, so a change during an inspect is not lost.
 */
export async function stateChanges(docker: Docker): Promise<{
  seen(): void;
  next(waitMs: number): Promise<void>;
  close(): void;
}> {
  const stop = new AbortController();
  const stream = (await docker.getEvents({
    abortSignal: stop.signal,
    filters: {
      type: ['container'],
      event: ['health_status', 'start', 'die'],
      label: [`com.docker.compose.project=${PROJECT}`],
    },
  })) as unknown as Readable;
  unref(stream);
  let changed = false;
  let wake: (() => void) | undefined;
  stream.on('data', () => {
    changed = true;
    wake?.();
  });
  stream.on('error', () => undefined);
  return {
    seen: () => {
      changed = false;
    },
    next: (waitMs) =>
      changed
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(() => wake?.(), waitMs);
            wake = () => {
              clearTimeout(timer);
              wake = undefined;
              resolve();
            };
          }),
    close: () => {
      stream.destroy();
      stop.abort();
    },
  };
}

/** Every host's new events from its events file, and the deaths of containers, in time order. */
export class DockerEvents {
  private buffer: LabEvent[] = [];
  private readonly files = tailEvents(hosts.map((h) => dockerEventsFile(h.name)));
  private readonly stop = new AbortController();
  private stream?: Readable;

  constructor(private readonly docker: Docker) {}

  async start(): Promise<void> {
    const stream = (await this.docker.getEvents({
      abortSignal: this.stop.signal,
      filters: {
        type: ['container'],
        event: ['die'],
        label: [`com.docker.compose.project=${PROJECT}`],
      },
    })) as unknown as Readable;
    unref(stream);
    this.stream = stream;
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) this.onDockerEvent(JSON.parse(p));
    });
    stream.on('error', () => undefined);
  }

  private onDockerEvent(e: {
    status?: string;
    id?: string;
    timeNano?: number;
    Actor?: { Attributes?: Record<string, string> };
  }): void {
    const host = e.Actor?.Attributes?.['com.docker.compose.service'];
    if (!host || !e.id) return;
    const code = Number(e.Actor?.Attributes?.exitCode ?? 0);
    // exit 0 is a clean stop (lab stop, SIGTERM); anything else is a host dying
    if (e.status !== 'die' || code === 0 || host === 'bridge-rules') return;
    this.buffer.push({
      ts: e.timeNano ? Math.round(e.timeNano / 1000) : nowMicros(),
      host,
      kind: 'service.died',
      summary: `${host} died (its container exited with code ${code})`,
      data: { exitCode: code, container: e.id.slice(0, 12) },
    });
  }

  close(): void {
    this.stream?.destroy();
    this.stop.abort();
  }

  async read(): Promise<LabEvent[]> {
    const out = [...(await this.files.read()), ...this.buffer].sort((a, b) => a.ts - b.ts);
    this.buffer = [];
    return out;
  }
}
