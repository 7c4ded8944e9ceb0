import { describe, expect, it } from 'vitest';
import { renderTimeline } from '../../../lab-cli/render/timeline.js';
import type { LabEvent } from '../../../services/common/events.js';

describe('timeline', () => {
  it('prints relative milliseconds, host and summary, indented by span nesting', () => {
    const events: LabEvent[] = [
      {
        ts: 1_000_000,
        host: 'resolver',
        kind: 'dns.query',
        summary: 'browser asks for www.example.test',
        span: 'a',
      },
      {
        ts: 1_001_500,
        host: 'resolver',
        kind: 'dns.upstream',
        summary: 'ask ns-root',
        span: 'b',
        parent: 'a',
        dur: 800,
      },
      { ts: 1_003_000, host: 'resolver', kind: 'dns.answer', summary: 'answer sent', parent: 'a' },
    ];
    const lines = renderTimeline(events).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s+0\.000 ms {2}resolver {2}browser asks/);
    expect(lines[1]).toMatch(/^\s+1\.500 ms {2}resolver {4}ask ns-root \(0\.8 ms\)$/);
    expect(lines[2]).toMatch(/^\s+3\.000 ms {2}resolver {4}answer sent$/);
  });

  it('says so when there are no events', () => {
    expect(renderTimeline([])).toBe('(no events)\n');
  });
});
