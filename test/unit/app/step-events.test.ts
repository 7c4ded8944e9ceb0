import { describe, expect, it } from 'vitest';
import { Request } from '../../../services/app/kernel/http.js';
import type { ListenerCall } from '../../../services/app/kernel/traceable-dispatcher.js';
import { stepEvent } from '../../../services/app/step-events.js';

const call = (listener: string, priority: number, stopped = false): ListenerCall => ({
  listener,
  priority,
  dur: 3,
  stoppedPropagation: stopped,
});

const request = () => {
  const r = new Request('GET', '/users/42', new URLSearchParams(), {}, {}, '127.0.0.1', 'www.example.test');
  for (const [k, v] of Object.entries({
    _route: 'user_show',
    _controller: 'user_show',
    id: '42',
    _blocked: true,
  }))
    r.attributes.set(k, v);
  return r;
};

describe('a kernel step as a lab event', () => {
  it('names the listeners and the route in its summary, and carries what the router learnt, blocklist marks left out', () => {
    const listeners = [call('IpBlocklistListener', 256), call('RouterListener', 32)];
    const ev = stepEvent(
      { event: 'kernel.request', listeners, detail: { request: { method: 'GET' } } },
      request(),
      'a8f14d',
    );
    expect(ev.kind).toBe('kernel.request');
    expect(ev.summary).toBe('kernel.request: IpBlocklistListener, RouterListener (route user_show)');
    expect(ev.data).toEqual({
      token: 'a8f14d',
      listeners,
      route: 'user_show',
      attributes: { _route: 'user_show', _controller: 'user_show', id: '42' },
      request: { method: 'GET' },
    });
  });

  it('adds the controller and the status to the summary, and the profile link on kernel.terminate', () => {
    const controller = stepEvent(
      { event: 'kernel.controller', listeners: [], detail: { controller: 'user_show' } },
      request(),
      't',
    );
    expect(controller.summary).toBe('kernel.controller: no listener (controller user_show)');
    const response = stepEvent(
      { event: 'kernel.response', listeners: [call('CacheHeadersListener', 0)], detail: { status: 200 } },
      request(),
      't',
    );
    expect(response.summary).toBe('kernel.response: CacheHeadersListener (status 200)');
    expect(response.data.attributes).toBeUndefined(); // only on kernel.request and kernel.controller
    const terminate = stepEvent(
      { event: 'kernel.terminate', listeners: [], detail: { status: 200 } },
      request(),
      'a8f14d',
    );
    expect(terminate.summary).toBe(
      'kernel.terminate: no listener, profile at /_profiler/a8f14d (status 200)',
    );
  });
});
