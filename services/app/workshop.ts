// Listeners a workshop adds at run time (control `app.listener.add`), to watch the kernel's flow
// change: one that throws (kernel.exception turns it into a 500 page), one that answers early on
// kernel.request (routing and the controller are skipped), one that adds a header on kernel.response.
import { ControlError } from '../common/control.js';
import type { EventDispatcher, KernelEvent } from './kernel/dispatcher.js';
import { Response } from './kernel/http.js';
import { RequestEvent, ResponseEvent } from './kernel/kernel.js';

export const KERNEL_EVENTS = [
  'kernel.request',
  'kernel.controller',
  'kernel.controller_arguments',
  'kernel.view',
  'kernel.response',
  'kernel.finish_request',
  'kernel.terminate',
  'kernel.exception',
] as const;

export type WorkshopAction = 'throw' | 'respond' | 'header';

export interface WorkshopListener {
  event: string;
  name: string;
  priority: number;
  action: WorkshopAction;
  status: number;
}

/** Validates control arguments into a listener spec; bad input is an error the CLI prints. */
export function parseWorkshopListener(args: Record<string, unknown>): WorkshopListener {
  const event = String(args.event ?? '');
  if (!(KERNEL_EVENTS as readonly string[]).includes(event))
    throw new ControlError(`"${event}" is not a kernel event (${KERNEL_EVENTS.join(', ')})`, 'ERR_BAD_EVENT');
  const action = String(args.action ?? 'throw') as WorkshopAction;
  if (!['throw', 'respond', 'header'].includes(action))
    throw new ControlError(`action must be throw, respond or header, not "${action}"`, 'ERR_BAD_ACTION');
  if (action === 'respond' && event !== 'kernel.request' && event !== 'kernel.exception')
    throw new ControlError('respond works on kernel.request or kernel.exception', 'ERR_BAD_ACTION');
  if (action === 'header' && event !== 'kernel.response')
    throw new ControlError('header works on kernel.response', 'ERR_BAD_ACTION');
  const priority = Number(args.priority ?? 0);
  const status = Number(args.status ?? 418);
  if (!Number.isInteger(priority) || !Number.isInteger(status) || status < 100 || status > 599)
    throw new ControlError('priority must be an integer, status 100–599', 'ERR_BAD_ARGS');
  const name = String(args.name ?? `Workshop${action[0].toUpperCase()}${action.slice(1)}Listener`);
  return { event, name, priority, action, status };
}

export function addWorkshopListener(d: EventDispatcher, w: WorkshopListener): void {
  const listener = (e: KernelEvent) => {
    if (w.action === 'throw') throw new Error(`${w.name} threw on ${w.event} (added by the workshop)`);
    if (w.action === 'respond' && e instanceof RequestEvent)
      e.setResponse(
        new Response(`${w.status}: answered by ${w.name} on ${w.event}\n`, w.status, {
          'content-type': 'text/plain; charset=utf-8',
        }),
      );
    if (w.action === 'header' && e instanceof ResponseEvent) e.response.headers.set('x-workshop', w.name);
  };
  d.addListener(w.event, listener, w.priority, w.name);
}
