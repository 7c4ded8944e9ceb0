// The list of event kinds scenarios are checked against keeps up with the services, and a typo'd
// kind is rejected at load with a "did you mean".
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_KINDS } from '../../../lab-cli/scenario/event-kinds.js';
import { listScenarioFiles, loadScenario } from '../../../lab-cli/scenario/load.js';
import { loadActions } from '../../../lab-cli/scenario/registry.js';
import { PROJECT_ROOT } from '../../../services/common/settings.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('event kinds', () => {
  it("lists every kind: '…' the services emit", () => {
    const emitted = new Set<string>();
    for (const f of sources(join(PROJECT_ROOT, 'services')))
      for (const m of readFileSync(f, 'utf8').matchAll(/kind: '([a-z0-9._-]+)'/g)) emitted.add(m[1]);
    expect([...emitted].filter((k) => !EVENT_KINDS.includes(k))).toEqual([]);
  });

  it('every scenario in scenarios/ still loads', async () => {
    const actions = await loadActions();
    for (const f of listScenarioFiles()) expect(() => loadScenario(f, actions), f).not.toThrow();
  });

  it('rejects a typo at load, with file:line:col and the kind meant', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'kinds-')), 'typo.yaml');
    writeFileSync(
      f,
      'title: T\nstory: S\njourney: [1]\nsteps:\n  - expect:\n      events:\n        - { host: proxy, kind: cache.lookupp }\n',
    );
    expect(() => loadScenario(f, new Map())).toThrow(
      new RegExp(
        `${f}:7:\\d+: expect: unknown event kind "cache.lookupp" \\(did you mean cache.lookup\\?\\)`,
      ),
    );
  });
});
