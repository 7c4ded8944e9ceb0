// HttpKernel after Symfony's HttpKernel::handleRaw(): the life of a request in one function, every
// step an event that listeners can act on. The comments name the JOURNEY steps.
import { type EventDispatcher, KernelEvent, type ListenerCall } from './dispatcher.js';
import { HttpException, type Request, Response } from './http.js';

export type ParamKind = 'request' | 'int' | 'string' | 'entity:User';
export interface Controller {
  name: string;
  /** declared parameters: what the argument resolver must supply, in order */
  params: { name: string; kind: ParamKind }[];
  fn: (...args: unknown[]) => unknown | Promise<unknown>;
}

export class RequestEvent extends KernelEvent {
  declare response?: Response;
  constructor(readonly request: Request) {
    super();
  }
  setResponse(r: Response): void {
    this.response = r;
    this.stopPropagation();
  }
}
export class ControllerEvent extends KernelEvent {
  constructor(
    readonly request: Request,
    public controller: Controller,
  ) {
    super();
  }
}
export class ControllerArgumentsEvent extends KernelEvent {
  constructor(
    readonly request: Request,
    public controller: Controller,
    public args: unknown[],
  ) {
    super();
  }
}
export class ViewEvent extends RequestEvent {
  constructor(
    request: Request,
    readonly controllerResult: unknown,
  ) {
    super(request);
  }
}
export class ResponseEvent extends KernelEvent {
  constructor(
    readonly request: Request,
    public response: Response,
  ) {
    super();
  }
}
export class ExceptionEvent extends RequestEvent {
  constructor(
    request: Request,
    readonly error: Error,
  ) {
    super(request);
  }
}

export interface ControllerResolver {
  getController(request: Request): Controller | undefined;
}
export interface ArgumentResolver {
  getArguments(request: Request, controller: Controller): unknown[] | Promise<unknown[]>;
}

/** One kernel step as the profiler and the lab see it. */
export interface KernelStep {
  event: string;
  listeners: ListenerCall[];
  detail?: Record<string, unknown>;
}

/** A value now, or later: what a listener, a resolver or a controller may give back. */
type Maybe<T> = T | Promise<T>;
/** A kernel flow, written top to bottom; each `yield* settled(x)` is a point where it may wait. */
type Flow<T> = Generator<unknown, T, unknown>;

/** Hands `value` to the flow at once when it is plain, after it settles when it is a promise. */
function* settled<T>(value: Maybe<T>): Flow<T> {
  return (yield value) as T;
}

/**
 * Runs a flow to its end: synchronously while every value it waits for is plain (the common case,
 * as in Symfony, whose kernel is synchronous: no promise, no microtask per step), and from the first
 * promise on, asynchronously. A rejection is thrown into the flow where it waited, like `await`.
 */
function run<T>(flow: Flow<T>, input?: unknown, failed = false, error?: unknown): Maybe<T> {
  for (;;) {
    const step = failed ? flow.throw(error) : flow.next(input);
    failed = false;
    if (step.done) return step.value;
    if (!(step.value instanceof Promise)) {
      input = step.value;
      continue;
    }
    return step.value.then(
      (v) => run(flow, v),
      (e) => run(flow, undefined, true, e),
    );
  }
}

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

export class HttpKernel {
  constructor(
    readonly dispatcher: EventDispatcher,
    private readonly controllers: ControllerResolver,
    private readonly args: ArgumentResolver,
    private readonly onStep: (request: Request, step: KernelStep) => void = () => {},
  ) {}

  /** Dispatches one kernel event and reports the step; waits only if a listener is async. */
  private *fire<E extends KernelEvent>(
    request: Request,
    name: string,
    event: E,
    /** what the step shows besides its listeners; a function when the listeners may change it */
    detail?: Record<string, unknown> | ((event: E) => Record<string, unknown>),
  ): Flow<E> {
    const listeners = yield* settled(this.dispatcher.dispatch(event, name));
    if (!detail) this.onStep(request, { event: name, listeners });
    else
      this.onStep(request, {
        event: name,
        listeners,
        detail: typeof detail === 'function' ? detail(event) : detail,
      });
    return event;
  }

