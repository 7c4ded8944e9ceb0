// Invalidation: PURGE <url> and BAN (regex in X-Ban) from the lab's admin addresses only, and the
// control commands cache.purge / cache.ban / cache.stats behind `lab cache`.
import type { ControlServer } from '../common/control.js';
import type { Emitter } from '../common/events.js';
import type { ProxyCommands } from './commands.js';
import type { ProxyEvent } from './events.js';
import type { Delivery } from './flow.js';
import type { ObjectStore } from './store.js';
import type { ProxyRequest, Vcl } from './vcl.js';

/** PURGE or BAN received over HTTP, from an address the caller has checked. */
export function invalidateByRequest(
  p: ProxyRequest,
  store: ObjectStore,
  vcl: Vcl,
  events: Emitter<ProxyEvent>,
  trace: string,
): Delivery {
  let removed: number;
  let target: string;
  if (p.method === 'PURGE') {
    target = `${p.host}${p.url}`;
    removed = store.purge(vcl.hash(p));
  } else {
    let re: RegExp;
    try {
      re = new RegExp(p.headers['x-ban'] ?? '');
    } catch {
      return {
        status: 400,
        headers: { 'content-type': 'text/plain' },
        body: Buffer.from('X-Ban is not a regular expression\n'),
        xCache: 'SYNTH',
      };
    }
    if (!p.headers['x-ban'])
      return {
        status: 400,
        headers: { 'content-type': 'text/plain' },
        body: Buffer.from('BAN needs an X-Ban: <regex> header\n'),
        xCache: 'SYNTH',
      };
    target = String(re);
    removed = store.ban(re);
  }
  events.emit({
    kind: 'cache.purge',
    trace,
    summary: `${p.method} ${target}: ${removed} object(s) removed`,
    data: { method: p.method, target, removed, by: p.clientIp },
  });
  return {
    status: 200,
    headers: { 'content-type': 'text/plain' },
    body: Buffer.from(`${p.method} ${target}: ${removed} object(s) removed\n`),
    xCache: 'SYNTH',
  };
}

export function registerCacheControl(
  control: ControlServer<ProxyCommands>,
  store: ObjectStore,
  events: Emitter<ProxyEvent>,
  extra: () => { backendHealthy: boolean },
  /** the VCL in use: its hash names the object a URL is stored under */
  vcl: () => Vcl,
) {
  control.register('cache.purge', (args) => {
    let u: URL;
    try {
      u = new URL(String(args.url ?? ''));
    } catch {
      throw new Error(`"${String(args.url ?? '')}" is not a URL (example: https://www.example.test/hej)`);
    }
    const removed = store.purge(
      vcl().hash({
        method: 'GET',
        host: u.hostname,
        url: `${u.pathname}${u.search}`,
        headers: {},
        clientIp: '127.0.0.1',
        tls: u.protocol === 'https:',
      }),
    );
    events.emit({
      kind: 'cache.purge',
      summary: `purge ${u.href}: ${removed} object(s) removed`,
      data: { method: 'PURGE', target: u.href, removed, by: 'control' },
    });
    return { removed };
  });
  control.register('cache.ban', (args) => {
    let re: RegExp;
    try {
      re = new RegExp(String(args.regex ?? ''));
    } catch (err) {
      throw new Error(`not a regular expression: ${(err as Error).message}`);
    }
    if (!args.regex) throw new Error('cache.ban needs a regex (example: ^www\\.example\\.test/)');
    const removed = store.ban(re);
    events.emit({
      kind: 'cache.purge',
      summary: `ban ${re}: ${removed} object(s) removed`,
      data: { method: 'BAN', target: String(re), removed, by: 'control' },
    });
    return { removed };
  });
  control.register('cache.stats', () => ({
    ...store.stats,
    objects: store.objects,
    bytes: store.bytes,
    maxBytes: store.maxBytes,
    ...extra(),
  }));
}
