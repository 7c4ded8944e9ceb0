// Typos are caught where they are made: a scenario name, an expectation's host, an action, with a
// "did you mean" and (in files) file:line:col; the journey cuts long lines visibly; a capture is
// not started on a lab that is down.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, scenarioPath } from '../../../lab-cli/scenario/load.js';
import { loadActions } from '../../../lab-cli/scenario/registry.js';
import { nearest } from '../../../lab-cli/suggest.js';
import { PROJECT_ROOT } from '../../../services/common/settings.js';

const dir = mkdtempSync(join(tmpdir(), 'scenario-typos-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const head = 'title: T\nstory: S\njourney: [1]\nsteps:\n';
const lab = (...args: string[]) =>
  spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist/lab-cli/main.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, LAB_BLOCK: '127.85', LAB_STATE_DIR: join(dir, 'state'), NO_COLOR: '1' },
  });

describe('did you mean', () => {
  it('suggests the nearest known word, and nothing for a word far from all', () => {
    expect(nearest('press-entr', ['press-enter', 'dns'])).toBe('press-enter');
    expect(nearest('zzzzzz', ['press-enter', 'dns'])).toBeUndefined();
  });

  it('a typo in a scenario name', () => {
    expect(() => scenarioPath('press-entr')).toThrow(/did you mean press-enter\?/);
  });

  it('an unknown host in an expectation, at its file:line:col', async () => {
    const f = file(
      'host.yaml',
      `${head}  - expect:\n      events:\n        - { host: proxxy, kind: cache.lookup }\n`,
    );
    expect(() => loadScenario(f, new Map())).toThrow(
      new RegExp(`${f}:7:\\d+: expect: unknown host "proxxy" \\(did you mean proxy\\?\\)`),
    );
  });

  it('an unknown action', async () => {
    const f = file('action.yaml', `${head}  - dns.sett: { name: a.test, type: A, value: 172.28.2.81 }\n`);
    expect(() => loadScenario(f, new Map())).not.toThrow(/did you mean/); // no actions known at all
    const actions = await loadActions();
    expect(() => loadScenario(f, actions)).toThrow(
      /:5:\d+: unknown step "dns.sett" \(did you mean dns.set\?\)/,
    );
  });
});

describe.skipIf(!existsSync(join(PROJECT_ROOT, 'dist/lab-cli/main.js')))('the CLI', () => {
  it('cuts long journey lines with …', () => {
    const out = lab('journey').stdout;
    expect(out).toContain('…');
  });

  it('refuses to start a capture on a lab that is down, and starts nothing', () => {
    const r = lab('capture', 'start');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the lab is down');
    expect(existsSync(join(dir, 'state', 'capture.json'))).toBe(false);
  });
});
