// Reads a scenario file: YAML with line numbers kept, checked against the schema and the known
// actions. Every error names file:line:column and what is wrong there.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { PROJECT_ROOT } from '../../services/common/settings.js';
import { hostSpec, hosts } from '../../services/common/topology.js';
import { hostRefErrors } from '../capture/expect.js';
import { didYouMean } from '../suggest.js';
import { EVENT_KINDS, KINDS_BY_HOST } from './event-kinds.js';
import type { ActionDef } from './types.js';

export const SCENARIO_DIR = join(PROJECT_ROOT, 'scenarios');

const eventPattern = z
  .object({
    host: z.string().optional(),
    kind: z.string().optional(),
    summary: z.string().optional(),
    data: z.record(z.string(), z.unknown()).optional(),
    count: z.number().int().nonnegative().optional(),
    min: z.number().int().nonnegative().optional(),
    max: z.number().int().nonnegative().optional(),
  })
  .strict();
export type EventPattern = z.infer<typeof eventPattern>;

const packetPattern = z
  .object({
    // a display filter; ${dst:ns-root}-style host references become this runtime's addresses
    filter: z
      .string()
      .min(1)
      .superRefine((f, ctx) => {
        for (const message of hostRefErrors(f)) ctx.addIssue({ code: 'custom', message });
      }),
    count: z.number().int().nonnegative().optional(),
    min: z.number().int().nonnegative().optional(),
    max: z.number().int().nonnegative().optional(),
  })
  .strict();

export const expectSchema = z
  .object({
    events: z.array(eventPattern).optional(),
    absent: z.array(eventPattern).optional(),
    ordered: z.boolean().optional(),
    packets: z.array(packetPattern).optional(),
    /** how long to wait for the events to appear, ms (default 3000) */
    within: z.number().int().positive().max(120_000).optional(),
  })
  .strict();
export type Expectation = z.infer<typeof expectSchema>;

/** `lab run --quiz`: a question asked before the run, answered by counting the run's matching events */
const questionSchema = z
  .object({ ask: z.string().min(1), count: eventPattern.omit({ count: true, min: true, max: true }) })
  .strict();
export type Question = z.infer<typeof questionSchema>;

const headerSchema = z
  .object({
    title: z.string().min(1),
    story: z.string().min(1),
    journey: z.array(z.number().int().min(1).max(38)).min(1),
    needs: z.array(z.string()).optional(),
    runtime: z.array(z.enum(['local', 'docker'])).optional(),
    steps: z.array(z.record(z.string(), z.unknown())).min(1),
    /** steps run at the end whatever happened, to leave the lab as it was */
    cleanup: z.array(z.record(z.string(), z.unknown())).optional(),
    questions: z.array(questionSchema).optional(),
  })
  .strict();

export type Step =
  | { kind: 'say'; text: string; line: number }
  | { kind: 'expect'; expect: Expectation; line: number; packetLines?: number[] }
  | { kind: 'action'; action: ActionDef; args: unknown; line: number };

export interface Scenario {
  name: string;
  file: string;
  title: string;
  story: string;
  journey: number[];
  needs: string[];
  runtime: ('local' | 'docker')[];
  steps: Step[];
  cleanup: Step[];
  questions: Question[];
}

export class ScenarioError extends Error {}

/**
 * Why an expected kind can match no event, or undefined: a kind no host writes, one its host never
 * writes, or a /regex/ that matches none of them. The kinds are generated from the services'
 * events.ts unions (lab-cli/events-doc.ts).
 */
export function kindProblem(kind: string, host?: string): string | undefined {
  const own = host === undefined ? undefined : KINDS_BY_HOST[host];
  const known = own ?? EVENT_KINDS;
  const re = /^\/(.*)\/([a-z]*)$/s.exec(kind);
  if (re) {
    let rx: RegExp;
    try {
      rx = new RegExp(re[1], re[2]);
    } catch {
      return `kind ${kind} is not a valid regular expression`;
    }
    return known.some((k) => rx.test(k))
      ? undefined
      : `kind ${kind} matches no event kind${own ? ` of ${host}` : ''}`;
  }
  if (known.includes(kind)) return undefined;
  if (!own || !EVENT_KINDS.includes(kind)) return `unknown event kind "${kind}"${didYouMean(kind, known)}`;
  return `${host} never writes "${kind}"${didYouMean(kind, own)} (its kinds: docs/EVENTS.md)`;
}

export function listScenarioFiles(dir = SCENARIO_DIR): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

export function scenarioPath(name: string, dir = SCENARIO_DIR): string {
  if (name.includes('/') || name.endsWith('.yaml') || name.endsWith('.yml')) return name;
  const hit = listScenarioFiles(dir).find((f) => basename(f).replace(/\.ya?ml$/, '') === name);
  if (!hit) {
    const known = listScenarioFiles(dir).map((f) => basename(f).replace(/\.ya?ml$/, ''));
    const hint = didYouMean(name, known);
    throw new ScenarioError(
      `no scenario named "${name}"${hint || ` (known: ${known.join(', ') || 'none'})`}${hint ? `; known: ${known.join(', ')}` : ''}`,
    );
  }
  return hit;
}

