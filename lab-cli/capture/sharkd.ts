// Wireshark's sharkd, opened before the run ends: its start-up (registering every dissector, ~0.3 s
// of CPU and often a second of wall time on a busy 2-core machine) is paid while the scenario settles,
// so after the run the capture is loaded once and asked for fields and filter counts with no start-up.
// JSON-RPC 2.0, one request and one answer per line on stdin/stdout (`sharkd -`).
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { CaptureError } from './dumpcap.js';

/** sharkd 4.0 reads its requests with a 2 KiB line buffer: a longer line is cut and misread */
export const SHARKD_MAX_LINE = 2047;

/** An answer with an error, as sharkd worded it (code -5001: "Filter invalid - …"). */
export class SharkdError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Sharkd {
  pid: number;
  /** the capture file loaded, once load() succeeded */
  readonly file?: string;
  /** opens a capture file in the session (sharkd's first dissection pass) */
  load(file: string): Promise<void>;
  /** one request; rejects with SharkdError on an error answer */
  call<T = unknown>(method: string, params?: Record<string, string | number>): Promise<T>;
  /** whether a request fits sharkd's line buffer */
  fits(method: string, params?: Record<string, string | number>): boolean;
  /** ends the session (stdin closed, then SIGKILL if it lingers), without waiting for the exit */
  close(): Promise<void>;
}

const request = (id: number, method: string, params?: Record<string, string | number>) =>
  JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });

export function openSharkd(command = 'sharkd'): Sharkd {
  const child = spawn(command, ['-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let failure: Error | undefined;
  let stderr = '';
  let buffered = '';
  let nextId = 1;
  const failAll = (e: Error) => {
    failure ??= e;
    for (const p of pending.values()) p.reject(failure);
    pending.clear();
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => {
    stderr = (stderr + c).slice(-4000);
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const answer = JSON.parse(line) as {
        id?: number;
        result?: unknown;
        error?: { code: number; message: string };
      };
      const p = pending.get(answer.id ?? 0);
      if (!p) continue;
      pending.delete(answer.id ?? 0);
      if (answer.error) p.reject(new SharkdError(answer.error.code, answer.error.message));
      else p.resolve(answer.result);
    }
  });
  child.on('error', (err: NodeJS.ErrnoException) =>
    failAll(
      err.code === 'ENOENT'
        ? new CaptureError(
            'ERR_NO_DUMPCAP',
            'sharkd is not installed',
            'install it with: apt-get install wireshark-common (scripts/install-deps.sh does it)',
          )
        : err,
    ),
  );
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  child.once('close', (code, signal) =>
    failAll(new Error(`sharkd exited (${signal ?? code}): ${stderr.trim().split('\n').pop() ?? ''}`)),
  );
  child.stdin.on('error', () => {}); // a dead sharkd is reported through the pending calls
  // a session never outlives the command that started it
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  const fits = (method: string, params?: Record<string, string | number>) =>
    Buffer.byteLength(request(nextId, method, params)) <= SHARKD_MAX_LINE;
  let file: string | undefined;
  const session: Sharkd = {
    pid: child.pid ?? 0,
    get file() {
      return file;
    },
    async load(path: string) {
      await session.call('load', { file: resolve(path) });
      file = resolve(path);
    },
    fits,
    call<T>(method: string, params?: Record<string, string | number>): Promise<T> {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      const line = request(id, method, params);
      if (Buffer.byteLength(line) > SHARKD_MAX_LINE)
        return Promise.reject(
          new SharkdError(-1, `request of ${line.length} bytes is longer than sharkd reads`),
        );
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.stdin.write(`${line}\n`);
      });
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // sharkd exits once its stdin closes; nobody needs to wait for that
      child.stdin.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      void exited.then(() => {
        clearTimeout(t);
        process.removeListener('exit', onExit);
      });
    },
  };
  return session;
}
