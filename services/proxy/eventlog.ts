// The proxy's events, written in batches: at tens of thousands of requests a second, one write(2)
// per event costs more than the cache hit itself. Lines keep their order and are flushed at the end
// of each turn of the event loop (and on close), so the timeline sees them within about a millisecond.
import { createEmitter, type Emitter } from '../common/events.js';

export function createBatchedEmitter(host: string): Emitter & { flush(): void } {
  let lines: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!lines.length) return;
    const out = lines.join('');
    lines = [];
    process.stdout.write(out);
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
