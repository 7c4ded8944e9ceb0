// An Emitter that writes its lines in batches: a busy host (the app at hundreds of requests a
// second, nine events each) would otherwise make one write(2) per event. Lines keep their order and
// are flushed at the end of each turn of the event loop (and by flush() on close).
import { createEmitter, type Emitter, type EventShape } from './events.js';

export function createBatchedEmitter<E extends EventShape = EventShape>(
  host: string,
  write: (chunk: string) => void = (chunk) => void process.stdout.write(chunk),
): Emitter<E> & { flush(): void } {
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const out = pending.join('');
    pending = [];
    write(out);
  };
  const emitter = createEmitter<E>(host, (line) => {
    if (pending.push(line) === 1) setImmediate(flush);
  });
  return Object.assign(emitter, { flush });
}
