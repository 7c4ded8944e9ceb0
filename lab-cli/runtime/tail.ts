// Reading a growing log file from an offset, line by line, keeping a partial last line for later.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { parseEventLine } from '../../services/common/event-schema.js';
import type { LabEvent } from '../../services/common/events.js';

export class FileTail {
  private partial = '';
  constructor(
    readonly path: string,
    private offset: number,
  ) {}

  async lines(): Promise<string[]> {
    if (!existsSync(this.path)) return [];
    const size = statSync(this.path).size;
    if (size < this.offset) this.offset = 0; // truncated or replaced
    if (size === this.offset) return [];
    const buf = Buffer.alloc(size - this.offset);
    const fd = openSync(this.path, 'r');
    try {
      readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const text = this.partial + buf.toString('utf8');
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    return parts.filter((l) => l.length > 0);
  }
}

/**
 * Polls a host's events file until it prints service.ready. `check` runs between polls and throws
 * to give up (the host exited, or too long): the local runtime and the benchmarks' hosts share it.
 */
export async function waitForReady(tail: FileTail, check: () => void, everyMs = 15): Promise<void> {
  for (;;) {
    if ((await tail.lines()).some((l) => parseEventLine(l)?.kind === 'service.ready')) return;
    check();
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function readLines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}

/** Every host's events file followed from its current end: `read` returns the new events in time order. */
export function tailEvents(paths: string[]): { read(): Promise<LabEvent[]> } {
  const tails = paths.map((path) => new FileTail(path, existsSync(path) ? statSync(path).size : 0));
  return {
    read: async () => {
      const out: LabEvent[] = [];
      for (const t of tails)
        for (const line of await t.lines()) {
          const ev = parseEventLine(line);
          if (ev) out.push(ev);
        }
      return out.sort((a, b) => a.ts - b.ts);
    },
  };
}

/** A host's events file, then its rotated copy (log-cap.ts): the ones that exist, newest first. */
export function withRotated(path: string): string[] {
  return [path, `${path}.1`].filter((p) => existsSync(p));
}

/** The host's last service.ready event in its events file: what it listens on, why a part is off. */
export function lastReady(path: string): LabEvent | undefined {
  for (const p of withRotated(path)) {
    const lines = readLines(p);
    for (let i = lines.length - 1; i >= 0; i--) {
      if (lines[i].includes('"service.ready"')) return parseEventLine(lines[i]);
    }
  }
  return undefined;
}
