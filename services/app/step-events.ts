// A kernel step as a lab event: its kind is the kernel event's name, its summary names the listeners
// that ran, its data is {token, listeners, route, attributes, ...detail}. The emitter serializes it.
import type { KernelEventName, KernelStepData } from './events.js';
import type { Request } from './kernel/http.js';
import type { KernelStep } from './kernel/traceable-dispatcher.js';
import { KERNEL_EVENTS } from './workshop.js';

export interface StepEvent {
  kind: KernelEventName;
  summary: string;
  data: KernelStepData;
}

function isKernelEvent(name: string): name is KernelEventName {
  return (KERNEL_EVENTS as readonly string[]).includes(name);
}

/** The request's attributes (what the router learnt) as an object, without the blocklist's marks. */
function attributesOf(request: Request): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of request.attributes) if (!k.startsWith('_blocked')) out[k] = v;
  return out;
}

export function stepEvent(step: KernelStep, request: Request | undefined, token: string): StepEvent {
  const route = request?.attributes.get('_route');
  const detail = step.detail;
  let summary = `${step.event}: ${step.listeners.map((l) => l.listener).join(', ') || 'no listener'}`;
  if (step.event === 'kernel.request' && route) summary += ` (route ${route})`;
  else if (step.event === 'kernel.terminate') summary += `, profile at /_profiler/${token}`;
  if (detail?.controller) summary += ` (controller ${detail.controller})`;
  if (detail?.status) summary += ` (status ${detail.status})`;
  // what the router learnt, where it matters (scenarios match on it)
  const attributes =
    request && (step.event === 'kernel.request' || step.event === 'kernel.controller')
      ? attributesOf(request)
      : undefined;
  if (!isKernelEvent(step.event)) throw new Error(`"${step.event}" is not a kernel event`);
  return {
    kind: step.event,
    summary,
    data: { token, listeners: step.listeners, route, attributes, ...detail },
  };
}
