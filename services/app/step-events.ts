// The data of a kernel-step event as JSON text, built from parts. Seven of these a request are the
// app's hottest path, and most of their bytes never change: a listener's name and priority are
// serialized once, strings and numbers go straight in, and only nested values (the request's
// summary) through JSON.stringify. The text is what JSON.stringify would write for
// `{token, listeners, route, attributes, ...detail}`; a unit test holds the two to the same JSON.
import { jsonValue, quote } from '../common/events.js';
import type { ListenerCall } from './kernel/dispatcher.js';

/** `{"listener":…,"priority":…,"dur":` for each listener seen, by name */
const heads = new Map<string, { priority: number; json: string }>();
const MAX_HEADS = 1000; // workshop listeners come and go by name: never let the cache grow without bound

function listenerJson(c: ListenerCall): string {
  let head = heads.get(c.listener);
  if (head?.priority !== c.priority) {
    if (heads.size >= MAX_HEADS) heads.clear();
    head = {
      priority: c.priority,
      json: `{"listener":${quote(c.listener)},"priority":${jsonValue(c.priority)},"dur":`,
    };
    heads.set(c.listener, head);
  }
  return `${head.json}${jsonValue(c.dur)},"stoppedPropagation":${c.stoppedPropagation ? 'true}' : 'false}'}`;
}

/** A string-keyed map as a JSON object (what the router put on the request), `_blocked…` left out. */
function attributesJson(attributes: Map<string, unknown>): string {
  let out = '';
  for (const [k, v] of attributes) {
    if (k.startsWith('_blocked') || v === undefined) continue;
    out += out ? `,${quote(k)}:${jsonValue(v)}` : `${quote(k)}:${jsonValue(v)}`;
  }
  return `{${out}}`;
}

const COMMON = new Set(['token', 'listeners', 'route', 'attributes']);

export interface StepData {
  token: string;
  listeners: ListenerCall[];
  route?: unknown;
  /** the request's attributes, on the steps where what the router learnt matters */
  attributes?: Map<string, unknown>;
  /** the step's own fields (request, controller, status…), after the common ones */
  detail?: Record<string, unknown>;
}

export function stepDataJson(d: StepData): string {
  let out = `{"token":${quote(d.token)},"listeners":[`;
  for (let i = 0; i < d.listeners.length; i++)
    out += i ? `,${listenerJson(d.listeners[i])}` : listenerJson(d.listeners[i]);
  out += ']';
  if (d.route !== undefined) out += `,"route":${jsonValue(d.route)}`;
  if (d.attributes) out += `,"attributes":${attributesJson(d.attributes)}`;
  const detail = d.detail;
  if (detail)
    for (const k in detail) {
      const v = detail[k];
      if (v !== undefined && typeof v !== 'function' && !COMMON.has(k)) out += `,${quote(k)}:${jsonValue(v)}`;
    }
  return `${out}}`;
}
