// A cap on a host's own log files (the local runtime points its stdout, the events, and its stderr
// at files in the state dir): a lab left running through a day-long workshop under load must not
// fill a disk. When a file passes the cap it is copied to <file>.1 (the previous .1 is replaced) and
// truncated; the runtime opened it with O_APPEND, so the next line goes to the new start of the file.
// Lines written between the copy and the truncation are lost: a teaching choice for simple code.
import { copyFileSync, fstatSync, ftruncateSync, readlinkSync } from 'node:fs';

/** LAB_LOG_MAX_MB (default 50): each of events.jsonl and stderr.log, plus one rotated copy of each. */
export const DEFAULT_LOG_MAX_MB = 50;
const CHECK_EVERY_MS = 5000;

export function logCapBytes(env: NodeJS.ProcessEnv = process.env): number {
  const mb = Number(env.LAB_LOG_MAX_MB ?? DEFAULT_LOG_MAX_MB);
  return Number.isFinite(mb) && mb > 0 ? mb * 1024 * 1024 : DEFAULT_LOG_MAX_MB * 1024 * 1024;
}

/** Rotates fd's file when it is larger than maxBytes; a pipe or a terminal (docker) is left alone. */
export function rotateIfLarge(fd: number, maxBytes: number): boolean {
  const st = fstatSync(fd);
  if (!st.isFile() || st.size <= maxBytes) return false;
  const path = readlinkSync(`/proc/self/fd/${fd}`);
  copyFileSync(path, `${path}.1`);
  ftruncateSync(fd, 0);
  return true;
}

/** Checks stdout and stderr (or other files: docker's events file) every few seconds, for as long as the process runs. */
export function capOwnLogs(maxBytes = logCapBytes(), fds = [1, 2]): void {
  const check = () => {
    for (const fd of fds)
      try {
        rotateIfLarge(fd, maxBytes);
      } catch {
        // a log that cannot be rotated (no /proc, a read-only dir) is left to grow, as before
      }
  };
  setInterval(check, CHECK_EVERY_MS).unref();
}
