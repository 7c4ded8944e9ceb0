// An Emitter that writes its lines in batches: at thousands of requests a second, one write(2) per
// event costs more than the work the event describes. Lines keep their order and are flushed at the
// end of each turn of the event loop (and by flush() on close), within about a millisecond.
import { createEmitter, type Emitter } from './events.js';

export function createBatchedEmitter(
  host: string,
  write: (chunk: string) => void = (chunk) => void process.stdout.write(chunk),
): Emitter & { flush(): void } {
  let lines: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!lines.length) return;
    const out = lines.join('');
    lines = [];
    write(out);
  };
  const emitter = createEmitter(host, (line) => {
    lines.push(line);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
  return Object.assign(emitter, { flush });
}
