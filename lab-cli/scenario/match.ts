// Matching events against a scenario's `expect`: kind, host and a deep subset of data, with counts
// and order. A string written `/re/` matches as a regular expression.
import type { LabEvent } from '../../services/common/events.js';
import type { EventPattern, Expectation } from './load.js';

function matchValue(want: unknown, got: unknown): boolean {
  if (typeof want === 'string') {
    const re = /^\/(.*)\/([a-z]*)$/s.exec(want);
    if (re)
      return typeof got === 'string' || typeof got === 'number'
        ? new RegExp(re[1], re[2]).test(String(got))
        : false;
    return got === want;
  }
  if (Array.isArray(want)) {
    // every wanted element matches some element of the actual array
    return Array.isArray(got) && want.every((w) => got.some((g) => matchValue(w, g)));
  }
  if (want && typeof want === 'object') {
    if (!got || typeof got !== 'object') return false;
    return Object.entries(want).every(([k, v]) => matchValue(v, (got as Record<string, unknown>)[k]));
  }
  return want === got;
}

export function matches(p: EventPattern, e: LabEvent): boolean {
  if (p.host !== undefined && !matchValue(p.host, e.host)) return false;
  if (p.kind !== undefined && !matchValue(p.kind, e.kind)) return false;
  if (p.summary !== undefined && !matchValue(p.summary, e.summary)) return false;
  if (p.data !== undefined && !matchValue(p.data, e.data ?? {})) return false;
  return true;
}

export function describePattern(p: EventPattern): string {
  const parts = [p.host ? `${p.host}` : '*', p.kind ?? '*'];
  if (p.data) parts.push(JSON.stringify(p.data));
  let count = '';
  if (p.count !== undefined) count = ` ×${p.count}`;
  else if (p.min !== undefined || p.max !== undefined) count = ` ×[${p.min ?? 0}..${p.max ?? '∞'}]`;
  return `${parts.join(' ')}${count}`;
}

export interface CheckResult {
  ok: boolean;
  line: string;
}

/** Checks every event pattern; `final` means no more events will come (counts and absences are settled). */
export function checkEvents(exp: Expectation, events: LabEvent[]): CheckResult[] {
  const out: CheckResult[] = [];
  let cursor = 0;
  for (const p of exp.events ?? []) {
    const pool = exp.ordered ? events.slice(cursor) : events;
    const hits = pool.filter((e) => matches(p, e));
    const n = hits.length;
    const ok =
      p.count !== undefined ? n === p.count : n >= (p.min ?? 1) && (p.max === undefined || n <= p.max);
    if (exp.ordered && n > 0) cursor += pool.indexOf(hits[0]) + 1;
    out.push({ ok, line: `${describePattern(p)}: seen ${n}` });
  }
  for (const p of exp.absent ?? []) {
    const hits = events.filter((e) => matches(p, e));
    out.push({
      ok: hits.length === 0,
      line: `no ${describePattern(p)}: ${hits.length === 0 ? 'none seen' : `seen ${hits.length} (first: ${hits[0].summary})`}`,
    });
  }
  return out;
}
