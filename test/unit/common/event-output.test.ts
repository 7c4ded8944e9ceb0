// A host's two channels (event-output.ts): every event as JSON, and on docker a readable line on
// stdout for each one a person caused, none for the health probe's.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBatchedEmitter } from '../../../services/common/batched-emitter.js';
import {
  hostOutput,
  outputSink,
  PROBE_USER_AGENT,
  probeMark,
  readableLine,
} from '../../../services/common/event-output.js';
import { parseEventLine } from '../../../services/common/event-schema.js';
import { createEmitter, type LabEvent } from '../../../services/common/events.js';

const at = (iso: string) => Date.parse(iso) * 1000;

describe('readableLine', () => {
  it('prints the UTC time to the millisecond, the kind, the summary and a span’s duration', () => {
    const ev: LabEvent = {
      ts: at('2026-12-04T12:03:04.123Z') + 999,
      host: 'resolver',
      kind: 'dns.query.done',
      summary: 'www.example.test A → 172.28.2.80 (cache miss)',
      dur: 41_250,
    };
    expect(readableLine(ev)).toBe(
      '12:03:04.123 dns.query.done     www.example.test A → 172.28.2.80 (cache miss) (41.3 ms)',
    );
  });

  it('keeps one event on one line, whatever its summary quotes', () => {
    const ev = { ts: at('2026-12-04T00:00:00Z'), host: 'app', kind: 'http.access', summary: 'a\r\nb\nc' };
    expect(readableLine(ev)).toBe(`00:00:00.000 ${'http.access'.padEnd(18)} a b c`);
  });
});

describe('probeMark', () => {
  it("marks the proxy probe's requests by their User-Agent, and nothing else", () => {
    expect(probeMark({ 'user-agent': PROBE_USER_AGENT })).toEqual({ probe: true });
    expect(probeMark({ 'user-agent': 'curl/8.0' })).toEqual({});
    expect(probeMark({})).toEqual({});
  });

  it('keeps the mark in the JSON line, and the schema keeps it', () => {
    const lines: string[] = [];
    createEmitter('app', (l) => lines.push(l)).emit({
      kind: 'kernel.request',
      summary: 'HEAD /hej',
      probe: true,
    });
    createEmitter('app', (l) => lines.push(l)).emit({ kind: 'kernel.request', summary: 'GET /hej' });
    expect(lines.map((l) => parseEventLine(l)?.probe)).toEqual([true, undefined]);
    expect(lines[1]).not.toContain('probe');
  });
});

describe('a batched emitter with a terminal', () => {
  it('writes every event as JSON, and a readable line only for those not caused by a probe', async () => {
    const json: string[] = [];
    const text: string[] = [];
    const ev = createBatchedEmitter('app', { events: (c) => json.push(c), terminal: (c) => text.push(c) });
    ev.emit({ kind: 'kernel.request', summary: 'HEAD /hej (probe)', probe: true });
    ev.emit({ kind: 'kernel.request', summary: 'GET /hej' });
    ev.emit({ kind: 'http.access', summary: 'HEAD /hej 200 (probe)', probe: true });
    await new Promise((r) => setImmediate(r));
    expect(json).toHaveLength(1);
    expect(json[0].trimEnd().split('\n')).toHaveLength(3);
    expect(text).toHaveLength(1);
    expect(text[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} kernel\.request +GET \/hej\n$/);
  });

  it('writes nothing to a terminal when a whole batch is the probe’s', async () => {
    const text: string[] = [];
    const ev = createBatchedEmitter('app', { events: () => undefined, terminal: (c) => text.push(c) });
    ev.emit({ kind: 'kernel.request', summary: 'HEAD /hej', probe: true });
    ev.flush();
    expect(text).toEqual([]);
  });
});

describe('hostOutput on docker (LAB_EVENTS_DIR)', () => {
  let dir = '';
  afterEach(() => {
    vi.restoreAllMocks();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('appends the JSON lines to <dir>/<host>/events.jsonl and prints readable lines on stdout', () => {
    dir = mkdtempSync(join(tmpdir(), 'lab-events-'));
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
      printed.push(String(c));
      return true;
    });
    const out = hostOutput('ns-tld', { LAB_EVENTS_DIR: dir });
    expect(hostOutput('ns-tld', { LAB_EVENTS_DIR: dir })).toBe(out); // one file per host and process
    const sink = outputSink(out);
    createEmitter('ns-tld', sink).emit({ kind: 'dns.query', summary: 'example.test. NS' });
    createEmitter('ns-tld', sink).emit({ kind: 'dns.query', summary: 'probe', probe: true });
    const file = readFileSync(join(dir, 'ns-tld', 'events.jsonl'), 'utf8')
      .trimEnd()
      .split('\n');
    expect(file.map((l) => parseEventLine(l)?.summary)).toEqual(['example.test. NS', 'probe']);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/ dns\.query +example\.test\. NS\n$/);
    expect(printed[0].startsWith('{')).toBe(false);
  });

  it('leaves the events on stdout, as JSON, without LAB_EVENTS_DIR (the local runtime)', () => {
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
      printed.push(String(c));
      return true;
    });
    const out = hostOutput('ns-root', {});
    expect(out.terminal).toBeUndefined();
    out.events('{"x":1}\n');
    expect(printed).toEqual(['{"x":1}\n']);
  });
});
