import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { listScenarioFiles, loadScenario, ScenarioError } from '../../../lab-cli/scenario/load.js';
import { type ActionDef, defineAction } from '../../../lab-cli/scenario/types.js';

const actions = new Map<string, ActionDef>([
  [
    'browse',
    defineAction({
      name: 'browse',
      schema: z.string().url(),
      describe: (u) => `browse ${u}`,
      run: async () => ({ ok: true }),
    }),
  ],
]);

const dir = mkdtempSync(join(tmpdir(), 'scenario-test-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const good = `title: A visit
story: >
  The browser asks for a page.
journey: [2, 7]
steps:
  - say: Here we go.
  - browse: https://www.example.test/hej
  - expect:
      events:
        - { host: proxy, kind: cache.lookup, data: { result: miss } }
      absent:
        - { host: resolver, kind: dns.upstream }
`;

describe('scenario files', () => {
  it('loads a valid scenario with its steps and their lines', () => {
    const sc = loadScenario(file('good.yaml', good), actions);
    expect(sc.name).toBe('good');
    expect(sc.journey).toEqual([2, 7]);
    expect(sc.steps.map((s) => s.kind)).toEqual(['say', 'action', 'expect']);
    expect(sc.steps[1].line).toBe(7);
  });

  it('names file, line and column of a YAML syntax error', () => {
    const p = file('syntax.yaml', 'title: x\nstory: y\nsteps:\n  - say: [unclosed\n');
    expect(() => loadScenario(p, actions)).toThrow(ScenarioError);
    expect(() => loadScenario(p, actions)).toThrow(new RegExp(`^${p}:\\d+:\\d+: `));
  });

  it('names the line of an unknown step', () => {
    const p = file(
      'unknown.yaml',
      good.replace('  - browse: https://www.example.test/hej', '  - teleport: now'),
    );
    expect(() => loadScenario(p, actions)).toThrow(new RegExp(`${p}:7:\\d+: unknown step "teleport"`));
  });

  it("names the line of an action's bad argument", () => {
    const p = file('badarg.yaml', good.replace('https://www.example.test/hej', 'not a url'));
    expect(() => loadScenario(p, actions)).toThrow(new RegExp(`${p}:7:\\d+: browse`));
  });

  it('names the line of a misspelt expect field', () => {
    const p = file('badexpect.yaml', good.replace('absent:', 'absnet:'));
    expect(() => loadScenario(p, actions)).toThrow(new RegExp(`${p}:\\d+:\\d+: expect`));
  });

  it('requires the header fields, naming the missing one', () => {
    const p = file('nojourney.yaml', good.replace('journey: [2, 7]\n', ''));
    expect(() => loadScenario(p, actions)).toThrow(/journey/);
  });

  it('rejects a step with two keys', () => {
    const p = file(
      'twokeys.yaml',
      good.replace('  - say: Here we go.', '  - say: Here we go.\n    browse: https://x.test/'),
    );
    expect(() => loadScenario(p, actions)).toThrow(/exactly one key/);
  });
});

describe("the project's scenarios", () => {
  it('every file in scenarios/ loads with every action the CLI knows', async () => {
    const { loadActions } = await import('../../../lab-cli/scenario/registry.js');
    const all = await loadActions();
    expect(all.has('wait')).toBe(true);
    for (const f of listScenarioFiles()) expect(() => loadScenario(f, all), f).not.toThrow();
  });
});
