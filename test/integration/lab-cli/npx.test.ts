// `npx lab` typed in a fresh clone before `npm install` (as a newcomer does): a clear message, a
// non-zero exit, and npx's cache left whole, so `npx lab` works once the checkout is installed.
// The clone and npm's cache are this test's own (npm_config_cache); nothing is fetched.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../services/common/settings.js';

const tmp = mkdtempSync(join(tmpdir(), 'enterlab-npx-'));
const clone = join(tmp, 'clone');
const cache = join(tmp, 'npm-cache');
const env = { ...process.env, npm_config_cache: cache, npm_config_offline: 'true', NO_COLOR: '1' };
const isGit = existsSync(join(PROJECT_ROOT, '.git'));

const npx = (...args: string[]) =>
  spawnSync('npx', args, { cwd: clone, env, encoding: 'utf8', timeout: 120_000 });

describe.skipIf(!isGit || !existsSync(join(PROJECT_ROOT, 'dist/lab-cli/main.js')))(
  'npx lab in a fresh clone',
  () => {
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    it('before npm install: says to run npm install, every time, and never poisons the npx cache', () => {
      execFileSync('git', ['clone', '-q', PROJECT_ROOT, clone]);
      for (let i = 0; i < 2; i++) {
        const r = npx('lab', 'status');
        expect(r.status).toBe(1);
        expect(r.stderr).toContain('run `npm install`');
        expect(r.stderr).not.toContain('ENOENT');
      }
    });

    it('after the install, npx lab runs the built CLI', () => {
      // the install, without the network: this checkout's dependencies and build
      execFileSync('cp', ['-al', join(PROJECT_ROOT, 'node_modules'), join(clone, 'node_modules')]);
      execFileSync('cp', ['-r', join(PROJECT_ROOT, 'dist'), join(clone, 'dist')]);
      const r = npx('lab', '--help');
      expect(r.stderr).not.toContain('ENOENT');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('Usage: lab');
    });
  },
);
