// timeline.txt: one line per event, relative time in ms, host, summary, indented by span nesting.
import type { LabEvent } from '../../services/common/events.js';

export function spanDepths(events: LabEvent[]): Map<LabEvent, number> {
  const parentOf = new Map<string, string | undefined>();
  for (const e of events) if (e.span && !parentOf.has(e.span)) parentOf.set(e.span, e.parent);
  // a span's depth is the number of known spans above it
  const depthOfSpan = (span: string, seen = new Set<string>()): number => {
    const up = parentOf.get(span);
    if (!up || !parentOf.has(up) || seen.has(up)) return up ? 1 : 0;
    seen.add(span);
    return 1 + depthOfSpan(up, seen);
  };
  const out = new Map<LabEvent, number>();
  for (const e of events) {
    if (e.span) out.set(e, depthOfSpan(e.span));
    else out.set(e, e.parent ? (parentOf.has(e.parent) ? depthOfSpan(e.parent) : 0) + 1 : 0);
  }
  return out;
}

export function renderTimeline(events: LabEvent[]): string {
  if (events.length === 0) return '(no events)\n';
  const sorted = [...events].sort((a, b) => a.ts - b.ts);
  const t0 = sorted[0].ts;
  const hostWidth = Math.max(...sorted.map((e) => e.host.length), 4);
  const depths = spanDepths(sorted);
  const lines = sorted.map((e) => {
    const ms = ((e.ts - t0) / 1000).toFixed(3).padStart(10);
    const indent = '  '.repeat(Math.min(depths.get(e) ?? 0, 8));
    const dur = e.dur !== undefined ? ` (${(e.dur / 1000).toFixed(1)} ms)` : '';
    return `${ms} ms  ${e.host.padEnd(hostWidth)}  ${indent}${e.summary}${dur}`;
  });
  return `${lines.join('\n')}\n`;
}
