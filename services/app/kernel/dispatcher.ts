// An EventDispatcher after Symfony's: listeners by priority (higher first), stopPropagation,
// subscribers that declare their own events. Each call is timed for the profiler.

export class KernelEvent {
  // set in the constructor, not as a class field: a request makes six of these, and V8 defines
  // class fields one by one down the subclass chain
  declare private stopped: boolean;
  constructor() {
    this.stopped = false;
  }
  stopPropagation(): void {
    this.stopped = true;
  }
  get propagationStopped(): boolean {
    return this.stopped;
  }
}

export type Listener<E extends KernelEvent = KernelEvent> = (event: E, name: string) => void | Promise<void>;

export interface ListenerCall {
  listener: string;
  priority: number;
  /** microseconds */
  dur: number;
  stoppedPropagation: boolean;
}

export interface Subscriber {
  name: string;
  events(): Record<string, [string, number] | string>;
  [method: string]: unknown;
}

interface Entry {
  name: string;
  priority: number;
  fn: Listener;
}

export class EventDispatcher {
  private readonly listeners = new Map<string, Entry[]>();

  addListener<E extends KernelEvent>(
    event: string,
    fn: Listener<E>,
    priority = 0,
    name = fn.name || 'anonymous',
  ): void {
    const list = this.listeners.get(event) ?? [];
    list.push({ name, priority, fn: fn as Listener });
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
    const list = this.listeners.get(event) ?? [];
    const kept = list.filter((l) => l.name !== name);
    this.listeners.set(event, kept);
    return list.length - kept.length;
  }

  getListeners(event: string): { name: string; priority: number }[] {
    return (this.listeners.get(event) ?? []).map(({ name, priority }) => ({ name, priority }));
  }

  /**
   * Calls listeners in priority order until one stops propagation; returns what ran, timed.
   * Synchronous while the listeners are (the common case costs no promise); async from the first
   * listener that returns a promise, which is awaited before the next one runs.
   */
  dispatch<E extends KernelEvent>(event: E, name: string): ListenerCall[] | Promise<ListenerCall[]> {
    return this.callFrom(this.listeners.get(name) ?? [], 0, event, name, []);
  }

  private callFrom(
    list: Entry[],
    from: number,
    event: KernelEvent,
    name: string,
    calls: ListenerCall[],
  ): ListenerCall[] | Promise<ListenerCall[]> {
    for (let i = from; i < list.length && !event.propagationStopped; i++) {
      const l = list[i];
      const t0 = performance.now();
      const done = l.fn(event, name);
      if (done instanceof Promise)
        return done.then(() => {
          calls.push(timed(l, t0, event));
          return this.callFrom(list, i + 1, event, name, calls);
        });
      calls.push(timed(l, t0, event));
    }
    return calls;
  }
}

function timed(l: Entry, t0: number, event: KernelEvent): ListenerCall {
  return {
    listener: l.name,
    priority: l.priority,
    dur: Math.round((performance.now() - t0) * 1000),
    stoppedPropagation: event.propagationStopped,
  };
}
