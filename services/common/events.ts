// LabEvent: one JSON line on stdout for each thing a host does (docs/ARCHITECTURE.md, "Events").
// The kinds and their data are a versioned contract; scenarios assert on them.
import { randomBytes } from 'node:crypto';
import { hostOutput, outputSink } from './event-output.js';

export const EVENT_SCHEMA_VERSION = 1;

/** One event, as every host writes it (validated by event-schema.ts, which the CLI and tests load). */
export interface LabEvent {
  /** microseconds since the epoch */
  ts: number;
  host: string;
  kind: string;
  summary: string;
  span?: string;
  parent?: string;
  trace?: string;
  peer?: string;
  dur?: number;
  /** caused by a health probe, not by a person: kept, but not printed on a terminal (event-output.ts) */
  probe?: true;
  data?: Record<string, unknown>;
}

/**
 * One kind of event and the shape of its data. Each service declares its kinds as a union of these in
 * its own events.ts (services/proxy/events.ts, …); scripts/events-doc.ts turns the unions into
 * docs/EVENTS.md, docs/events.schema.json and the list at the top of each main.ts.
 */
export interface EventShape {
  kind: string;
  data?: object;
}

/** What a call site passes to emit: one member of the union E, plus the fields every event has. */
export type EventInput<E extends EventShape = EventShape> = E extends EventShape
  ? Omit<LabEvent, 'ts' | 'host' | 'kind' | 'data'> & E & { ts?: number }
  : never;

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

/** Receives each event as its JSON line (and as the object, for a readable line). */
export type EventSink = (line: string, ev: LabEvent) => void;
// the default sink is the host's own output (event-output.ts): stdout, or on docker a file plus
// readable lines

/**
 * Writes a host's events. `Emitter<ProxyEvent>` only takes the proxy's kinds, each with its data's
 * shape; a plain `Emitter` (shared code that any host runs) takes any kind.
 */
export interface Emitter<E extends EventShape = EventShape> {
  host: string;
  emit(ev: EventInput<E>): LabEvent;
  /** Opens a span now; call the returned function to emit the closing event with `dur`. */
  span(ev: EventInput<E>): { id: string; end(close: Partial<EventInput<E>>): LabEvent };
}

export function createEmitter<E extends EventShape = EventShape>(
  host: string,
  sink: EventSink = outputSink(hostOutput(host)),
): Emitter<E> {
  const emit = (ev: EventInput): LabEvent => {
    // the schema's field order, and no key for a field left out
    const full: LabEvent = { ts: ev.ts ?? nowMicros(), host, kind: ev.kind, summary: ev.summary };
    if (ev.span !== undefined) full.span = ev.span;
    if (ev.parent !== undefined) full.parent = ev.parent;
    if (ev.trace !== undefined) full.trace = ev.trace;
    if (ev.peer !== undefined) full.peer = ev.peer;
    if (ev.dur !== undefined) full.dur = ev.dur;
    if (ev.probe) full.probe = true;
    if (ev.data !== undefined) full.data = ev.data as Record<string, unknown>;
    // the one place an event becomes text: one JSON line (UTF-8 as written, newlines escaped)
    sink(`${JSON.stringify(full)}\n`, full);
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
