import { describe, expect, it } from 'vitest';
import { EventDispatcher, KernelEvent } from '../../../services/app/kernel/dispatcher.js';
import { type HttpException, Request, Response } from '../../../services/app/kernel/http.js';
import {
  type Controller,
  HttpKernel,
  type KernelStep,
  type RequestEvent,
  type ViewEvent,
} from '../../../services/app/kernel/kernel.js';
import { Router } from '../../../services/app/kernel/router.js';

describe('EventDispatcher', () => {
  it('calls listeners by priority, higher first, equal ones in registration order', async () => {
    const d = new EventDispatcher();
    const seen: string[] = [];
    d.addListener('e', () => void seen.push('low'), -10, 'low');
    d.addListener('e', () => void seen.push('a'), 0, 'a');
    d.addListener('e', () => void seen.push('high'), 100, 'high');
    d.addListener('e', () => void seen.push('b'), 0, 'b');
    const calls = await d.dispatch(new KernelEvent(), 'e');
    expect(seen).toEqual(['high', 'a', 'b', 'low']);
    expect(calls.map((c) => c.listener)).toEqual(['high', 'a', 'b', 'low']);
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
    const calls = await d.dispatch(new KernelEvent(), 'e');
    expect(seen).toEqual(['first']);
    expect(calls[0].stoppedPropagation).toBe(true);
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
  const k = new HttpKernel(d, { getController: () => controller }, { getArguments: () => [] }, (_r, s) =>
    steps.push(s),
  );
  const req = new Request('GET', '/x', new URLSearchParams(), {}, {}, '127.0.0.1', 'www.example.test');
  return { k, d, steps, req };
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

describe('HttpKernel, synchronous and not', () => {
  it('answers without a promise while every listener and the controller are synchronous', () => {
    const { k, req } = kernelWith({ name: 'c', params: [], fn: () => new Response('now') });
    const res = k.handle(req);
    expect(res).toBeInstanceOf(Response);
    expect((res as Response).body).toBe('now');
    expect(k.terminate(req, res as Response)).toBeUndefined();
  });

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
    const res = k.handle(req);
    expect(res).toBeInstanceOf(Promise);
    expect((await res).body).toBe('later');
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
});
