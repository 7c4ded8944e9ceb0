// Host logs are capped: past LAB_LOG_MAX_MB the file is copied to .1 and starts again, and the
// writer (stdout opened with O_APPEND, as the local runtime does) goes on at the new start.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logCapBytes, rotateIfLarge } from '../../../services/common/log-cap.js';
import { PROJECT_ROOT } from '../../../services/common/settings.js';

describe('log cap', () => {
  it('rotates a file past the cap to .1 and appends at the new start', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'enterlab-logcap-')), 'events.jsonl');
    const fd = openSync(path, 'a');
    writeSync(fd, `${'x'.repeat(2000)}\n`);
    expect(rotateIfLarge(fd, 1000)).toBe(true);
    writeSync(fd, 'after\n');
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).toBe('after\n');
    expect(statSync(`${path}.1`).size).toBe(2001);
  });

  it('leaves a file under the cap alone', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'enterlab-logcap-')), 'stderr.log');
    const fd = openSync(path, 'a');
    writeSync(fd, 'short\n');
    expect(rotateIfLarge(fd, 1000)).toBe(false);
    closeSync(fd);
    expect(existsSync(`${path}.1`)).toBe(false);
  });

  it('reads the cap from LAB_LOG_MAX_MB, 50 MB by default', () => {
    expect(logCapBytes({})).toBe(50 * 1024 * 1024);
    expect(logCapBytes({ LAB_LOG_MAX_MB: '2' })).toBe(2 * 1024 * 1024);
    expect(logCapBytes({ LAB_LOG_MAX_MB: 'lots' })).toBe(50 * 1024 * 1024);
  });

  it("keeps a running process's own stdout file under the cap", () => {
    const path = join(mkdtempSync(join(tmpdir(), 'enterlab-logcap-')), 'events.jsonl');
    const out = openSync(path, 'a');
    // 1 MB of lines, then the cap's 5 s check, then one last line
    const script = `import('${join(PROJECT_ROOT, 'dist/services/common/log-cap.js')}').then((m) => {
      m.capOwnLogs(64 * 1024);
      for (let i = 0; i < 1024; i++) process.stdout.write('y'.repeat(1023) + '\\n');
      setTimeout(() => process.stdout.write('last\\n'), 5500);
    })`;
    spawnSync(process.execPath, ['-e', script], { stdio: ['ignore', out, 'inherit'] });
    closeSync(out);
    expect(statSync(path).size).toBeLessThan(64 * 1024);
    expect(readFileSync(path, 'utf8')).toBe('last\n');
    expect(statSync(`${path}.1`).size).toBe(1024 * 1024);
  });
});
