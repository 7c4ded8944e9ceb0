import { describe, expect, it } from 'vitest';
import { EventDispatcher, KernelEvent } from '../../../services/app/kernel/dispatcher.js';
import { HttpException, Request, Response } from '../../../services/app/kernel/http.js';
import {
  type Controller,
  type ControllerEvent,
  HttpKernel,
  type RequestEvent,
  type ResponseEvent,
  type ViewEvent,
} from '../../../services/app/kernel/kernel.js';
import { Router } from '../../../services/app/kernel/router.js';
import {
  type KernelStep,
  TraceableEventDispatcher,
} from '../../../services/app/kernel/traceable-dispatcher.js';

describe('EventDispatcher', () => {
  it('calls listeners by priority, higher first, equal ones in registration order', async () => {
    const d = new EventDispatcher();
    const seen: string[] = [];
    d.addListener('e', () => void seen.push('low'), -10, 'low');
    d.addListener('e', () => void seen.push('a'), 0, 'a');
    d.addListener('e', () => void seen.push('high'), 100, 'high');
    d.addListener('e', () => void seen.push('b'), 0, 'b');
    await d.dispatch(new KernelEvent(), 'e');
    expect(seen).toEqual(['high', 'a', 'b', 'low']);
    expect(d.getListeners('e').map((l) => l.name)).toEqual(['high', 'a', 'b', 'low']);
  });

  it('stops at the listener that stops propagation', async () => {
    const d = new EventDispatcher();
    const seen: string[] = [];
    d.addListener(
      'e',
      (e) => {
        seen.push('first');
        e.stopPropagation();
      },
      10,
    );
    d.addListener('e', () => void seen.push('second'));
    const event = await d.dispatch(new KernelEvent(), 'e');
    expect(seen).toEqual(['first']);
    expect(event.propagationStopped).toBe(true);
  });

  it('registers a subscriber’s methods for the events it names', async () => {
    const d = new EventDispatcher();
    const seen: string[] = [];
    d.addSubscriber({
      name: 'Sub',
      events: () => ({ a: 'onA', b: ['onB', 5] }),
      onA: () => void seen.push('A'),
      onB: () => void seen.push('B'),
    });
    await d.dispatch(new KernelEvent(), 'a');
    await d.dispatch(new KernelEvent(), 'b');
    expect(seen).toEqual(['A', 'B']);
    expect(d.getListeners('b')).toEqual([{ name: 'Sub::onB', priority: 5 }]);
    expect(() => d.addSubscriber({ name: 'Bad', events: () => ({ a: 'missing' }) })).toThrow(/lacks/);
  });

  it('waits for async listeners before the next one runs, and removes listeners by name', async () => {
    const d = new EventDispatcher();
    const seen: string[] = [];
    d.addListener(
      'e',
      async () => {
        await new Promise((r) => setTimeout(r, 5));
        seen.push('slow');
      },
      10,
      'slow',
    );
    d.addListener('e', () => void seen.push('after'), 0, 'after');
    await d.dispatch(new KernelEvent(), 'e');
    expect(seen).toEqual(['slow', 'after']);
    expect(d.removeListener('e', 'slow')).toBe(1);
    expect(d.removeListener('e', 'slow')).toBe(0);
    expect(d.getListeners('e').map((l) => l.name)).toEqual(['after']);
  });
});

describe('Router', () => {
  const r = new Router([
    {
      name: 'user',
      path: '/users/{id}',
      controller: 'u',
      requirements: { id: '\\d+' },
      defaults: { format: 'html' },
    },
  ]);
  it('matches placeholders with requirements and defaults', () => {
    expect(r.match('/users/42', 'GET')).toEqual({
      id: '42',
      format: 'html',
      _route: 'user',
      _controller: 'u',
    });
  });
  it('404s when a requirement fails, 405 with Allow when only the method is wrong', () => {
    expect(() => r.match('/users/abc', 'GET')).toThrow(/no route/);
    try {
      r.match('/users/1', 'DELETE');
      expect.fail();
    } catch (e) {
      expect((e as HttpException).status).toBe(405);
      expect((e as HttpException).headers.allow).toBe('GET, HEAD');
    }
  });
});

