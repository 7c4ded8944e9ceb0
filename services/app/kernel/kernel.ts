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
  response?: Response;
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
  getArguments(request: Request, controller: Controller): Promise<unknown[]>;
}

/** One kernel step as the profiler and the lab see it. */
export interface KernelStep {
  event: string;
  listeners: ListenerCall[];
  detail?: Record<string, unknown>;
}

export class HttpKernel {
  constructor(
    readonly dispatcher: EventDispatcher,
    private readonly controllers: ControllerResolver,
    private readonly args: ArgumentResolver,
    private readonly onStep: (request: Request, step: KernelStep) => void = () => {},
  ) {}

  /** Dispatches one kernel event and reports the step; no promise unless a listener is async. */
  private fire<E extends KernelEvent>(
    request: Request,
    name: string,
    event: E,
    detail?: () => Record<string, unknown>,
  ): E | Promise<E> {
    const step = (listeners: ListenerCall[]) => {
      this.onStep(request, { event: name, listeners, detail: detail?.() });
      return event;
    };
    const calls = this.dispatcher.dispatch(event, name);
    return calls instanceof Promise ? calls.then(step) : step(calls);
  }

  async handle(request: Request): Promise<Response> {
    try {
      return await this.handleRaw(request);
    } catch (err) {
      return this.handleThrowable(request, err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async handleRaw(request: Request): Promise<Response> {
    // JOURNEY 27: kernel.request — a listener may answer early (the IP blocklist does)
    const req = await this.fire(request, 'kernel.request', new RequestEvent(request), () => ({
      request: request.summary(),
    }));
    if (req.response) return this.filterResponse(request, req.response);

    // JOURNEY 28–29: the router listener set _controller; the resolver turns it into a callable
    const found = this.controllers.getController(request);
    if (!found) throw new HttpException(404, `no controller for ${request.method} ${request.path}`);

    // JOURNEY 29: kernel.controller — a listener may swap the controller (API versioning)
    const ctl = await this.fire(request, 'kernel.controller', new ControllerEvent(request, found), () => ({
      controller: found.name,
    }));
    const controller = ctl.controller;

    // JOURNEY 30: the argument resolver turns route attributes into values (an id into a User)
    const resolved = await this.args.getArguments(request, controller);
    const argEv = await this.fire(
      request,
      'kernel.controller_arguments',
      new ControllerArgumentsEvent(request, controller, resolved),
      () => ({
        controller: controller.name,
        arguments: controller.params.map((p) => p.name),
      }),
    );

    // JOURNEY 31: call the controller
    const result = await argEv.controller.fn(...argEv.args);
    let response: Response;
    if (result instanceof Response) response = result;
    else {
      // JOURNEY 31: kernel.view turns what the controller returned into a Response
      const view = await this.fire(request, 'kernel.view', new ViewEvent(request, result), () => ({
        resultType: typeof result,
      }));
      if (!view.response)
        throw new Error(
          `the controller ${controller.name} must return a Response (it returned ${typeof result}); no kernel.view listener made one`,
        );
      response = view.response;
    }
    return this.filterResponse(request, response);
  }

  /** JOURNEY 32: kernel.response listeners add headers; kernel.finish_request closes the request. */
  private async filterResponse(request: Request, response: Response): Promise<Response> {
    const ev = await this.fire(request, 'kernel.response', new ResponseEvent(request, response), () => ({
      status: response.status,
    }));
    await this.fire(request, 'kernel.finish_request', new KernelEvent());
    return ev.response;
  }

  /** JOURNEY 33: an exception becomes a response through kernel.exception. */
  private async handleThrowable(request: Request, error: Error): Promise<Response> {
    const ev = await this.fire(request, 'kernel.exception', new ExceptionEvent(request, error), () => ({
      error: error.message,
      status: error instanceof HttpException ? error.status : 500,
    }));
    const response =
      ev.response ??
      new Response(`${error.message}\n`, error instanceof HttpException ? error.status : 500, {
        'content-type': 'text/plain; charset=utf-8',
      });
    try {
      return await this.filterResponse(request, response);
    } catch {
      return response; // a kernel.response listener failed while we handled a failure: send what we have
    }
  }

  /** kernel.terminate: after the response has been sent (Symfony's TerminableInterface). */
  async terminate(request: Request, response: Response): Promise<void> {
    await this.fire(request, 'kernel.terminate', new ResponseEvent(request, response), () => ({
      status: response.status,
    }));
  }
}
