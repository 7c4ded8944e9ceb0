// An EventDispatcher after Symfony's: listeners by priority (higher first), stopPropagation,
// subscribers that declare their own events. Timing each listener is not its job: the profiler
// wraps it in a TraceableEventDispatcher (traceable-dispatcher.ts), as Symfony's debug mode does.

export class KernelEvent {
  private stopped = false;
  stopPropagation(): void {
    this.stopped = true;
  }
  get propagationStopped(): boolean {
    return this.stopped;
  }
}

export type Listener<E extends KernelEvent = KernelEvent> = (event: E, name: string) => void | Promise<void>;

/** A listener as registered: its name (what the profiler and the events show) and its priority. */
export interface RegisteredListener {
  name: string;
  priority: number;
  fn: Listener;
}

/** What the kernel needs of a dispatcher (Symfony's EventDispatcherInterface): dispatch, and get the event back. */
export interface EventDispatcherInterface {
  dispatch<E extends KernelEvent>(event: E, name: string): Promise<E>;
}

export interface Subscriber {
  name: string;
  events(): Record<string, [string, number] | string>;
  [method: string]: unknown;
}

/**
 * Calls listeners in order until one stops propagation (Symfony's callListeners); an async listener
 * is awaited before the next one runs.
 */
export async function callListeners(
  listeners: readonly RegisteredListener[],
  event: KernelEvent,
  name: string,
): Promise<void> {
  for (const listener of listeners) {
    if (event.propagationStopped) break;
    await listener.fn(event, name);
  }
}

export class EventDispatcher implements EventDispatcherInterface {
  private readonly listeners = new Map<string, RegisteredListener[]>();

  addListener<E extends KernelEvent>(
    event: string,
    fn: Listener<E>,
    priority = 0,
    name = fn.name || 'anonymous',
  ): void {
    // a new list, not the old one changed: a dispatch already under way keeps the list it started with
    const list = [...this.listenersOf(event), { name, priority, fn: fn as Listener }];
    // stable sort: equal priorities keep their registration order
    list.sort((a, b) => b.priority - a.priority);
    this.listeners.set(event, list);
  }

  addSubscriber(sub: Subscriber): void {
    for (const [event, spec] of Object.entries(sub.events())) {
      const [method, priority] = typeof spec === 'string' ? [spec, 0] : spec;
      const fn = sub[method];
      if (typeof fn !== 'function')
        throw new Error(`${sub.name} subscribes ${event} to ${method}, which it lacks`);
      this.addListener(event, (fn as Listener).bind(sub), priority, `${sub.name}::${method}`);
    }
  }

  /** Removes the listeners of that name from an event; returns how many went. */
  removeListener(event: string, name: string): number {
    const list = this.listenersOf(event);
    const kept = list.filter((l) => l.name !== name);
    this.listeners.set(event, kept);
    return list.length - kept.length;
  }

  getListeners(event: string): { name: string; priority: number }[] {
    return this.listenersOf(event).map(({ name, priority }) => ({ name, priority }));
  }

  /** The listeners of an event, in the order they run. */
  listenersOf(event: string): readonly RegisteredListener[] {
    return this.listeners.get(event) ?? [];
  }

  async dispatch<E extends KernelEvent>(event: E, name: string): Promise<E> {
    await callListeners(this.listenersOf(name), event, name);
    return event;
  }
}
