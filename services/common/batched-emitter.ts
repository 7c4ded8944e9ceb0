// An Emitter that writes its lines in batches: at thousands of requests a second, one write(2) per
// event costs more than the work the event describes. Lines keep their order and are flushed at the
// end of each turn of the event loop (and by flush() on close), within about a millisecond.
// The batch is one string, appended to: its encoding copies each line straight into the buffer,
// where joining an array first would copy the whole batch once more.
import { createEmitter, type Emitter } from './events.js';

export function createBatchedEmitter(
  host: string,
  write: (chunk: string) => void = (chunk) => void process.stdout.write(chunk),
): Emitter & { flush(): void } {
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!pending) return;
    const out = pending;
    pending = '';
    write(out);
  };
  const emitter = createEmitter(host, (line) => {
    pending += line;
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
  return Object.assign(emitter, { flush });
}
