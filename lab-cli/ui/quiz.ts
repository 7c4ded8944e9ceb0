// `lab run NAME --quiz`: the scenario's questions asked first ("how many DNS queries on a warm
// cache?"), then the run, then each answer checked by counting the run's own events.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LabEvent } from '../../services/common/events.js';
import type { Question, Scenario } from '../scenario/load.js';
import { matches } from '../scenario/match.js';

export interface QuizResult {
  ask: string;
  given: number | undefined;
  actual: number;
  right: boolean;
}

/** Asks each question on the terminal; a blank or non-number answer counts as "don't know". */
export async function askQuestions(sc: Scenario): Promise<(number | undefined)[]> {
  // lines read as they come (a pipe may deliver every answer at once), one per question
  const rl = createInterface({ input: process.stdin, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const given: (number | undefined)[] = [];
  try {
    for (const [i, q] of sc.questions.entries()) {
      process.stdout.write(`Q${i + 1}. ${q.ask} `);
      const next = await lines.next();
      const a = next.done ? '' : String(next.value).trim();
      if (!process.stdin.isTTY) process.stdout.write(`${a}\n`);
      given.push(/^\d+$/.test(a) ? Number(a) : undefined);
    }
  } finally {
    rl.close();
  }
  return given;
}

/** The answer to each question: how many of the run's events match its pattern. */
export function answerQuestions(
  questions: Question[],
  events: LabEvent[],
  given: (number | undefined)[],
): QuizResult[] {
  return questions.map((q, i) => {
    const actual = events.filter((e) => matches(q.count, e)).length;
    return { ask: q.ask, given: given[i], actual, right: given[i] === actual };
  });
}

export function runEvents(runDir: string): LabEvent[] {
  return readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LabEvent);
}
