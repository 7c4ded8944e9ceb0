// W3C Trace Context (traceparent): how one page load is followed from the browser through the proxy
// to the app, so every host's events join one trace.
import { randomBytes } from 'node:crypto';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The trace id of a traceparent header, if it is well-formed. */
export function traceId(header: unknown): string | undefined {
  return typeof header === 'string' ? TRACEPARENT.exec(header)?.[1] : undefined;
}

export function parentSpan(header: unknown): string | undefined {
  return typeof header === 'string' ? TRACEPARENT.exec(header)?.[2] : undefined;
}

export function traceparent(trace: string, span: string): string {
  return `00-${trace}-${span}-01`;
}

/** Continues the caller's trace with a new span id, or starts one. */
export function nextTraceparent(header: unknown): { header: string; trace: string; span: string } {
  const trace = traceId(header) ?? randomBytes(16).toString('hex');
  const span = randomBytes(8).toString('hex');
  return { header: traceparent(trace, span), trace, span };
}