function kernelWith(controller: Controller | undefined, setup: (d: EventDispatcher) => void = () => {}) {
  const d = new EventDispatcher();
  setup(d);
  const steps: KernelStep[] = [];
  const requests: (Request | undefined)[] = [];
  const traced = new TraceableEventDispatcher(d, (step, request) => {
    steps.push(step);
    requests.push(request);
  });
  const k = new HttpKernel(traced, { getController: () => controller }, { getArguments: () => [] });
  const req = new Request('GET', '/x', new URLSearchParams(), {}, {}, '127.0.0.1', 'www.example.test');
  return { k, d, steps, requests, req };
}

/** the steps of a request that reaches its controller and returns a Response */
const FULL_FLOW = [
  'kernel.request',
  'kernel.controller',
  'kernel.controller_arguments',
  'kernel.response',
  'kernel.finish_request',
];

describe('HttpKernel', () => {
  it('runs request, controller, arguments, response and finish_request in order', async () => {
    const { k, steps, req } = kernelWith({ name: 'c', params: [], fn: () => new Response('ok') });
    const res = await k.handle(req);
    expect(res.body).toBe('ok');
    expect(steps.map((s) => s.event)).toEqual(FULL_FLOW);
  });

  it('skips routing and the controller when kernel.request sets a response, but still filters it', async () => {
    let called = false;
    const { k, steps, req } = kernelWith(
      {
        name: 'c',
        params: [],
        fn: () => {
          called = true;
          return new Response('no');
        },
      },
      (d) => {
        d.addListener('kernel.request', (e: RequestEvent) => e.setResponse(new Response('early', 404)), 100);
        d.addListener(
          'kernel.response',
          (e) => void (e as unknown as { response: Response }).response.headers.set('x-filtered', 'yes'),
        );
      },
    );
    const res = await k.handle(req);
    expect(called).toBe(false);
    expect(res.status).toBe(404);
    expect(res.headers.get('x-filtered')).toBe('yes');
    expect(steps.map((s) => s.event)).toEqual(['kernel.request', 'kernel.response', 'kernel.finish_request']);
  });

  it('turns a non-Response result into one on kernel.view, or fails through kernel.exception', async () => {
    const data = { name: 'c', params: [], fn: () => ({ hello: 'world' }) };
    const withView = kernelWith(data, (d) =>
      d.addListener('kernel.view', (e: ViewEvent) =>
        e.setResponse(new Response(JSON.stringify(e.controllerResult))),
      ),
    );
    expect((await withView.k.handle(withView.req)).body).toBe('{"hello":"world"}');
    const noView = kernelWith(data);
    const res = await noView.k.handle(noView.req);
    expect(res.status).toBe(500);
    expect(noView.steps.map((s) => s.event)).toContain('kernel.exception');
  });

  it('makes an exception a response through kernel.exception, keeping the HTTP status', async () => {
    const { k, req } = kernelWith(undefined, (d) =>
      d.addListener('kernel.exception', (e) => {
        const ev = e as unknown as RequestEvent & { error: Error };
        ev.setResponse(
          new Response(`handled: ${ev.error.message}`, (ev.error as HttpException).status ?? 500),
        );
      }),
    );
    const res = await k.handle(req);
    expect(res.status).toBe(404);
    expect(res.body).toMatch(/handled: no controller/);
  });
});

