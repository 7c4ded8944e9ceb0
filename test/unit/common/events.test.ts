import { describe, expect, it } from 'vitest';
import { labEventSchema, parseEventLine } from '../../../services/common/event-schema.js';
import { createEmitter, nowMicros } from '../../../services/common/events.js';

describe('LabEvent', () => {
  it('writes one schema-valid JSON line per event', () => {
    const lines: string[] = [];
    const ev = createEmitter('resolver', (l) => lines.push(l));
    ev.emit({
      kind: 'dns.query',
      summary: 'browser asks for www.example.test A',
      peer: '172.28.1.10:5353',
      data: { name: 'www.example.test' },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(lines[0].trim().includes('\n')).toBe(false);
    const parsed = labEventSchema.parse(JSON.parse(lines[0]));
    expect(parsed).toMatchObject({ host: 'resolver', kind: 'dns.query', data: { name: 'www.example.test' } });
  });

  it('stamps microseconds since the epoch', () => {
    const before = Date.now() * 1000;
    const t = nowMicros();
    expect(t).toBeGreaterThanOrEqual(before - 5_000);
    expect(t).toBeLessThan(before + 5_000_000);
  });

  it('closes a span with its duration and the same span id', () => {
    const lines: string[] = [];
    const ev = createEmitter('browser', (l) => lines.push(l));
    const s = ev.span({ kind: 'tls.handshake', summary: 'TLS with www.example.test' });
    const end = s.end({ kind: 'tls.handshake.done', summary: 'TLS 1.3 done' });
    const first = JSON.parse(lines[0]);
    expect(first.span).toBe(s.id);
    expect(end.span).toBe(s.id);
    expect(end.dur).toBeGreaterThanOrEqual(0);
  });

  it('rejects events without a kind or summary, and lines that are not events', () => {
    expect(labEventSchema.safeParse({ ts: 1, host: 'x', summary: 'y' }).success).toBe(false);
    expect(labEventSchema.safeParse({ ts: 1, host: 'x', kind: 'Bad Kind', summary: 'y' }).success).toBe(
      false,
    );
    expect(parseEventLine('npm warn something')).toBeUndefined();
    expect(parseEventLine('{"not":"an event"}')).toBeUndefined();
    expect(parseEventLine('{broken')).toBeUndefined();
  });
});
