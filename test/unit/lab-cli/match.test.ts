import { describe, expect, it } from 'vitest';
import { checkEvents, matches } from '../../../lab-cli/scenario/match.js';
import type { LabEvent } from '../../../services/common/events.js';

const ev = (host: string, kind: string, data: Record<string, unknown> = {}, ts = 1): LabEvent => ({
  ts,
  host,
  kind,
  summary: `${host} ${kind}`,
  data,
});

const events = [
  ev('resolver', 'dns.upstream', { server: 'ns-root', name: 'www.example.test' }, 1),
  ev('resolver', 'dns.upstream', { server: 'ns-tld', name: 'www.example.test' }, 2),
  ev(
    'resolver',
    'dns.upstream',
    { server: 'ns-example', name: 'www.example.test', answers: ['127.28.2.80'] },
    3,
  ),
  ev('proxy', 'cache.lookup', { result: 'miss' }, 4),
];

describe('expectation matching', () => {
  it('matches host, kind and a deep subset of data', () => {
    expect(matches({ host: 'resolver', kind: 'dns.upstream', data: { server: 'ns-tld' } }, events[1])).toBe(
      true,
    );
    expect(matches({ host: 'resolver', data: { server: 'ns-root' } }, events[1])).toBe(false);
  });

  it('treats /re/ strings as regular expressions', () => {
    expect(matches({ kind: '/^dns\\./' }, events[0])).toBe(true);
    expect(matches({ data: { name: '/example\\.test$/' } }, events[0])).toBe(true);
    expect(matches({ data: { answers: ['/^127\\./'] } }, events[2])).toBe(true);
  });

  it('counts exactly, or within min/max', () => {
    const r = checkEvents(
      {
        events: [
          { kind: 'dns.upstream', count: 3 },
          { kind: 'dns.upstream', count: 2 },
          { kind: 'cache.lookup', min: 1, max: 1 },
        ],
      },
      events,
    );
    expect(r.map((x) => x.ok)).toEqual([true, false, true]);
  });

  it('fails an absent pattern that appeared, naming the first one', () => {
    const r = checkEvents({ absent: [{ host: 'proxy', kind: 'cache.lookup' }] }, events);
    expect(r[0].ok).toBe(false);
    expect(r[0].line).toMatch(/seen 1 \(first: proxy cache.lookup\)/);
  });

  it('checks order when asked', () => {
    const inOrder = [
      { data: { server: 'ns-root' } },
      { data: { server: 'ns-tld' } },
      { data: { server: 'ns-example' } },
    ];
    expect(checkEvents({ ordered: true, events: inOrder }, events).every((r) => r.ok)).toBe(true);
    expect(checkEvents({ ordered: true, events: [...inOrder].reverse() }, events).every((r) => r.ok)).toBe(
      false,
    );
  });
});
