// An Emitter that writes its lines in batches: a busy host (the app at hundreds of requests a
// second, nine events each) would otherwise make one write(2) per event. Lines keep their order and
// are flushed at the end of each turn of the event loop (and by flush() on close). On docker the
// readable lines for the terminal (event-output.ts) are batched the same way.
import { type EventOutput, hostOutput, terminalText } from './event-output.js';
import { createEmitter, type Emitter, type EventShape, type LabEvent } from './events.js';

export function createBatchedEmitter<E extends EventShape = EventShape>(
  host: string,
  /** the host's output (default), or one function that takes the JSON lines (tests) */
  out: EventOutput | ((chunk: string) => void) = hostOutput(host),
): Emitter<E> & { flush(): void } {
  const output: EventOutput = typeof out === 'function' ? { events: out } : out;
  let lines: string[] = [];
  let events: LabEvent[] = [];
  const flush = () => {
    if (lines.length === 0) return;
    const chunk = lines.join('');
    const text = output.terminal ? terminalText(events) : '';
    lines = [];
    events = [];
    output.events(chunk);
    if (text) output.terminal?.(text);
  };
  const emitter = createEmitter<E>(host, (line, ev) => {
    if (output.terminal) events.push(ev);
    if (lines.push(line) === 1) setImmediate(flush);
  });
  return Object.assign(emitter, { flush });
}