export function loadScenario(file: string, actions: Map<string, ActionDef>): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ScenarioError(`${file}: cannot read the file`);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const where = (offset: number | undefined) => {
    const p = lc.linePos(offset ?? 0);
    return `${file}:${p.line}:${p.col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new ScenarioError(`${where(e.pos[0])}: ${e.message.split('\n')[0]}`);
  }
  const nodeAt = (path: (string | number)[]): Node | undefined => {
    const n = doc.getIn(path, true);
    return n && typeof n === 'object' && 'range' in (n as object) ? (n as Node) : undefined;
  };
  const fail = (path: (string | number)[], message: string): never => {
    let p = [...path];
    let node = nodeAt(p);
    while (!node && p.length > 0) {
      p = p.slice(0, -1);
      node = p.length ? nodeAt(p) : ((doc.contents as Node | null) ?? undefined);
    }
    throw new ScenarioError(`${where(node?.range?.[0])}: ${message}`);
  };
  const raw = doc.toJS();
  if (!raw || typeof raw !== 'object')
    fail([], 'a scenario is a YAML mapping with title, story, journey and steps');
  const header = headerSchema.safeParse(raw);
  if (!header.success) {
    const issue = header.error.issues[0];
    fail(issue.path as (string | number)[], `${issue.path.join('.') || 'scenario'}: ${issue.message}`);
  }
  const h = header.data as z.infer<typeof headerSchema>;
  /** An unknown host, or a kind its host never writes (docs/EVENTS.md), named where it is written. */
  const checkPattern = (
    pattern: { host?: string; kind?: string },
    path: (string | number)[],
    what = 'expect',
  ) => {
    const { host, kind } = pattern;
    if (host !== undefined && host !== 'lab') {
      try {
        hostSpec(host);
      } catch {
        const names = hosts.map((x) => x.name);
        fail(
          [...path, 'host'],
          `${what}: unknown host "${host}"${didYouMean(host, names)}; hosts: ${names.join(', ')}`,
        );
      }
    }
    const problem = kind === undefined ? undefined : kindProblem(kind, host);
    if (problem) fail([...path, 'kind'], `${what}: ${problem}`);
  };
  const parseSteps = (section: 'steps' | 'cleanup', list: Record<string, unknown>[]): Step[] =>
    list.map((step, i) => {
      const stepNode = nodeAt([section, i]);
      const line = lc.linePos(stepNode?.range?.[0] ?? 0).line;
      const keys = Object.keys(step);
      if (keys.length !== 1) {
        fail(
          [section, i],
          `a step has exactly one key (say, expect or an action), found ${keys.join(', ') || 'none'}`,
        );
      }
      const key = keys[0];
      const value = step[key];
      if (key === 'say') {
        if (typeof value !== 'string') fail([section, i, key], 'say takes a sentence');
        return { kind: 'say', text: value as string, line };
      }
      if (key === 'expect') {
        const r = expectSchema.safeParse(value);
        if (!r.success) {
          const issue = r.error.issues[0];
          return fail(
            [section, i, key, ...(issue.path as (string | number)[])],
            `expect: ${issue.path.join('.')} ${issue.message}`,
          );
        }
        const expectation = r.data;
        // a host or kind that is not in the lab would only fail later with "seen 0": say it here
        for (const list of ['events', 'absent'] as const)
          for (const [k, pattern] of (expectation[list] ?? []).entries())
            checkPattern(pattern, [section, i, key, list, k]);
        // each packets entry's own line, for a failed or invalid filter
        const packetLines = (expectation.packets ?? []).map(
          (_, k) => lc.linePos(nodeAt([section, i, key, 'packets', k])?.range?.[0] ?? 0).line,
        );
        return { kind: 'expect', expect: expectation, line, packetLines };
      }
      const action = actions.get(key);
      if (!action) {
        const known = ['say', 'expect', ...[...actions.keys()].sort()];
        fail([section, i], `unknown step "${key}"${didYouMean(key, known)}; known: ${known.join(', ')}`);
      }
      const r = (action as ActionDef).schema.safeParse(value);
      if (!r.success) {
        const issue = r.error.issues[0];
        return fail(
          [section, i, key, ...(issue.path as (string | number)[])],
          `${key}: ${[issue.path.join('.'), issue.message].filter(Boolean).join(' ')}`,
        );
      }
      return { kind: 'action', action: action as ActionDef, args: r.data, line };
    });
  for (const [i, q] of (h.questions ?? []).entries())
    checkPattern(q.count, ['questions', i, 'count'], 'questions');
  const steps = parseSteps('steps', h.steps);
  const cleanup = parseSteps('cleanup', h.cleanup ?? []);
  return {
    name: basename(file).replace(/\.ya?ml$/, ''),
    file,
    title: h.title,
    story: h.story.trim(),
    journey: h.journey,
    needs: h.needs ?? [],
    runtime: h.runtime ?? ['local', 'docker'],
    steps,
    cleanup,
    questions: h.questions ?? [],
  };
}
