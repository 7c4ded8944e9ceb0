import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario, ScenarioError } from '../../../lab-cli/scenario/load.js';
import { loadActions } from '../../../lab-cli/scenario/registry.js';
import { answerQuestions } from '../../../lab-cli/ui/quiz.js';
import type { LabEvent } from '../../../services/common/events.js';

const tmp = mkdtempSync(join(tmpdir(), 'enterlab-quiz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const scenario = (questions: string) => {
  const file = join(tmp, `q${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `title: t\nstory: s\njourney: [8]\nquestions:\n${questions}\nsteps:\n  - say: hello\n`);
  return file;
};
const ev = (host: string, kind: string, data: Record<string, unknown>): LabEvent => ({
  ts: 1,
  host,
  kind,
  summary: '',
  data,
});

describe('scenario questions (lab run --quiz)', () => {
  it('loads each question with the event pattern that answers it', async () => {
    const sc = loadScenario(
      scenario(
        '  - ask: How many to the root?\n    count: { host: resolver, kind: dns.upstream, data: { server: ns-root } }',
      ),
      await loadActions(),
    );
    expect(sc.questions).toEqual([
      {
        ask: 'How many to the root?',
        count: { host: 'resolver', kind: 'dns.upstream', data: { server: 'ns-root' } },
      },
    ]);
  });

  it('refuses a question without ask, naming the file and line', async () => {
    const file = scenario('  - count: { host: resolver }');
    expect(() => loadScenario(file, new Map())).toThrow(ScenarioError);
    expect(() => loadScenario(file, new Map())).toThrow(new RegExp(`${file}:5:`));
  });

  it('answers by counting the run events that match, and marks each given answer right or not', () => {
    const events = [
      ev('resolver', 'dns.upstream', { server: 'ns-root' }),
      ev('resolver', 'dns.upstream', { server: 'ns-tld' }),
      ev('resolver', 'dns.upstream', { server: 'ns-root' }),
      ev('proxy', 'backend.fetch', {}),
    ];
    const r = answerQuestions(
      [
        { ask: 'root?', count: { host: 'resolver', kind: 'dns.upstream', data: { server: 'ns-root' } } },
        { ask: 'app?', count: { host: 'proxy', kind: 'backend.fetch' } },
        { ask: 'tld?', count: { kind: 'dns.upstream', data: { server: 'ns-tld' } } },
      ],
      events,
      [2, 3, undefined],
    );
    expect(r.map((a) => [a.actual, a.right])).toEqual([
      [2, true],
      [1, false],
      [1, false],
    ]);
  });
});
