// The app server on two hosts: `app` (behind the proxy: vhosts, the kernel, the profiler) and
// `web2` (another web server, for the hosts-file story).
//
// Events (contract v1, docs/EVENTS.md), generated from services/app/events.ts by `npx tsx lab-cli/events-doc.ts`:
//   tls.renew  a new certificate from the CA is served
//       data {serial, names[], notAfter}
//   ocsp.staple  a stapled OCSP response fetched (status error: the CA did not answer)
//       data {status, nextUpdate?}
//   vhost.match  the web-server layer picked a site (or none: 421)
//       data {host, vhost, method, path}
//   kernel.request | kernel.controller | kernel.controller_arguments | kernel.view | kernel.response | kernel.finish_request | kernel.terminate | kernel.exception  one kernel step
//       data {token, listeners [{listener, priority, dur, stoppedPropagation}], route?, attributes?, …}
//   http.access  one line of the combined access log
//       data {line, status, vhost, ms}
//   http.request  web2 answered a request
//       data {method?, host, path?, scheme}
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createBatchedEmitter } from '../common/batched-emitter.js';
import { probeMark } from '../common/event-output.js';
import { alsoListen, closeAll } from '../common/listen.js';
import { guard, runService } from '../common/service.js';
import { addressOf, allAddressesOf } from '../common/settings.js';
import { traceId } from '../common/trace.js';
import type { AppCommands, Web2Commands } from './commands.js';
import { argumentResolver, controllerResolver, routes, v2Controllers } from './controllers.js';
import { openUsers, seedDatabase } from './db.js';
import type { AppEvent } from './events.js';
import { EventDispatcher } from './kernel/dispatcher.js';
import type { Request } from './kernel/http.js';
import { HttpKernel } from './kernel/kernel.js';
import { registerDefaults } from './kernel/listeners.js';
import { Router } from './kernel/router.js';
import { type KernelStep, TraceableEventDispatcher } from './kernel/traceable-dispatcher.js';
import { Profiler } from './profiler.js';
import { stepEvent } from './step-events.js';
import { buildWebServer } from './web.js';
import { startWeb2 } from './web2.js';
import { addWorkshopListener, KERNEL_EVENTS, parseWorkshopListener } from './workshop.js';

/** A profiler token: 6 hex digits, as Symfony's. */
const newToken = () => randomBytes(3).toString('hex');

