// The proxy: TLS termination (h2 and HTTP/1.1, OCSP stapling), an RFC 9111 cache run as Varnish's
// state machine (vcl.ts, flow.ts), and the app server behind it.
// Environment: LAB_PROXY_PARAMS="default_ttl=0,…" (Varnish's parameters, params.ts) and
// LAB_PROXY_VCL=<file.mjs> (a workshop's VCL over the default, vcl-file.ts).
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
//       data {rule?, age?, hits?, waiting?, result: hit|miss|stale|pass|pipe, why, url}
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
//   cache.vcl  the proxy started with a workshop's VCL file
//       data {file, overridden[]}
//   cache.param  a parameter changed at run time (lab cache param set)
//       data {name, value}
import type { Server } from 'node:net';
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
import { loadVcl } from './vcl-file.js';

await runService<ProxyEvent, ProxyCommands>('proxy', async (ctx) => {
  const s = ctx.settings;
  const names = hostSpec('proxy').names ?? [];
  // Varnish's parameters, as the workshop set them (LAB_PROXY_PARAMS); `lab cache param set` later
  if (process.env.LAB_PROXY_CACHE_BYTES) setParam('memory_limit', process.env.LAB_PROXY_CACHE_BYTES);
  paramsFromEnv(process.env.LAB_PROXY_PARAMS);
  const store = new ObjectStore(params.memory_limit);
  // the VCL: the default, or a workshop's file over it (LAB_PROXY_VCL)
  const loaded = await loadVcl(process.env.LAB_PROXY_VCL);
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

  // JOURNEY 19: a chain from the lab CA for every name the proxy serves; others added at run time.
  // JOURNEY 21: its OCSP answer stapled, refreshed before nextUpdate
  const tls = await loadTlsIdentity(s, ctx.stateDir, ctx.address(), names, events, { acme: true });

  if (loaded.file)
    events.emit({
      kind: 'cache.vcl',
      summary: `runs the VCL in ${loaded.file}: ${loaded.overridden.join(', ') || 'nothing'} replaced over the default`,
      data: { file: loaded.file, overridden: loaded.overridden },
    });
  const { onRequest, onUpgrade } = createFrontend({
    vcl: loaded.vcl,
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
        if (scheme !== 'http' || !answerAcmeChallenge(req, res)) onRequest(req, res, scheme);
      },
      onUpgrade,
    });
    tls.attach(tlsServer);
    servers.push(tlsServer, plain);
    await listen(tlsServer, ctx.port(443), address);
    await listen(plain, ctx.port(80), address);
  }

  registerCacheControl(ctx.control, store, events, () => ({ backendHealthy: backend.healthy() }));
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
