// The LabEvent schema (zod) and the parser of events.jsonl lines. Kept apart from events.ts so that
// services, which only write events, do not load zod (about 14 MB of memory a process).
import { z } from 'zod';
import type { LabEvent } from './events.js';

export const labEventSchema = z.object({
  ts: z.number().int().positive(),
  host: z.string().min(1),
  kind: z.string().regex(/^[a-z0-9-]+(\.[a-z0-9_-]+)*$/),
  summary: z.string().min(1),
  span: z.string().optional(),
  parent: z.string().optional(),
  trace: z.string().optional(),
  peer: z.string().optional(),
  dur: z.number().nonnegative().optional(),
  probe: z.literal(true).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

/** Parses one events.jsonl line; returns undefined for blank or non-event lines (e.g. a stray log). */
export function parseEventLine(line: string): LabEvent | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const r = labEventSchema.safeParse(JSON.parse(t));
    return r.success ? (r.data as LabEvent) : undefined;
  } catch {
    return undefined;
  }
}
