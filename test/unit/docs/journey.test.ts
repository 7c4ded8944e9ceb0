// docs/JOURNEY.md: the checklist matches lab-cli/journey.ts, and its map of the code is what the
// `JOURNEY n:` labels say today.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOURNEY } from '../../../lab-cli/journey.js';
import {
  currentJourneyDoc,
  JOURNEY_DOC,
  journeyLabels,
  labelsIn,
  REGENERATE,
  stepsOf,
} from '../../../lab-cli/journey-doc.js';
import { PROJECT_ROOT } from '../../../services/common/settings.js';

describe(`${JOURNEY_DOC}`, () => {
  it('maps each step to the files and functions the JOURNEY labels name today', () => {
    const { text, expected } = currentJourneyDoc();
    expect(text === expected, `${JOURNEY_DOC} is stale: run \`${REGENERATE}\` and commit the result`).toBe(
      true,
    );
  });

  it('lists the 38 steps of lab-cli/journey.ts, in order, with the same words', () => {
    const doc = readFileSync(join(PROJECT_ROOT, JOURNEY_DOC), 'utf8');
    const checklist = doc.slice(doc.indexOf('## The steps'), doc.indexOf('## Where'));
    const rows = [...checklist.matchAll(/^\| (\d+) \| ([^|]+) \|/gm)].map((m) => ({
      step: Number(m[1]),
      what: m[2].trim(),
    }));
    expect(rows).toEqual(JOURNEY.map(({ step, what }) => ({ step, what })));
  });

  it('has labels that name only steps 1 to 38', () => {
    const bad = journeyLabels()
      .filter((l) => l.steps.some((n) => !Number.isInteger(n) || n < 1 || n > JOURNEY.length))
      .map((l) => `${l.file}:${l.line} names step ${l.steps.join(', ')}`);
    expect(bad).toEqual([]);
  });
});

describe('JOURNEY labels', () => {
  it('expand ranges and lists', () => {
    expect(stepsOf('27')).toEqual([27]);
    expect(stepsOf('13–15, 19–21')).toEqual([13, 14, 15, 19, 20, 21]);
    expect(stepsOf('7-8')).toEqual([7, 8]);
  });

  it('belong to the whole file in its opening comment, else to the function or method they sit in or precede', () => {
    const source = [
      '// The kernel (JOURNEY 26): what it does.',
      "import { x } from './x.js';",
      '',
      'export class Kernel {',
      '  private async handleRaw(',
      '    request: Request,',
      '  ): Promise<Response> {',
      '    if (request) {',
      '      // JOURNEY 27: kernel.request',
      '    }',
      '    const n = 1; // JOURNEY 28–29: trailing',
      '  }',
      '}',
      '',
      '/** JOURNEY 33: every error becomes a page. */',
      'export function errorPage(e: Error) {}',
      '',
      '// JOURNEY 10, 11: a top-level table',
      'const TABLE = new Map();',
      "const text = 'JOURNEY 5: in a string, not a label';",
    ].join('\n');
    expect(labelsIn('k.ts', source).map((l) => [l.steps, l.where])).toEqual([
      [[26], '(file)'],
      [[27], 'Kernel.handleRaw'],
      [[28, 29], 'Kernel.handleRaw'],
      [[33], 'errorPage'],
      [[10, 11], 'TABLE'],
    ]);
  });
});
