// Run directories: one per run, even for two runs of one scenario in the same second.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimRunDir } from '../../../lab-cli/scenario/runner.js';
import { settingsFromEnv } from '../../../services/common/settings.js';

const local = (block: string) => settingsFromEnv({}, { runtime: 'local', block, stateDir: '/tmp/x' });

describe('claimRunDir', () => {
  it('gives two runs in the same second two directories', () => {
    const runs = mkdtempSync(join(tmpdir(), 'enterlab-runs-'));
    const a = claimRunDir(runs, 'press-enter', local('127.28'));
    const b = claimRunDir(runs, 'press-enter', local('127.28'));
    expect(a).not.toBe(b);
    expect(readdirSync(runs)).toHaveLength(2);
  });

  it('names the block when it is not the default, and only then', () => {
    const runs = mkdtempSync(join(tmpdir(), 'enterlab-runs-'));
    expect(claimRunDir(runs, 'press-enter', local('127.46'))).toMatch(/\d-127\.46-press-enter$/);
    expect(claimRunDir(runs, 'press-enter', local('127.28'))).toMatch(/\d-press-enter$/);
  });

  it('never hands one directory to two processes claiming at once', () => {
    const runs = mkdtempSync(join(tmpdir(), 'enterlab-runs-'));
    const script = `import('${join(process.cwd(), 'dist/lab-cli/scenario/runner.js')}').then((m) => { for (let i = 0; i < 20; i++) m.claimRunDir(process.argv[1], 'dns', { runtime: 'local', block: '127.28' }); })`;
    const procs = [0, 1, 2].map(() => `node -e "${script.replace(/"/g, '\\"')}" ${runs} &`).join(' ');
    execFileSync('bash', ['-c', `${procs} wait`]);
    expect(readdirSync(runs)).toHaveLength(60);
  });
});
