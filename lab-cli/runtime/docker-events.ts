// Every container's stdout is its host's event stream (docs/ARCHITECTURE.md, "Events"): followed from
// a cursor's start, with a container's death (docker events) added to the timeline as an event.
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { parseEventLine } from '../../services/common/event-schema.js';
import { type LabEvent, nowMicros } from '../../services/common/events.js';
import { PROJECT } from './compose.js';
import { FrameSplitter } from './docker-engine.js';

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

/** The host's last service.ready event: what it listens on, and why a part of it is off. */
export async function readyEvent(c: Docker.Container): Promise<LabEvent | undefined> {
  let ready: LabEvent | undefined;
  await followLines(c, {
    follow: false,
    onLine: (l) => {
      if (l.stream === 'stdout' && l.line.includes('"service.ready"'))
        ready = parseEventLine(l.line) ?? ready;
    },
  });
  return ready;
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

export class DockerEvents {
  private buffer: LabEvent[] = [];
  private readonly from = nowMicros();
  private readonly following = new Set<string>();
  /** per container, the newest event read: a restarted container is followed again from there */
  private readonly newest = new Map<string, number>();
  private readonly streams = new Set<Readable>();
  private readonly stops = new Set<AbortController>();
  private closed = false;

  constructor(private readonly docker: Docker) {}

  async start(containers: Map<string, Docker.ContainerInfo>): Promise<void> {
    for (const info of containers.values()) if (info.State === 'running') this.follow(info.Id);
    const stop = new AbortController();
    this.stops.add(stop);
    const stream = (await this.docker.getEvents({
      abortSignal: stop.signal,
      filters: {
        type: ['container'],
        event: ['die', 'start'],
        label: [`com.docker.compose.project=${PROJECT}`],
      },
    })) as unknown as Readable;
    unref(stream);
    this.streams.add(stream);
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) this.onDockerEvent(JSON.parse(p));
    });
    stream.on('error', () => undefined);
  }

  private follow(id: string): void {
    if (this.closed || this.following.has(id)) return;
    this.following.add(id);
    const stop = new AbortController();
    this.stops.add(stop);
    void followLines(this.docker.getContainer(id), {
      follow: true,
      background: true,
      signal: stop.signal,
      since: Math.floor(this.from / 1e6) - 1,
      onLine: (l) => {
        const ev = l.stream === 'stdout' ? parseEventLine(l.line) : undefined;
        // `since` is in whole seconds: events before the cursor's start (or already read) are not new
        if (!ev || ev.ts < this.from || ev.ts <= (this.newest.get(id) ?? 0)) return;
        this.newest.set(id, ev.ts);
        this.buffer.push(ev);
      },
    }).finally(() => {
      this.following.delete(id);
      this.stops.delete(stop);
    });
  }

  private onDockerEvent(e: {
    status?: string;
    id?: string;
    timeNano?: number;
    Actor?: { Attributes?: Record<string, string> };
  }): void {
    const host = e.Actor?.Attributes?.['com.docker.compose.service'];
    if (!host || !e.id) return;
    if (e.status === 'start') {
      this.follow(e.id);
      return;
    }
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
    this.closed = true;
    for (const s of this.streams) s.destroy();
    for (const s of this.stops) s.abort();
  }

  drain(): LabEvent[] {
    const out = this.buffer.sort((a, b) => a.ts - b.ts);
    this.buffer = [];
    return out;
  }
}
