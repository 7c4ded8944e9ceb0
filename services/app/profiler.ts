// The profiler (after Symfony's): each request's kernel events, the listeners called in order with
// their durations, and the final status, kept for the last 200 requests at /_profiler/<token>.
import type { Request as ExpressRequest, Response as ExpressResponse } from 'express';
import type { Request } from './kernel/http.js';
import type { KernelStep } from './kernel/traceable-dispatcher.js';

export interface Profile {
  token: string;
  request: Record<string, unknown>;
  events: KernelStep[];
  status?: number;
  startedAt: string;
  durationMs?: number;
}

const KEEP = 200;

export class Profiler {
  /** insertion order is age: the first key is the oldest profile */
  private readonly profiles = new Map<string, Profile & { t0: number }>();

  begin(token: string, request: Request): void {
    this.profiles.set(token, {
      token,
      request: request.summary(),
      events: [],
      startedAt: new Date().toISOString(),
      t0: performance.now(),
    });
    if (this.profiles.size > KEEP) this.profiles.delete(this.profiles.keys().next().value as string);
  }

  step(token: string, step: KernelStep): void {
    this.profiles.get(token)?.events.push(step);
  }

  end(token: string, status: number): void {
    const p = this.profiles.get(token);
    if (!p) return;
    p.status = status;
    p.durationMs = Math.round((performance.now() - p.t0) * 100) / 100;
  }

  get(token: string): Profile | undefined {
    const p = this.profiles.get(token);
    if (!p) return undefined;
    const { t0: _t0, ...profile } = p;
    return profile;
  }

  serve(token: string, req: ExpressRequest, res: ExpressResponse): void {
    const p = this.get(token);
    if (!p) {
      res.status(404).type('text/plain').send(`no profile ${token}\n`);
      return;
    }
    res.setHeader('cache-control', 'no-store');
    if (req.query.format === 'json' || (req.headers.accept ?? '').includes('application/json')) {
      res.json(p);
      return;
    }
    const esc = (s: string) => s.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
    const rows = p.events
      .map(
        (e) =>
          `<tr><th>${esc(e.event)}</th><td>${e.listeners.map((l) => `${esc(l.listener)} <small>(priority ${l.priority}, ${(l.dur / 1000).toFixed(2)} ms${l.stoppedPropagation ? ', stopped propagation' : ''})</small>`).join('<br>') || '<em>no listener</em>'}</td></tr>`,
      )
      .join('\n');
    res
      .type('html')
      .send(`<!doctype html><html><head><meta charset="utf-8"><title>Profile ${esc(token)}</title></head><body>
<h1>Profile ${esc(token)}: ${esc(String(p.request.method))} ${esc(String(p.request.path))} → ${p.status ?? '…'}</h1>
<p>${esc(p.startedAt)}, ${p.durationMs ?? '?'} ms, client ${esc(String(p.request.clientIp))}</p>
<table border="1" cellpadding="4"><tr><th>event</th><th>listeners, in the order they ran</th></tr>
${rows}
</table></body></html>\n`);
  }
}
