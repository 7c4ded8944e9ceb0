// What the page sees live: every host's events, the hosts' states, and the ladder drawn from the events
// since the last browse or run. One server-sent-events stream per open page (HTML5 SSE, text/event-stream).
import type { ServerResponse } from 'node:http';
import type { LabEvent } from '../../services/common/events.js';
import { renderLadder } from '../render/ladder.js';
import type { HostStatus, Runtime } from '../runtime/types.js';

const KEEP_EVENTS = 3000;
const READ_EVERY_MS = 150;
const STATUS_EVERY_MS = 1000;
const LADDER_EVERY_MS = 250;

export interface Hub {
  /** a new page: it gets the events so far, the hosts and the ladder, then everything as it happens */
  attach(res: ServerResponse): void;
  broadcast(type: string, data: unknown): void;
  /** an event of the `lab` itself (a scenario's step), shown and drawn like the hosts' own */
  add(e: LabEvent): void;
  /** the ladder starts again from the next event (a new browse or run) */
  newLadder(title: string): void;
  close(): void;
}

export async function startHub(runtime: Runtime): Promise<Hub> {
  const clients = new Set<ServerResponse>();
  const events: LabEvent[] = [];
  let ladderFrom = 0; // index in `events` where the current ladder starts
  let dropped = 0; // events shifted out of `events`, so indices stay right
  let ladderTitle = 'the lab, live';
  let lastLadder = '';
  let lastStatus: HostStatus[] = [];
  let closed = false;

  const send = (res: ServerResponse, type: string, data: unknown) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  const broadcast = (type: string, data: unknown) => {
    for (const res of clients) send(res, type, data);
  };

  const ladderHtml = () => {
    const since = events.slice(Math.max(0, ladderFrom - dropped));
    const { html, ladder } = renderLadder(since, { title: ladderTitle });
    return { html, messages: ladder.steps.reduce((n, s) => n + s.messages.length, 0) };
  };
  let ladderDue: NodeJS.Timeout | undefined;
  const scheduleLadder = () => {
    ladderDue ??= setTimeout(() => {
      ladderDue = undefined;
      const l = ladderHtml();
      if (l.html === lastLadder) return;
      lastLadder = l.html;
      broadcast('ladder', l);
    }, LADDER_EVERY_MS);
  };

  const add = (fresh: LabEvent[]) => {
    events.push(...fresh);
    if (events.length > KEEP_EVENTS) dropped += events.splice(0, events.length - KEEP_EVENTS).length;
    broadcast('events', fresh);
    scheduleLadder();
  };

  // the runtime's cursor is read here, on the server: the page itself never polls
  const cursor = await runtime.cursor();
  const follow = async () => {
    while (!closed) {
      try {
        const fresh = await cursor.read();
        if (fresh.length) add(fresh);
      } catch {
        // a host's log rotated or the lab went down: keep following
      }
      await new Promise((r) => setTimeout(r, READ_EVERY_MS));
    }
  };
  const watchStatus = async () => {
    while (!closed) {
      try {
        const s = await runtime.status();
        if (JSON.stringify(s.map(shown)) !== JSON.stringify(lastStatus.map(shown))) {
          lastStatus = s;
          broadcast('status', s);
        }
      } catch {
        // the runtime could not answer this time; the next round tries again
      }
      await new Promise((r) => setTimeout(r, STATUS_EVERY_MS));
    }
  };
  void follow();
  void watchStatus();

  return {
    attach(res) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      clients.add(res);
      res.on('close', () => clients.delete(res));
      send(res, 'status', lastStatus);
      send(res, 'events', events.slice(-500));
      send(res, 'ladder', ladderHtml());
    },
    broadcast,
    add: (e) => add([e]),
    newLadder(title) {
      ladderFrom = dropped + events.length;
      ladderTitle = title;
      lastLadder = '';
      scheduleLadder();
    },
    close() {
      closed = true;
      if (ladderDue) clearTimeout(ladderDue);
      cursor.close?.();
      for (const res of clients) res.end();
    },
  };
}

/** what the page shows of a host: its state and why (uptime changes every second and is left out) */
const shown = (s: HostStatus) => `${s.host}:${s.state}:${s.reason ?? ''}`;
