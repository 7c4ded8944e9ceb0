// HttpKernel after Symfony's HttpKernel::handleRaw(): the life of a request in one function, every
// step an event that listeners can act on. The comments name the JOURNEY steps.
import { type EventDispatcherInterface, KernelEvent } from './dispatcher.js';
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
export class FinishRequestEvent extends KernelEvent {
  constructor(readonly request: Request) {
    super();
  }
}

export interface ControllerResolver {
  getController(request: Request): Controller | undefined;
}
export interface ArgumentResolver {
  getArguments(request: Request, controller: Controller): unknown[] | Promise<unknown[]>;
}

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

export class HttpKernel {
  constructor(
    readonly dispatcher: EventDispatcherInterface,
    private readonly controllers: ControllerResolver,
    private readonly args: ArgumentResolver,
  ) {}

  /** The Response for a request; whatever goes wrong on the way becomes one through kernel.exception. */
  async handle(request: Request): Promise<Response> {
    try {
      return await this.handleRaw(request);
    } catch (err) {
      return this.handleThrowable(request, asError(err));
    }
  }

  private async handleRaw(request: Request): Promise<Response> {
    // JOURNEY 27: kernel.request — a listener may answer early (the IP blocklist does)
    const requestEvent = await this.dispatcher.dispatch(new RequestEvent(request), 'kernel.request');
    if (requestEvent.response) return this.filterResponse(request, requestEvent.response);

    // JOURNEY 28–29: the router listener set _controller; the resolver turns it into a callable
    const found = this.controllers.getController(request);
    if (!found) throw new HttpException(404, `no controller for ${request.method} ${request.path}`);

    // JOURNEY 29: kernel.controller — a listener may swap the controller (API versioning)
    const controllerEvent = await this.dispatcher.dispatch(
      new ControllerEvent(request, found),
      'kernel.controller',
    );
    let controller = controllerEvent.controller;

    // JOURNEY 30: the argument resolver turns route attributes into values (an id into a User)
    const resolved = await this.args.getArguments(request, controller);
    const argumentsEvent = await this.dispatcher.dispatch(
      new ControllerArgumentsEvent(request, controller, resolved),
      'kernel.controller_arguments',
    );
    controller = argumentsEvent.controller;

    // JOURNEY 31: call the controller
    const result = await controller.fn(...argumentsEvent.args);
    if (result instanceof Response) return this.filterResponse(request, result);

    // JOURNEY 31: kernel.view turns what the controller returned into a Response
    const viewEvent = await this.dispatcher.dispatch(new ViewEvent(request, result), 'kernel.view');
    if (!viewEvent.response)
      throw new Error(
        `the controller ${controller.name} must return a Response (it returned ${typeof result}); no kernel.view listener made one`,
      );
    return this.filterResponse(request, viewEvent.response);
  }

  /** JOURNEY 32: kernel.response listeners add headers; kernel.finish_request closes the request. */
  private async filterResponse(request: Request, response: Response): Promise<Response> {
    const event = await this.dispatcher.dispatch(new ResponseEvent(request, response), 'kernel.response');
    await this.dispatcher.dispatch(new FinishRequestEvent(request), 'kernel.finish_request');
    return event.response;
  }

  /** JOURNEY 33: an exception becomes a response through kernel.exception. */
  private async handleThrowable(request: Request, error: Error): Promise<Response> {
    const event = await this.dispatcher.dispatch(new ExceptionEvent(request, error), 'kernel.exception');
    const response =
      event.response ??
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
    await this.dispatcher.dispatch(new ResponseEvent(request, response), 'kernel.terminate');
  }
}
