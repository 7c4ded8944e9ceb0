import { describe, expect, it } from 'vitest';
import type { ListenerCall } from '../../../services/app/kernel/dispatcher.js';
import { stepDataJson } from '../../../services/app/step-events.js';

const call = (listener: string, priority: number, dur: number, stopped = false): ListenerCall => ({
  listener,
  priority,
  dur,
  stoppedPropagation: stopped,
});

describe('kernel-step event data', () => {
  it('is the JSON of {token, listeners, route, attributes, ...detail}', () => {
    const cases = [
      { token: 'a8f14d', listeners: [], route: undefined, attributes: undefined, detail: undefined },
      {
        token: 'a8f14d',
        listeners: [call('IpBlocklistListener', 256, 0), call('RouterListener', 32, 3, true)],
        route: 'user_show',
        attributes: new Map<string, unknown>([
          ['_route', 'user_show'],
          ['id', '42'],
          ['_blocked', true],
          ['_api_version', 2],
        ]),
        detail: {
          request: { method: 'GET', path: '/users/42', headers: { 'user-agent': 'lab → "browser"' } },
          controller: 'user_show',
          status: 200,
          arguments: ['user'],
          skipped: undefined,
        },
      },
      // a workshop listener may be called anything, at any priority
      { token: 'none', listeners: [call('Mein "Zuhörer"\\', -1.5, 7), call('Mein "Zuhörer"\\', 9, 1)] },
    ];
    for (const c of cases) {
      const json = stepDataJson(c);
      const attributes = c.attributes
        ? Object.fromEntries([...c.attributes].filter(([k]) => !k.startsWith('_blocked')))
        : undefined;
      const expected = { token: c.token, listeners: c.listeners, route: c.route, attributes, ...c.detail };
      expect(json).toBe(JSON.stringify(expected));
    }
  });
});
