// The browser process's state, made once at start (as Chromium's URLRequestContext, or a browser
// profile): the host resolver with its DNS cache and the hosts file, the revocation checker with its
// verified staples, the HTTP cache, HSTS, cookies, and the numbering of connections. Each page load
// gets its own connection pools from it (`network`), closed when the page has loaded.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CookieJar } from 'tough-cookie';
import type { Emitter } from '../common/events.js';
import { socketConnector } from './connect.js';
import type { BrowserEvent } from './events.js';
import { HostResolver, type HostResolverConfig, type LookupOptions } from './host-resolver.js';
import { HstsStore } from './hsts.js';
import { HttpCache } from './httpcache.js';
import { ConnectionPools } from './pools.js';
import { httpOcspFetch, RevocationChecker } from './revocation.js';

/** The host resolver's settings (the browser's files, addresses and trust), and the profile. */
export interface BrowserContextConfig extends HostResolverConfig {
  /** the profile folder: HTTP cache, HSTS and cookies are kept there */
  profile: string;
}

/** What one page load asks of the network (lab browse's options). */
export interface PageNetworkOptions {
  keylog(line: Buffer): void;
  hardFailRevocation: boolean;
  http1Only: boolean;
  secureDns?: LookupOptions['secureDns'];
  /** deadlines of the network steps (tests make them short) */
  timeouts?: { tlsMs?: number; responseIdleMs?: number };
}

export class BrowserContext {
  readonly events: Emitter<BrowserEvent>;
  readonly hosts: HostResolver;
  readonly revocation = new RevocationChecker();
  readonly cache: HttpCache;
  readonly hsts: HstsStore;
  readonly cookies: CookieJar;
  private readonly cookiePath: string;
  /** connections are numbered across page loads, as the timeline shows them */
  private connections = 0;

  constructor(private readonly c: BrowserContextConfig) {
    this.events = c.events;
    this.hosts = new HostResolver(c);
    this.hsts = new HstsStore(join(c.profile, 'hsts.json'));
    this.cache = new HttpCache(join(c.profile, 'http-cache.json'));
    this.cookiePath = join(c.profile, 'cookies.json');
    this.cookies = existsSync(this.cookiePath)
      ? CookieJar.deserializeSync(readFileSync(this.cookiePath, 'utf8'))
      : new CookieJar();
  }

  /** The connection pools of one page load, with its options. */
  network(page: PageNetworkOptions): ConnectionPools {
    const lookup = { secureDns: page.secureDns, keylog: page.keylog };
    const resolve = (host: string, trace?: string) => this.hosts.resolve(host, { ...lookup, trace });
    return new ConnectionPools({
      events: this.c.events,
      connector: socketConnector({
        source: (family) => this.c.source(family),
        caPem: this.c.caPem,
        keylog: page.keylog,
        tlsTimeoutMs: page.timeouts?.tlsMs,
      }),
      resolve,
      checkRevocation: this.revocation.forPage(
        httpOcspFetch(
          (host) => resolve(host),
          (family) => this.c.source(family),
        ),
      ),
      nextConnectionId: () => String(++this.connections),
      hardFailRevocation: page.hardFailRevocation,
      http1Only: page.http1Only,
      responseIdleMs: page.timeouts?.responseIdleMs,
    });
  }

  saveCookies(): void {
    writeFileSync(this.cookiePath, JSON.stringify(this.cookies.toJSON()));
  }

  /** browser.clear: the HTTP cache, learned HSTS, cookies, verified staples and the DNS cache go. */
  clear(): { dns: number } {
    this.hsts.clear();
    this.cache.clear();
    this.cookies.removeAllCookiesSync();
    this.revocation.forget();
    this.saveCookies();
    return { dns: this.hosts.flush() };
  }
}
