import { describe, expect, it } from 'vitest';
import { createBatchedEmitter } from '../../../services/common/batched-emitter.js';
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

describe('event lines', () => {
  it('stay one line each, whatever the summary and data hold, and parse back to what was emitted', () => {
    const lines: string[] = [];
    const ev = createEmitter('app', (l) => lines.push(l));
    for (const s of ['quote " and backslash \\ and newline \n', 'arrow → and ångström', '\u2028\u2029']) {
      const full = ev.emit({ kind: 'kernel.request', summary: s, peer: s, data: { s, nested: { s } } });
      const line = lines.at(-1) ?? '';
      expect(line.indexOf('\n')).toBe(line.length - 1);
      expect(JSON.parse(line)).toEqual(full);
    }
  });

  it('batches lines in order, written at the end of the turn as one chunk', async () => {
    const chunks: string[] = [];
    const ev = createBatchedEmitter('app', (c) => chunks.push(c));
    ev.emit({ kind: 'a.b', summary: 'one →' });
    ev.emit({ kind: 'a.c', summary: 'two', data: { k: 1 } });
    expect(chunks).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(chunks).toHaveLength(1);
    const lines = chunks[0]
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.kind, l.summary, l.data])).toEqual([
      ['a.b', 'one →', undefined],
      ['a.c', 'two', { k: 1 }],
    ]);
  });

  it('are written by flush() at once, and not written twice', async () => {
    const chunks: string[] = [];
    const ev = createBatchedEmitter('app', (c) => chunks.push(c));
    ev.emit({ kind: 'a.b', summary: 'closing' });
    ev.flush();
    expect(chunks).toHaveLength(1);
    await new Promise((r) => setImmediate(r));
    expect(chunks).toHaveLength(1);
  });
});
