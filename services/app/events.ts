// The events of the app service's two hosts, `app` (the web-server layer and the kernel) and `web2`:
// kind → data. scripts/events-doc.ts turns this into docs/EVENTS.md and the list in main.ts.
import type { OcspStapleEvent, ServiceEvent, TlsRenewEvent } from '../common/service-events.js';
import type { ListenerCall } from './kernel/traceable-dispatcher.js';
import type { KERNEL_EVENTS } from './workshop.js';

/** The kernel's events, each emitted as one step (services/app/step-events.ts). */
export type KernelEventName = (typeof KERNEL_EVENTS)[number];

/** One kernel step: the listeners that ran, and what the router and the kernel learnt. */
export interface KernelStepData {
  /** the profiler token (/_profiler/<token>) */
  token: string;
  listeners: ListenerCall[];
  route?: unknown;
  /** the request's attributes, on kernel.request and kernel.controller */
  attributes?: Record<string, unknown>;
  /** the rest depends on the step: controller, arguments, status, error, resultType, request */
  [detail: string]: unknown;
}

export type AppEvent =
  | ServiceEvent
  /** web2's certificate and its staple (services/common/tls-identity.ts) */
  | TlsRenewEvent
  | OcspStapleEvent
  | {
      /** the web-server layer picked a site (or none: 421) */
      kind: 'vhost.match';
      data: { host: string; vhost: string | null; method: string; path: string };
    }
  | {
      /** one kernel step */
      kind: KernelEventName;
      data: KernelStepData;
    }
  | {
      /** one line of the combined access log */
      kind: 'http.access';
      data: { line: string; status: number; vhost: string | null; ms: number };
    }
  | {
      /** web2 answered a request */
      kind: 'http.request';
      data: { method: string | undefined; host: string; path: string | undefined; scheme: string };
    };
