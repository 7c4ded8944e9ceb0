// Where a host's events go, and the one line a person reads for an event.
//
// - local runtime: one JSON line per event on stdout, which the runtime points at the host's
//   events.jsonl in the state dir (lab-cli/runtime/local.ts).
// - docker: stdout is what `docker compose up` and `docker logs` show, so it gets one readable line
//   per event (`readableLine`), and the JSON lines go to LAB_EVENTS_DIR/<host>/events.jsonl, a bind
//   mount the CLI reads (`.lab/docker/<host>/events.jsonl` on the machine, docker-compose.yml).
//
// Events caused by a health probe (the proxy's backend probe, Varnish's .probe, every 2 s) carry
// `probe: true`: they stay in events.jsonl, but no terminal line is printed for them, so an idle lab
// is quiet and a press-enter run is not drowned. A load balancer's log pipeline filters its health
// checks the same way, by their User-Agent (kube-probe, ELB-HealthChecker).
import { mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { EventSink, LabEvent } from './events.js';
import { capOwnLogs } from './log-cap.js';

/** The User-Agent of the proxy's backend probe: the app marks the events of these requests. */
export const PROBE_USER_AGENT = 'proxy-probe';

/** `{ probe: true }` for a request the health probe sent, else nothing: spread it into an event. */
export function probeMark(headers: { 'user-agent'?: string }): { probe?: true } {
  return headers['user-agent'] === PROBE_USER_AGENT ? { probe: true } : {};
}

/**
 * One event as a person reads it: `12:03:04.123 dns.query          summary (41.0 ms)`, the time in
 * UTC to the millisecond (the containers' clock), the kind, the summary and a span's duration, as
 * the timeline shows them. The host is not repeated: compose and `lab logs` put its name in front.
 */
export function readableLine(ev: LabEvent): string {
  const time = new Date(Math.floor(ev.ts / 1000)).toISOString().slice(11, 23);
  const dur = ev.dur !== undefined ? ` (${(ev.dur / 1000).toFixed(1)} ms)` : '';
  // a summary is one line (an event's text may quote a newline from the wire)
  const summary = ev.summary.replace(/[\r\n]+/g, ' ');
  return `${time} ${ev.kind.padEnd(18)} ${summary}${dur}`;
}

/** The two channels of a host: its events (JSON lines) and, on docker, a terminal for people. */
export interface EventOutput {
  /** one or more JSON lines, each ending in \n */
  events(chunk: string): void;
  /** readable lines for the terminal (absent: nothing is printed for people) */
  terminal?(chunk: string): void;
}

const outputs = new Map<string, EventOutput>();

/**
 * The output of this process's host (one per host and process: every emitter of a host shares it).
 * LAB_EVENTS_DIR set (docker): events to <dir>/<host>/events.jsonl, readable lines to stdout.
 */
export function hostOutput(host: string, env: NodeJS.ProcessEnv = process.env): EventOutput {
  const dir = env.LAB_EVENTS_DIR;
  const key = `${dir ?? ''}\0${host}`;
  let out = outputs.get(key);
  if (out) return out;
  if (!dir) {
    out = { events: (chunk) => void process.stdout.write(chunk) };
  } else {
    mkdirSync(join(dir, host), { recursive: true });
    const fd = openSync(join(dir, host, 'events.jsonl'), 'a');
    capOwnLogs(undefined, [fd]); // under LAB_LOG_MAX_MB, as the local runtime's events.jsonl
    out = {
      events: (chunk) => void writeSync(fd, chunk),
      terminal: (chunk) => void process.stdout.write(chunk),
    };
  }
  outputs.set(key, out);
  return out;
}

/** An emitter's sink writing to an output, event by event (createEmitter's default). */
export function outputSink(out: EventOutput): EventSink {
  return (line, ev) => {
    out.events(line);
    if (out.terminal && !ev.probe) out.terminal(`${readableLine(ev)}\n`);
  };
}

/** The terminal's text for some events: a line for each one not caused by a health probe. */
export function terminalText(events: LabEvent[]): string {
  return events
    .filter((e) => !e.probe)
    .map((e) => `${readableLine(e)}\n`)
    .join('');
}
