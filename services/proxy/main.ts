// The proxy: TLS termination (h2 and HTTP/1.1, OCSP stapling), an RFC 9111 cache run as Varnish's
// state machine (vcl.ts, flow.ts), and the app server behind it.
// Environment: LAB_PROXY_PARAMS="default_ttl=0,…" (Varnish's parameters, params.ts) and
// LAB_PROXY_VCL=<file.mjs> (a workshop's VCL over the default, vcl-file.ts; `lab cache vcl use` later).
//
// Events (contract v1, docs/EVENTS.md), generated from services/proxy/events.ts by `npx tsx lab-cli/events-doc.ts`:
//   tls.renew  a new certificate from the CA is served
//       data {serial, names[], notAfter}
//   ocsp.staple  a stapled OCSP response fetched (status error: the CA did not answer)
//       data {status, nextUpdate?}
//   tls.handshake  a TLS session set up
//       data {sni?, alpn, version, cipher?, resumed, stapled, client}
//   tls.error  a TLS handshake that failed
//       data {code, client}
//   http.request  a request arrived (trace: the browser's)
//       data {method, host, url, scheme: http|https, httpVersion, client, requestId}
//   http.interim  a 1xx sent ahead of the answer (103 Early Hints)
//       data {status, link}
//   http.response  what went back
//       data {status, xCache: HIT|MISS|PASS|SYNTH|PIPE, bytes, ms}
//   http.redirect  port 80 sent to https
//       data {location}
//   http.rejected  a malformed or smuggling request refused
//       data {code, status, port?, why?}
//   cache.lookup  hit, miss, stale, pass or pipe
//       data {rule?, age?, hits?, waiting?, result: hit|miss|stale|pass|pipe, why, url, vcl}
//   backend.fetch  a fetch from the app
//       data {url, method, status, ms, conditional, bytes, mode: miss|pass}
//   backend.error  one fetch failed (timeout, refused, malformed)
//       data {url, method, why, mode: miss|pass}
//   backend.health  the health probe changed its mind
//       data {healthy, why}
//   cache.store  stored, with the TTL and where it came from
//       data {hash, ttl, from, grace, keep, vary[], status, bytes}
//   cache.uncacheable  not stored (hit-for-miss)
//       data {hash, why, from, rule?}
//   cache.synth  the proxy answered itself (vcl_synth)
//       data {status, reason, rule?}
//   cache.range  a Range request answered from a stored object
//       data {range, length, answer: full|partial|unsatisfiable}
//   cache.purge  PURGE or ban, from a client, the control channel or an invalidating request
//       data {method, target, removed, by}
//   cache.refresh-failed  a background (grace) refresh failed
//       data {url, why}
//   cache.vcl  a workshop's VCL file in use, at start or loaded at run time (lab cache vcl use); file null: the default again
//       data {file, name, overridden[], by: start|control}
//   cache.param  a parameter changed at run time (lab cache param set)
//       data {name, value}
import type { Server } from 'node:net';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { answerAcmeChallenge } from '../common/acme-challenges.js';
import { createBatchedEmitter } from '../common/batched-emitter.js';
import { runService } from '../common/service.js';
import { addressOf, peerNamer, project } from '../common/settings.js';
import { CONTEXT_POLICY } from '../common/tls-policy.js';
import { hostSpec, networks } from '../common/topology.js';
import { createBackend } from './backend.js';
import type { ProxyCommands } from './commands.js';
import type { ProxyEvent } from './events.js';
import { createFrontend } from './frontend.js';
import { loadTlsIdentity } from './identity.js';
import { registerCacheControl } from './invalidate.js';
import { createListeners } from './listeners.js';
import { params, paramsFromEnv, setParam, showParams } from './params.js';
import { createPipe } from './pipe.js';
import { ObjectStore } from './store.js';
import { compileVcl, DEFAULT_LOADED, type LoadedVcl, loadVcl, type VclInfo } from './vcl-file.js';

