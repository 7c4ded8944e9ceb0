// The profiler's view of the kernel, after Symfony's Debug\TraceableEventDispatcher: a decorator
// around the real dispatcher that times each listener, notes which one stopped propagation, and
// reports each dispatched event as one step. The kernel does not know it is being watched.
import {
  callListeners,
  type EventDispatcher,
  type EventDispatcherInterface,
  type KernelEvent,
  type RegisteredListener,
} from './dispatcher.js';
import { HttpException, type Request } from './http.js';
import {
  ControllerArgumentsEvent,
  ControllerEvent,
  ExceptionEvent,
  FinishRequestEvent,
  RequestEvent,
  ResponseEvent,
  ViewEvent,
} from './kernel.js';

/** One listener as it ran (Symfony's WrappedListener). */
export interface ListenerCall {
  listener: string;
  priority: number;
  /** microseconds */
  dur: number;
  stoppedPropagation: boolean;
}

/** One kernel step as the profiler and the lab see it. */
export interface KernelStep {
  event: string;
  listeners: ListenerCall[];
  detail?: Record<string, unknown>;
}

export type StepObserver = (step: KernelStep, request: Request | undefined) => void;

export class TraceableEventDispatcher implements EventDispatcherInterface {
  constructor(
    private readonly dispatcher: EventDispatcher,
    private readonly onStep: StepObserver,
  ) {}

  async dispatch<E extends KernelEvent>(event: E, name: string): Promise<E> {
    // what the kernel handed the listeners (the controller it resolved, before any swap)…
    const detail = stepDetail(event);
    const called: ListenerCall[] = [];
    const timed = this.dispatcher.listenersOf(name).map((listener) => wrapped(listener, called));
    await callListeners(timed, event, name);
    // …but a response's status as the listeners left it: that is what goes out
    if (event instanceof ResponseEvent && detail) detail.status = event.response.status;
    this.onStep(
      detail ? { event: name, listeners: called, detail } : { event: name, listeners: called },
      requestOf(event),
    );
    return event;
  }
}

/** A listener that notes how it ran in `called` once it has (Symfony's WrappedListener). */
function wrapped(listener: RegisteredListener, called: ListenerCall[]): RegisteredListener {
  return {
    ...listener,
    fn: async (event, name) => {
      const t0 = performance.now();
      await listener.fn(event, name);
      called.push({
        listener: listener.name,
        priority: listener.priority,
        dur: Math.round((performance.now() - t0) * 1000),
        stoppedPropagation: event.propagationStopped,
      });
    },
  };
}

/** What a step shows besides its listeners, read off its event. */
export function stepDetail(event: KernelEvent): Record<string, unknown> | undefined {
  if (event instanceof ExceptionEvent)
    return {
      error: event.error.message,
      status: event.error instanceof HttpException ? event.error.status : 500,
    };
  if (event instanceof ViewEvent) return { resultType: typeof event.controllerResult };
  if (event instanceof RequestEvent) return { request: event.request.summary() };
  if (event instanceof ControllerEvent) return { controller: event.controller.name };
  if (event instanceof ControllerArgumentsEvent)
    return { controller: event.controller.name, arguments: event.controller.params.map((p) => p.name) };
  if (event instanceof ResponseEvent) return { status: event.response.status };
  return undefined;
}

function requestOf(event: KernelEvent): Request | undefined {
  if (
    event instanceof RequestEvent ||
    event instanceof ControllerEvent ||
    event instanceof ControllerArgumentsEvent ||
    event instanceof ResponseEvent ||
    event instanceof FinishRequestEvent
  )
    return event.request;
  return undefined;
}
