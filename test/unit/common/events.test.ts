import { describe, expect, it } from 'vitest';
import { createBatchedEmitter } from '../../../services/common/batched-emitter.js';
import { labEventSchema, parseEventLine } from '../../../services/common/event-schema.js';
import { createEmitter, jsonValue, nowMicros, quote } from '../../../services/common/events.js';

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

describe('event lines written by hand', () => {
  const tricky = [
    'plain',
    '',
    'quote " and backslash \\ and tab \t and newline \n',
    'arrow → em dash — and ångström',
    'emoji 😀 and a lone surrogate \ud800',
    '\u0000\u001f\u007f\u2028\u2029',
  ];

  it('writes each line as JSON.stringify writes the whole event', () => {
    const lines: string[] = [];
    const ev = createEmitter('app', (l) => lines.push(l));
    for (const s of tricky) {
      const full = ev.emit({
        kind: 'kernel.request',
        summary: s,
        span: 'a1',
        trace: 'b2',
        peer: s,
        dur: 12.5,
        data: { s, n: [1, -0, Number.NaN], nested: { s }, u: undefined },
      });
      expect(lines.at(-1)).toBe(`${JSON.stringify(full)}\n`);
    }
  });

  it('quotes strings and values as JSON.stringify does', () => {
    for (const s of tricky) expect(quote(s)).toBe(JSON.stringify(s));
    for (const v of [0, -0, -1.5, 1e21, Number.POSITIVE_INFINITY, true, null, { a: ['→'] }, [undefined]])
      expect(jsonValue(v)).toBe(JSON.stringify(v));
  });

  it('writes timestamps whole, however many microseconds past the second', () => {
    const lines: string[] = [];
    const ev = createEmitter('app', (l) => lines.push(l));
    for (const ts of [1796177828000001, 1796177828999999, 1796177829000000, 42, 1.5])
      ev.emitJson({ kind: 'x.y', summary: 's', ts }, '{}');
    expect(lines.map((l) => JSON.parse(l).ts)).toEqual([
      1796177828000001, 1796177828999999, 1796177829000000, 42, 1.5,
    ]);
  });

  it('batches lines in order, written at the end of the turn as one chunk', async () => {
    const chunks: string[] = [];
    const ev = createBatchedEmitter('app', (c) => chunks.push(c));
    ev.emit({ kind: 'a.b', summary: 'one →' });
    ev.emitJson({ kind: 'a.c', summary: 'two' }, '{"k":1}');
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
});