await runService<ProxyEvent, ProxyCommands>('proxy', async (ctx) => {
  const s = ctx.settings;
  const names = hostSpec('proxy').names ?? [];
  // Varnish's parameters, as the workshop set them (LAB_PROXY_PARAMS); `lab cache param set` later
  if (process.env.LAB_PROXY_CACHE_BYTES) setParam('memory_limit', process.env.LAB_PROXY_CACHE_BYTES);
  paramsFromEnv(process.env.LAB_PROXY_PARAMS);
  const store = new ObjectStore(params.memory_limit);
  // the VCL: the default, or a workshop's file over it (LAB_PROXY_VCL); `lab cache vcl use` swaps it
  const vclDir = join(ctx.stateDir, 'vcl');
  let active: LoadedVcl = await loadVcl(process.env.LAB_PROXY_VCL, vclDir);
  const who = peerNamer(s);
  const events = createBatchedEmitter<ProxyEvent>('proxy');
  // the admin addresses: this machine's loopback and its side of each lab network (.1)
  const admins = new Set(['127.0.0.1', '::1', ...networks.map((n) => project(`172.28.${n.index}.1`, s))]);

  const target = {
    host: addressOf('app', s, 'backend'),
    port: ctx.port(80),
    localAddress: ctx.address('backend'),
    timeoutMs: 5000,
  };
  const backend = createBackend({
    ...target,
    timeouts: () => ({
      connectMs: params.connect_timeout * 1000,
      firstByteMs: params.first_byte_timeout * 1000,
      betweenBytesMs: params.between_bytes_timeout * 1000,
    }),
    probe: { path: '/hej', host: 'www.example.test', intervalMs: 2000 },
    onHealth: (healthy, why) =>
      events.emit({
        kind: 'backend.health',
        summary: `the app is ${healthy ? 'healthy again' : 'sick'}: ${why}`,
        data: { healthy, why },
      }),
  });
  const pipe = createPipe(target);

  // web2 serves www.example.test too (the hosts-file story), but the lab's DNS points that name here:
  // the CA's http-01 check for web2's order comes to this port 80, which passes the challenges it
  // has no answer for on to web2 (services/common/acme-challenges.ts)
  const relay = {
    name: 'web2',
    address: addressOf('web2', s),
    port: ctx.port(80),
    localAddress: ctx.address(),
  };
  // JOURNEY 19: a chain from the lab CA for every name the proxy serves, through ACME before the
  // listeners start (a standalone port 80 answers the challenges meanwhile); others added at run time.
  // JOURNEY 21: its OCSP answer stapled, refreshed before nextUpdate
  const tls = await loadTlsIdentity(s, ctx.stateDir, ctx.address(), names, events, { relay });

  const announce = (by: 'start' | 'control') =>
    events.emit({
      kind: 'cache.vcl',
      summary: active.file
        ? `runs the VCL in ${active.file}: ${active.overridden.join(', ') || 'nothing'} replaced over the default`
        : 'runs the default VCL',
      data: { file: active.file ?? null, name: active.vcl.name, overridden: active.overridden, by },
    });
  if (active.file) announce('start');
  const { onRequest, onUpgrade } = createFrontend({
    vcl: () => active.vcl,
    events,
    store,
    backend,
    pipe,
    names,
    admins,
    who,
    httpsPort: ctx.port(443),
  });

  const listen = (server: Server, port: number, address: string) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(Object.assign(err, { address, port })));
      server.listen(port, address, () => resolve());
    });
  // the same servers on the IPv6 address too (happy eyeballs tries it first)
  const v6 = ctx.address6();
  const servers: Server[] = [];
  for (const address of [ctx.address(), ...(v6 ? [v6] : [])]) {
    const { tlsServer, plain } = createListeners({
      key: tls.key(),
      chain: tls.chain(),
      contexts: tls.contexts,
      defaultContext: tls.defaultContext,
      staple: tls.staple,
      events: events,
      who,
      // RFC 8555 §8.3: the ACME http-01 answers come first on port 80 (services/common/acme-challenges.ts)
      onRequest: (req, res, scheme) => {
        if (scheme !== 'http' || !answerAcmeChallenge(req, res, relay)) onRequest(req, res, scheme);
      },
      onUpgrade,
    });
    tls.attach(tlsServer);
    servers.push(tlsServer, plain);
    await listen(tlsServer, ctx.port(443), address);
    await listen(plain, ctx.port(80), address);
  }

  registerCacheControl(
    ctx.control,
    store,
    events,
    () => ({ backendHealthy: backend.healthy() }),
    () => active.vcl,
  );
  // varnishadm param.show / param.set
  ctx.control.register('cache.param', () => showParams());
  ctx.control.register('cache.param.set', (args) => {
    const name = String(args.name ?? '');
    const value = setParam(name, String(args.value ?? ''));
    if (name === 'memory_limit') {
      store.maxBytes = params.memory_limit;
      store.evict();
    }
    events.emit({
      kind: 'cache.param',
      summary: `parameter ${name} set to ${value}`,
      data: { name, value },
    });
    return { name, value };
  });
  // varnishadm vcl.list, and vcl.load + vcl.use in one: a file that does not compile changes nothing
  const vclInfo = (): VclInfo => ({
    name: active.vcl.name,
    file: active.file ?? null,
    overridden: active.overridden,
    recvRules: Object.keys(active.vcl.recvRules),
    berespRules: Object.keys(active.vcl.berespRules),
  });
  ctx.control.register('cache.vcl', vclInfo);
  ctx.control.register('cache.vcl.use', async (args) => {
    if (args.default === true) active = DEFAULT_LOADED;
    else {
      if (typeof args.file !== 'string' || typeof args.text !== 'string')
        throw new Error("cache.vcl.use needs {file, text} (the file's name and its text) or {default: true}");
      active = await compileVcl(args.file, args.text, vclDir);
    }
    announce('control');
    return vclInfo();
  });
  ctx.control.register('tls.add', (args) => {
    const name = String(args.name ?? '').toLowerCase();
    if (!name.endsWith('.test')) throw new Error('tls.add needs a name under .test');
    tls.contexts.set(
      name,
      createSecureContext({ ...CONTEXT_POLICY, key: String(args.key), cert: String(args.chain) }),
    );
    if (!names.includes(name)) names.push(name);
    return { name };
  });
  ctx.control.register('tls.info', () => tls.info());
  ctx.control.register('tls.renew', () => tls.renew());
  ctx.control.register('ocsp.refresh', () => tls.refreshStaple());

  events.flush();
  return {
    listening: [ctx.address(), ...(v6 ? [`[${v6}]`] : [])].flatMap((a) => [
      `https ${a}:${ctx.port(443)}`,
      `http ${a}:${ctx.port(80)}`,
    ]),
    close: async () => {
      tls.stop();
      backend.close();
      pipe.close();
      await Promise.all(servers.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
      events.flush();
    },
  };
});
