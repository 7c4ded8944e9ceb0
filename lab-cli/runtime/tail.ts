// Reading a growing log file from an offset, line by line, keeping a partial last line for later.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

export class FileTail {
  private partial = '';
  constructor(
    readonly path: string,
    private offset: number,
  ) {}

  async lines(): Promise<string[]> {
    if (!existsSync(this.path)) return [];
    const size = statSync(this.path).size;
    if (size < this.offset) this.offset = 0; // truncated or replaced
    if (size === this.offset) return [];
    const buf = Buffer.alloc(size - this.offset);
    const fd = openSync(this.path, 'r');
    try {
      readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const text = this.partial + buf.toString('utf8');
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    return parts.filter((l) => l.length > 0);
  }
}

export function readLines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}
