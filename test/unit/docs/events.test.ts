// docs/EVENTS.md, docs/events.schema.json, the lists at the top of the services' main.ts and
// lab-cli/scenario/event-kinds.ts are what the events.ts unions say today.
import { describe, expect, it } from 'vitest';
import { currentEventDocs, REGENERATE, shapeOf } from '../../../lab-cli/events-doc.js';

describe('the event catalogue', () => {
  it('is generated from the events.ts unions as they are now', { timeout: 120_000 }, () => {
    const stale = currentEventDocs()
      .filter((f) => f.text !== f.expected)
      .map((f) => f.path);
    expect(stale, `stale: run \`${REGENERATE}\` and commit the result`).toEqual([]);
  });

  it('writes a data shape in one line: optional fields, values, nested objects and arrays', () => {
    expect(
      shapeOf({
        type: 'object',
        properties: {
          name: { type: 'string' },
          result: { type: 'string', enum: ['hit', 'miss'] },
          ttl: { type: 'number' },
          answers: { type: 'array', items: { type: 'string' } },
          rule: { type: 'object', properties: { id: { type: 'number' } }, required: ['id'] },
        },
        required: ['name', 'result', 'answers', 'rule'],
      }),
    ).toBe('{name, result: hit|miss, ttl?, answers[], rule {id}}');
  });
});
