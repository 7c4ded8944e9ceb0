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
   * (the app's kernel steps): `dataJson` must be one JSON object, ASCII only (see `asciiJson`).
   */
  emitJson(ev: Omit<EventInput, 'data'>, dataJson: string): void;
  /** Opens a span now; call the returned function to emit the closing event with `dur`. */
  span(ev: EventInput): { id: string; end(close: Partial<EventInput> & { kind?: string }): LabEvent };
}

// printable ASCII but `"` and `\`: a string of only these is its own JSON literal between quotes
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const NON_ASCII = /[\u0080-\uffff]/;
const NON_ASCII_ALL = /[\u0080-\uffff]/g;
const escapeChar = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * JSON text with every non-ASCII character escaped (`→` as `\u2192`), as a one-byte string: the
 * same JSON to any parser, and a line V8 keeps at one byte a character. One `→` left in a line made
 * the whole batch of lines two-byte, twice the memory, and its UTF-8 encoding slow; escaping alone
 * does not undo that (the pieces of a two-byte string stay two-byte), a latin1 round trip does.
 */
function ascii(json: string): string {
  if (!NON_ASCII.test(json)) return json;
  return Buffer.from(json.replace(NON_ASCII_ALL, escapeChar), 'latin1').toString('latin1');
}

/** JSON text for a value, as JSON.stringify writes it, ASCII only (see `ascii`). */
export function asciiJson(value: unknown): string {
  const json = JSON.stringify(value);
  return json === undefined ? 'null' : ascii(json);
}

/** A number as JSON writes it (NaN and the infinities as null). */
const num = (n: number) => (Number.isFinite(n) ? String(n) : 'null');

/** Literals of non-ASCII strings, kept for the next time: the same few summaries come back. */
const escaped = new Map<string, string>();

/** A string as a JSON literal, ASCII only (see `ascii`); most strings need only their quotes. */
export function quote(s: string): string {
  if (PLAIN.test(s)) return `"${s}"`;
  if (!NON_ASCII.test(s)) return JSON.stringify(s); // quotes, backslashes, control characters
  let literal = escaped.get(s);
  if (literal === undefined) {
    literal = ascii(JSON.stringify(s));
    if (escaped.size >= 512) escaped.clear();
    escaped.set(s, literal);
  }
  return literal;
}

/** Any JSON value, ASCII only: strings and numbers directly, the rest through JSON.stringify. */
export function jsonValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return quote(v);
    case 'number':
      return num(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return asciiJson(v);
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
    sink(line(ev, full.ts, ev.data === undefined ? undefined : asciiJson(ev.data)));
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