describe('HttpKernel, with async listeners and controllers', () => {
  it('waits for an async listener before the next one runs, and keeps the order of steps', async () => {
    const order: string[] = [];
    const { k, steps, req } = kernelWith(
      { name: 'c', params: [], fn: async () => new Response('later') },
      (d) => {
        d.addListener(
          'kernel.request',
          async () => {
            await new Promise((r) => setTimeout(r, 5));
            order.push('slow');
          },
          10,
        );
        d.addListener('kernel.request', () => void order.push('after'), 0);
      },
    );
    expect((await k.handle(req)).body).toBe('later');
    expect(order).toEqual(['slow', 'after']);
    expect(steps.map((s) => s.event)).toEqual(FULL_FLOW);
  });

  it('turns a rejected async controller into a page through kernel.exception', async () => {
    const { k, steps, req } = kernelWith(
      {
        name: 'c',
        params: [],
        fn: async () => {
          throw new HttpException(404, 'gone');
        },
      },
      (d) =>
        d.addListener('kernel.exception', (e: RequestEvent) => e.setResponse(new Response('handled', 404))),
    );
    const res = await k.handle(req);
    expect([res.status, res.body]).toEqual([404, 'handled']);
    expect(steps.map((s) => s.event)).toContain('kernel.exception');
  });

  it('runs with the plain dispatcher, untraced, to the same response', async () => {
    const d = new EventDispatcher();
    d.addListener('kernel.response', (e: ResponseEvent) => void e.response.headers.set('x-seen', 'yes'));
    const k = new HttpKernel(
      d,
      { getController: () => ({ name: 'c', params: [], fn: () => new Response('plain') }) },
      { getArguments: () => [] },
    );
    const req = new Request('GET', '/x', new URLSearchParams(), {}, {}, '127.0.0.1', 'www.example.test');
    const res = await k.handle(req);
    expect([res.body, res.headers.get('x-seen')]).toEqual(['plain', 'yes']);
  });
});

describe('TraceableEventDispatcher', () => {
  it('reports each step with its listeners in the order they ran, timed, and the request it is for', async () => {
    const { k, steps, requests, req } = kernelWith(
      { name: 'c', params: [], fn: () => new Response('ok') },
      (d) => {
        d.addListener('kernel.request', () => {}, 10, 'First');
        d.addListener('kernel.request', (e: RequestEvent) => e.stopPropagation(), 0, 'Stopper');
        d.addListener('kernel.request', () => {}, -10, 'NeverRuns');
      },
    );
    await k.terminate(req, await k.handle(req));
    expect(steps.at(-1)).toMatchObject({ event: 'kernel.terminate', detail: { status: 200 } });
    const request = steps[0];
    expect(request.listeners.map((l) => [l.listener, l.priority, l.stoppedPropagation])).toEqual([
      ['First', 10, false],
      ['Stopper', 0, true],
    ]);
    for (const l of request.listeners) expect(Number.isInteger(l.dur) && l.dur >= 0).toBe(true);
    expect(request.detail).toMatchObject({ request: { method: 'GET', path: '/x' } });
    expect(requests.every((r) => r === req)).toBe(true);
    expect(steps.find((s) => s.event === 'kernel.finish_request')?.detail).toBeUndefined();
  });

  it('shows the controller the resolver chose on kernel.controller, and the status the listeners left', async () => {
    const v2: Controller = {
      name: 'c_v2',
      params: [{ name: 'user', kind: 'entity:User' }],
      fn: () => new Response('v2'),
    };
    const { k, steps, req } = kernelWith({ name: 'c', params: [], fn: () => new Response('v1') }, (d) => {
      d.addListener(
        'kernel.controller',
        (e: ControllerEvent) => {
          e.controller = v2;
        },
        0,
        'Swap',
      );
      d.addListener(
        'kernel.response',
        (e: ResponseEvent) => {
          e.response.status = 203;
        },
        0,
        'Status',
      );
    });
    expect((await k.handle(req)).body).toBe('v2');
    const detail = (event: string) => steps.find((s) => s.event === event)?.detail;
    expect(detail('kernel.controller')).toEqual({ controller: 'c' });
    expect(detail('kernel.controller_arguments')).toEqual({ controller: 'c_v2', arguments: ['user'] });
    expect(detail('kernel.response')).toEqual({ status: 203 });
  });

  it('reports no step for an event whose listener threw, then the exception and its status', async () => {
    const { k, steps, req } = kernelWith({ name: 'c', params: [], fn: () => new Response('no') }, (d) =>
      d.addListener('kernel.request', () => {
        throw new HttpException(405, 'Boom');
      }),
    );
    const res = await k.handle(req);
    expect(res.status).toBe(405);
    expect(steps.map((s) => s.event)).toEqual([
      'kernel.exception',
      'kernel.response',
      'kernel.finish_request',
    ]);
    expect(steps[0].detail).toEqual({ error: 'Boom', status: 405 });
  });
});