  /** The Response for a request: a plain value when nothing on its way was asynchronous. */
  handle(request: Request): Maybe<Response> {
    let response: Maybe<Response>;
    try {
      response = run(this.handleRaw(request));
    } catch (err) {
      return this.handleThrowable(request, asError(err));
    }
    return response instanceof Promise
      ? response.catch((err) => this.handleThrowable(request, asError(err)))
      : response;
  }

  private *handleRaw(request: Request): Flow<Response> {
    // JOURNEY 27: kernel.request — a listener may answer early (the IP blocklist does)
    const req = yield* this.fire(request, 'kernel.request', new RequestEvent(request), {
      request: request.summary(),
    });
    if (req.response) return yield* this.filterResponse(request, req.response);

    // JOURNEY 28–29: the router listener set _controller; the resolver turns it into a callable
    const found = this.controllers.getController(request);
    if (!found) throw new HttpException(404, `no controller for ${request.method} ${request.path}`);

    // JOURNEY 29: kernel.controller — a listener may swap the controller (API versioning)
    const ctl = yield* this.fire(request, 'kernel.controller', new ControllerEvent(request, found), {
      controller: found.name,
    });
    const controller = ctl.controller;

    // JOURNEY 30: the argument resolver turns route attributes into values (an id into a User)
    const resolved = yield* settled(this.args.getArguments(request, controller));
    const argEv = yield* this.fire(
      request,
      'kernel.controller_arguments',
      new ControllerArgumentsEvent(request, controller, resolved),
      { controller: controller.name, arguments: controller.params.map((p) => p.name) },
    );

    // JOURNEY 31: call the controller
    const result = yield* settled(argEv.controller.fn(...argEv.args));
    let response: Response;
    if (result instanceof Response) response = result;
    else {
      // JOURNEY 31: kernel.view turns what the controller returned into a Response
      const view = yield* this.fire(request, 'kernel.view', new ViewEvent(request, result), {
        resultType: typeof result,
      });
      if (!view.response)
        throw new Error(
          `the controller ${controller.name} must return a Response (it returned ${typeof result}); no kernel.view listener made one`,
        );
      response = view.response;
    }
    return yield* this.filterResponse(request, response);
  }

  /** JOURNEY 32: kernel.response listeners add headers; kernel.finish_request closes the request. */
  private *filterResponse(request: Request, response: Response): Flow<Response> {
    // the status as the listeners left it: that is what goes out
    const ev = yield* this.fire(request, 'kernel.response', new ResponseEvent(request, response), (e) => ({
      status: e.response.status,
    }));
    yield* this.fire(request, 'kernel.finish_request', new KernelEvent());
    return ev.response;
  }

  /** JOURNEY 33: an exception becomes a response through kernel.exception. */
  private handleThrowable(request: Request, error: Error): Maybe<Response> {
    return run(this.exceptionFlow(request, error));
  }

  private *exceptionFlow(request: Request, error: Error): Flow<Response> {
    const ev = yield* this.fire(request, 'kernel.exception', new ExceptionEvent(request, error), {
      error: error.message,
      status: error instanceof HttpException ? error.status : 500,
    });
    const response =
      ev.response ??
      new Response(`${error.message}\n`, error instanceof HttpException ? error.status : 500, {
        'content-type': 'text/plain; charset=utf-8',
      });
    try {
      return yield* this.filterResponse(request, response);
    } catch {
      return response; // a kernel.response listener failed while we handled a failure: send what we have
    }
  }

  /** kernel.terminate: after the response has been sent (Symfony's TerminableInterface). */
  terminate(request: Request, response: Response): Maybe<void> {
    return run(this.terminateFlow(request, response));
  }

  private *terminateFlow(request: Request, response: Response): Flow<void> {
    yield* this.fire(request, 'kernel.terminate', new ResponseEvent(request, response), {
      status: response.status,
    });
  }
}
