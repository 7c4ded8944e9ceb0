// LabEvent: one JSON line on stdout for each thing a host does (ARCHITECTURE.md, "Events").
// The kinds and their data are a versioned contract; scenarios assert on them.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const EVENT_SCHEMA_VERSION = 1;

export const labEventSchema = z.object({
  ts: z.number().int().positive(),
  host: z.string().min(1),
  kind: z.string().regex(/^[a-z0-9-]+(\.[a-z0-9_-]+)*$/),
  summary: z.string().min(1),
  span: z.string().optional(),
  parent: z.string().optional(),
  trace: z.string().optional(),
  peer: z.string().optional(),
  dur: z.number().nonnegative().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

export type LabEvent = z.infer<typeof labEventSchema>;
export type EventInput = Omit<LabEvent, 'ts' | 'host'> & { ts?: number };

/** Microseconds since the epoch, on the clock every host and the capture share. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export function newSpanId(): string {
  return randomBytes(8).toString('hex');
}

export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

export type EventSink = (line: string) => void;

const stdoutSink: EventSink = (line) => {
  process.stdout.write(line);
};

export interface Emitter {
  host: string;
  emit(ev: EventInput): LabEvent;
  /** Opens a span now; call the returned function to emit the closing event with `dur`. */
  span(ev: EventInput): { id: string; end(close: Partial<EventInput> & { kind?: string }): LabEvent };
}

export function createEmitter(host: string, sink: EventSink = stdoutSink): Emitter {
  const emit = (ev: EventInput): LabEvent => {
    const full: LabEvent = { ts: ev.ts ?? nowMicros(), host, ...ev } as LabEvent;
    for (const k of Object.keys(full) as (keyof LabEvent)[]) if (full[k] === undefined) delete full[k];
    sink(`${JSON.stringify(full)}\n`);
    return full;
  };
  return {
    host,
    emit,
    span(ev) {
      const id = ev.span ?? newSpanId();
      const start = nowMicros();
      emit({ ...ev, span: id, ts: start });
      return {
        id,
        end: (close) =>
          emit({
            kind: close.kind ?? `${ev.kind}.done`,
            summary: close.summary ?? ev.summary,
            ...close,
            span: id,
            parent: ev.parent,
            trace: close.trace ?? ev.trace,
            dur: nowMicros() - start,
          }),
      };
    },
  };
}

/** Parses one events.jsonl line; returns undefined for blank or non-event lines (e.g. a stray log). */
export function parseEventLine(line: string): LabEvent | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const r = labEventSchema.safeParse(JSON.parse(t));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