await runService<AppEvent, AppCommands & Web2Commands>('app', async (ctx) => {
  if (ctx.host === 'web2') return startWeb2(ctx);
  const dbPath = join(ctx.stateDir, 'users.sqlite');
  seedDatabase(dbPath);
  const users = openUsers(dbPath); // read-only from here on
  // per-request events in batches: nine lines a request, one write(2) per event-loop turn
  const events = createBatchedEmitter<AppEvent>(ctx.host);
  const blocked = new Set<string>();
  const profiler = new Profiler();
  // per request: its profiler token and its trace (Symfony's profiler keys requests the same way),
  // and whether the proxy's health probe sent it (its events are marked, and not printed on docker)
  const perRequest = new WeakMap<Request, { token: string; trace: string | undefined; probe?: true }>();
  const tokenOf = (r: Request) => perRequest.get(r)?.token ?? 'none';

  // one event per kernel step, and the step in the request's profile: the traceable dispatcher
  // reports them, the kernel does not know
  const onStep = (step: KernelStep, request: Request | undefined) => {
    const meta = request && perRequest.get(request);
    const token = meta?.token ?? 'none';
    profiler.step(token, step);
    events.emit({ ...stepEvent(step, request, token), trace: meta?.trace, probe: meta?.probe });
  };
  const dispatcher = new EventDispatcher();
  const kernel = new HttpKernel(
    new TraceableEventDispatcher(dispatcher, onStep),
    controllerResolver,
    argumentResolver(users),
  );
  registerDefaults(dispatcher, { router: new Router(routes), blocked, v2: v2Controllers, tokenOf });

  const app = buildWebServer({
    kernel,
    trustedProxy: addressOf('proxy', ctx.settings, 'backend'),
    vhosts: {
      www: ['www.example.test', 'example.test', 'www.xn--sjsten-xxa.test', 'blocked.test'],
      cdn: ['cdn.example.test'],
      search: ['search.test'],
    },
    onVhost: (host, vhost, req) =>
      events.emit({
        kind: 'vhost.match',
        trace: traceId(req.headers.traceparent),
        ...probeMark(req.headers),
        summary: vhost
          ? `virtual host ${vhost} for Host: ${host}`
          : `no virtual host for Host: ${host || '(none)'}: 421 from the web server, not the kernel`,
        data: { host, vhost: vhost ?? null, method: req.method, path: req.originalUrl },
      }),
    onAccess: (line, req, res, ms) =>
      events.emit({
        kind: 'http.access',
        trace: traceId(req.headers.traceparent),
        ...probeMark(req.headers),
        summary: line,
        data: {
          line,
          status: res.statusCode,
          vhost: res.locals.vhost ?? null,
          ms: Math.round(ms * 100) / 100,
        },
      }),
    profile: (token, req, res) => profiler.serve(token, req, res),
    begin: (request, raw) => {
      const token = newToken();
      perRequest.set(request, { token, trace: traceId(raw.headers.traceparent), ...probeMark(raw.headers) });
      profiler.begin(token, request);
    },
    end: (request, status) => profiler.end(tokenOf(request), status),
    failed: (where, err) => guard(ctx.events, where, err),
  });

  const server = createServer(
    { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000 },
    app,
  );
  // a request the parser refuses gets 400 (as Apache answers), not a silent reset
  server.on('clientError', (_e, sock) => {
    if (sock.writable) sock.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else sock.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(Object.assign(err, { address: ctx.address(), port: ctx.port(80) })),
    );
    server.listen(ctx.port(80), ctx.address(), () => resolve());
  });
  server.on('error', (err) => guard(ctx.events, 'app server', err));
  // the host's IPv6 address answers too (docker's DNS gives app an AAAA)
  const v6 = ctx.address6();
  const also = v6 ? [await alsoListen(server, ctx.port(80), v6)] : [];

  // a client by address, or a lab host by name (its address on the runtime)
  const clientsOf = (args: Record<string, unknown>): string[] => {
    if (typeof args.host === 'string') return allAddressesOf(args.host, ctx.settings); // v4 and v6
    const ip = String(args.ip ?? '');
    if (!isIP(ip)) throw new Error(`"${ip}" is not an IP address (or give host: <lab host>)`);
    return [ip];
  };
  ctx.control.register('app.block', (args) => {
    for (const ip of clientsOf(args)) blocked.add(ip);
    return [...blocked];
  });
  ctx.control.register('app.unblock', (args) => {
    for (const ip of clientsOf(args)) blocked.delete(ip);
    return [...blocked];
  });
  // a workshop adds a listener and watches the flow change (see workshop.ts)
  ctx.control.register('app.listener.add', (args) => {
    const w = parseWorkshopListener(args);
    addWorkshopListener(dispatcher, w);
    return { added: w, listeners: dispatcher.getListeners(w.event) };
  });
  ctx.control.register('app.listener.remove', (args) => {
    const name = String(args.name ?? '');
    const removed = KERNEL_EVENTS.reduce((n, ev) => n + dispatcher.removeListener(ev, name), 0);
    return { removed }; // 0 when there was none: cleanup steps may remove twice
  });
  ctx.control.register('app.listeners', () =>
    Object.fromEntries(KERNEL_EVENTS.map((ev) => [ev, dispatcher.getListeners(ev)])),
  );
  ctx.control.register('app.profile', (args) => profiler.get(String(args.token ?? '')) ?? null);

  return {
    listening: [`http ${ctx.address()}:${ctx.port(80)}`, ...(v6 ? [`http [${v6}]:${ctx.port(80)}`] : [])],
    close: async () => {
      await Promise.all([new Promise<void>((r) => server.close(() => r())), closeAll(also)]);
      server.closeAllConnections();
      events.flush();
      users.close();
    },
  };
});
