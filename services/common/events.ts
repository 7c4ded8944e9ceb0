// LabEvent: one JSON line on stdout for each thing a host does (ARCHITECTURE.md, "Events").
// The kinds and their data are a versioned contract; scenarios assert on them.
import { randomBytes } from 'node:crypto';

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
  data?: Record<string, unknown>;
}
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
  /**
   * Emits an event whose data its producer serialized itself, for a hot path that knows its shape
   * (the app's kernel steps): `dataJson` must be one JSON object.
   */
  emitJson(ev: Omit<EventInput, 'data'>, dataJson: string): void;
  /** Opens a span now; call the returned function to emit the closing event with `dur`. */
  span(ev: EventInput): { id: string; end(close: Partial<EventInput> & { kind?: string }): LabEvent };
}

// printable ASCII but `"` and `\`: a string of only these is its own JSON literal between quotes
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A number as JSON writes it (NaN and the infinities as null). */
const num = (n: number) => (Number.isFinite(n) ? String(n) : 'null');

/** A string as a JSON literal, as JSON.stringify writes it; most strings need only their quotes. */
export function quote(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

/** Any JSON value as JSON.stringify writes it: strings and numbers directly, the rest through it. */
export function jsonValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return quote(v);
    case 'number':
      return num(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return JSON.stringify(v) ?? 'null';
  }
}

/** A timestamp as JSON, its seconds formatted once a second: a 16-digit number is a slow conversion. */
let tsSecond = -1;
let tsSecondText = '';
function tsJson(ts: number): string {
  if (!Number.isSafeInteger(ts) || ts < 0) return num(ts);
  const second = Math.floor(ts / 1e6);
  if (second !== tsSecond) [tsSecond, tsSecondText] = [second, String(second)];
  return second ? `${tsSecondText}${String(1e6 + (ts - second * 1e6)).slice(1)}` : String(ts);
}

export function createEmitter(host: string, sink: EventSink = stdoutSink): Emitter {
  const hostJson = quote(host);
  // One line, written field by field in the schema's order, with no undefined keys: at thousands of
  // events a second, the generic JSON.stringify of the whole event cost more than the work it told of.
  const line = (ev: Omit<EventInput, 'data'>, ts: number, dataJson: string | undefined): string => {
    let out = `{"ts":${tsJson(ts)},"host":${hostJson},"kind":${quote(ev.kind)},"summary":${quote(ev.summary)}`;
    if (ev.span !== undefined) out += `,"span":${quote(ev.span)}`;
    if (ev.parent !== undefined) out += `,"parent":${quote(ev.parent)}`;
    if (ev.trace !== undefined) out += `,"trace":${quote(ev.trace)}`;
    if (ev.peer !== undefined) out += `,"peer":${quote(ev.peer)}`;
    if (ev.dur !== undefined) out += `,"dur":${num(ev.dur)}`;
    return dataJson === undefined ? `${out}}\n` : `${out},"data":${dataJson}}\n`;
  };
  const emit = (ev: EventInput): LabEvent => {
    const full: LabEvent = { ts: ev.ts ?? nowMicros(), host, kind: ev.kind, summary: ev.summary };
    if (ev.span !== undefined) full.span = ev.span;
    if (ev.parent !== undefined) full.parent = ev.parent;
    if (ev.trace !== undefined) full.trace = ev.trace;
    if (ev.peer !== undefined) full.peer = ev.peer;
    if (ev.dur !== undefined) full.dur = ev.dur;
    if (ev.data !== undefined) full.data = ev.data;
    sink(line(ev, full.ts, ev.data === undefined ? undefined : JSON.stringify(ev.data)));
    return full;
  };
  const emitJson = (ev: Omit<EventInput, 'data'>, dataJson: string): void => {
    sink(line(ev, ev.ts ?? nowMicros(), dataJson));
  };
  return {
    host,
    emit,
    emitJson,
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
