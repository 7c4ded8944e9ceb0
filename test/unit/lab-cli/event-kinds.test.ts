// Scenario files are checked at load against the event catalogue generated from the services'
// events.ts unions (lab-cli/scenario/event-kinds.ts): an unknown host, a kind no host writes, a kind
// its host never writes or a /regex/ that matches no kind is an error naming file:line:col.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KINDS_BY_HOST } from '../../../lab-cli/scenario/event-kinds.js';
import { kindProblem, listScenarioFiles, loadScenario } from '../../../lab-cli/scenario/load.js';
import { loadActions } from '../../../lab-cli/scenario/registry.js';
import { hosts } from '../../../services/common/topology.js';

/** A scenario whose one expectation (line 7) is `pattern`. */
function scenarioWith(pattern: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'kinds-')), 'check.yaml');
  writeFileSync(
    f,
    `title: T\nstory: S\njourney: [1]\nsteps:\n  - expect:\n      events:\n        - ${pattern}\n`,
  );
  return f;
}

describe('event kinds in scenario files', () => {
  it('every scenario in scenarios/ still loads', async () => {
    const actions = await loadActions();
    for (const f of listScenarioFiles()) expect(() => loadScenario(f, actions), f).not.toThrow();
  });

  it('knows the kinds of every lab host, and those of the CLI as host lab', () => {
    expect(Object.keys(KINDS_BY_HOST).sort()).toEqual([...hosts.map((h) => h.name), 'lab'].sort());
    expect(KINDS_BY_HOST['ns-tld']).toContain('dns.referral');
    expect(KINDS_BY_HOST.proxy).toContain('service.ready');
    expect(KINDS_BY_HOST.proxy).not.toContain('dns.stub');
  });

  it('rejects a typo at load, with file:line:col and the kind meant', () => {
    const f = scenarioWith('{ host: proxy, kind: cache.lookupp }');
    expect(() => loadScenario(f, new Map())).toThrow(
      new RegExp(
        `${f}:7:\\d+: expect: unknown event kind "cache.lookupp" \\(did you mean cache.lookup\\?\\)`,
      ),
    );
  });

  it('rejects a kind no host writes, even one far from every known kind', () => {
    const f = scenarioWith('{ kind: page.teleport }');
    expect(() => loadScenario(f, new Map())).toThrow(`${f}:7:19: expect: unknown event kind "page.teleport"`);
  });

  it('rejects a kind its host never writes, pointing at the kind', () => {
    const f = scenarioWith('{ host: resolver, kind: dns.stub }');
    expect(() => loadScenario(f, new Map())).toThrow(
      `${f}:7:35: expect: resolver never writes "dns.stub" (its kinds: docs/EVENTS.md)`,
    );
  });

  it('rejects an unknown host, pointing at the host', () => {
    const f = scenarioWith('{ host: proxxy, kind: cache.lookup }');
    expect(() => loadScenario(f, new Map())).toThrow(
      `${f}:7:19: expect: unknown host "proxxy" (did you mean proxy?)`,
    );
  });

  it('takes a /regex/ kind that matches one of its host kinds, and rejects one that matches none', () => {
    expect(kindProblem('/^kernel\\./', 'app')).toBeUndefined();
    expect(kindProblem('/^kernel\\./', 'proxy')).toBe('kind /^kernel\\./ matches no event kind of proxy');
    expect(kindProblem('/^kernel\\.(/')).toBe('kind /^kernel\\.(/ is not a valid regular expression');
    expect(kindProblem('scenario.step', 'lab')).toBeUndefined();
    const f = scenarioWith("{ host: app, kind: '/^dns\\./' }");
    expect(() => loadScenario(f, new Map())).toThrow(
      `${f}:7:30: expect: kind /^dns\\./ matches no event kind of app`,
    );
  });

  it('checks the events a quiz question counts', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'kinds-')), 'quiz.yaml');
    writeFileSync(
      f,
      'title: T\nstory: S\njourney: [1]\nsteps:\n  - say: hi\nquestions:\n  - ask: how many?\n    count: { host: browser, kind: dns.upstream }\n',
    );
    expect(() => loadScenario(f, new Map())).toThrow(
      `${f}:8:35: questions: browser never writes "dns.upstream"`,
    );
  });
});
