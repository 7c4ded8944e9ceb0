// The browser host: the client of the story. `lab browse <text>` sends it the control command
// `browse`; it does what Chrome does, step by step, each step an event.
//
// Events (contract v1, docs/EVENTS.md), generated from services/browser/events.ts by `npx tsx lab-cli/events-doc.ts`:
//   omnibox  the omnibox decided: a URL, or a search
//       data {text, kind: url|search, url, reason}
//   url.parse  the URL taken apart
//       data {typedHost, href, scheme, username, password, host, port, path, query, fragment}
//   hsts.upgrade  http:// became https:// before any request (a 307 Internal Redirect)
//       data {from, to, why}
//   hsts.learn  a Strict-Transport-Security header remembered
//       data {host, header}
//   cache.browser  the browser's HTTP cache answered, stored or revalidated
//       data {url, result: fresh|stored|revalidated, age?}
//   dns.cache  a name in the browser's own DNS cache
//       data {name, addresses[], ttl}
//   dns.hosts  a name in the hosts file: no DNS query
//       data {name, addresses[], file}
//   dns.stub  the stub resolver asked the resolver of resolv.conf
//       data {name, type: A|AAAA, server, local?, transport, rcode, addresses[], cname[], ttl, ms}
//   happy-eyeballs.attempt  one connection attempt of happy eyeballs (RFC 8305)
//       data {address, family, outcome: won|failed|abandoned|timeout, error?, startedAt}
//   tcp.connect  a TCP connection set up
//       data {connection, src?, sport?, dst?, dport?, ms}
//   tcp.close  a TCP connection closed
//       data {connection, src, dst, error}
//   tls.handshake  a TLS handshake, or its failure (error, detail)
//       data {connection, sni, version?, cipher?, alpn?, stapled?, subject?, issuer?, validTo?, ms?, error?, detail?}
//   ocsp.check  is the server's certificate revoked?
//       data {host, status: good|revoked|unknown|unavailable, source: stapled|ocsp|crl|none, detail}
//   http.request  a request sent
//       data {id, method, url, type, headers, host, path}
//   http.response  its response
//       data {id, url, status, httpVersion, connection, bytes, headers, ms}
//   http.redirect  a 3xx followed
//       data {status, to}
//   html.parse  the HTML parsed
//       data {title, subresources[], links}
//   page.render  what would be painted
//       data {title, headings? [{level, text}], links?[], images?, requests, ms}
//   page.error  the page load failed
//       data {code, step, message, url?}
//   subresource.error  a subresource failed; the page goes on
//       data {url, code, step}
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchFromCa } from '../common/certificate.js';
import { guard, runService } from '../common/service.js';
import { addressOf } from '../common/settings.js';
import type { BrowserCommands } from './commands.js';
import { NetError } from './connect.js';
import { BrowserContext } from './context.js';
import type { BrowserEvent } from './events.js';
import { browse } from './navigate.js';
import { parseHosts, parseResolvConf } from './resolve.js';

/** how long the next page waits at most for the one before it to end */
const PAGE_WEDGE_MS = 90_000;

await runService<BrowserEvent, BrowserCommands>('browser', async (ctx) => {
  const s = ctx.settings;
  const profile = join(ctx.stateDir, 'profile');
  mkdirSync(profile, { recursive: true });
  // the browser host's own files: never the machine's (docker: the container's own /etc)
  const hostsPath = s.runtime === 'docker' ? '/etc/hosts' : join(ctx.stateDir, 'hosts');
  const resolvPath = s.runtime === 'docker' ? '/etc/resolv.conf' : join(ctx.stateDir, 'resolv.conf');
  // docker: the lab's files replace the ones Docker mounts, so its embedded DNS is not on the path
  const isLabFile = (p: string) => existsSync(p) && readFileSync(p, 'utf8').startsWith('# the browser host');
  if (!isLabFile(hostsPath))
    writeFileSync(
      hostsPath,
      `# the browser host's hosts file (lab hosts add|rm|list)\n127.0.0.1\tlocalhost\n${ctx.address()}\tbrowser.test browser\n`,
    );
  if (!isLabFile(resolvPath))
    writeFileSync(
      resolvPath,
      `# the browser host's resolv.conf: its stub asks the lab's resolver\nnameserver ${addressOf('resolver', s)}\noptions timeout:2 attempts:2 ndots:1\n`,
    );
  const rootPath = join(profile, 'lab-root.pem');
  const caPem = async () => {
    if (existsSync(rootPath)) return readFileSync(rootPath, 'utf8');
    // trust only the lab's root, fetched once from the CA (as a workshop imports it)
    const r = await fetchFromCa(s, ctx.address(), '/root.pem');
    if (r.status !== 200)
      throw new NetError(
        'ERR_CERT_AUTHORITY_INVALID',
        'could not fetch the lab root from ca.test',
        'tls.trust',
      );
    writeFileSync(rootPath, r.body);
    return r.body.toString('utf8');
  };
  const source = (family: 4 | 6) => (family === 4 ? ctx.address() : ctx.address6());
  // made once: the DNS cache, verified staples, HTTP cache, HSTS and cookies outlive a page
  const browser = new BrowserContext({
    events: ctx.events,
    profile,
    hostsPath,
    resolvConf: () => parseResolvConf(readFileSync(resolvPath, 'utf8')),
    dnsPort: ctx.port(53),
    source,
    caPem,
  });

  let busy: Promise<void> = Promise.resolve();
  ctx.control.register('browse', (args) => {
    const job = busy.then(async () => {
      const text = String(args.text ?? '');
      const runDir = typeof args.runDir === 'string' ? args.runDir : undefined;
      if (runDir) mkdirSync(runDir, { recursive: true });
      const network = browser.network({
        keylog: (line) => {
          // NSS key log lines, so Wireshark can decrypt the run's capture
          try {
            if (runDir) appendFileSync(join(runDir, 'tls-keys.log'), line);
            appendFileSync(join(profile, 'tls-keys.log'), line);
          } catch (err) {
            guard(ctx.events, 'tls key log', err);
          }
        },
        hardFailRevocation: args.hardFailRevocation === true,
        http1Only: args.http1Only === true,
        // lab browse --dns dot|doh: the resolver over TLS (853) or HTTPS (443)
        secureDns:
          args.dns === 'dot' || args.dns === 'doh'
            ? { mode: args.dns, port: ctx.port(args.dns === 'dot' ? 853 : 443) }
            : undefined,
      });
      const r = await browse(browser, network, text, {
        noCache: args.noCache === true,
        referrer: typeof args.referrer === 'string' ? args.referrer : undefined,
      });
      browser.saveCookies();
      if (runDir) {
        mkdirSync(runDir, { recursive: true });
        writeFileSync(
          join(runDir, 'browser.har'),
          JSON.stringify(mergeHar(join(runDir, 'browser.har'), r.har), null, 2),
        );
      }
      return r;
    });
    // pages load one at a time; every network step has its deadline, and this cap is the last
    // guard: a page that still has not ended never holds the next one
    const settled = job.then(
      () => undefined,
      () => undefined,
    );
    busy = Promise.race([settled, new Promise<void>((r) => setTimeout(r, PAGE_WEDGE_MS).unref())]);
    return job;
  });

  ctx.control.register('hosts.list', () => ({
    path: hostsPath,
    entries: Object.fromEntries(parseHosts(readFileSync(hostsPath, 'utf8'))),
  }));
  ctx.control.register('hosts.add', (args) => {
    const name = String(args.name ?? '').toLowerCase();
    const address = String(args.address ?? '');
    if (!/^[a-z0-9.-]+$/.test(name)) throw new Error(`"${name}" is not a host name`);
    if (!parseHosts(`${address} x`).size) throw new Error(`"${address}" is not an IP address`);
    appendFileSync(hostsPath, `${address}\t${name}\t# lab hosts add\n`);
    browser.hosts.flush(); // a changed hosts file wins from the next lookup
    return { path: hostsPath, name, address };
  });
  ctx.control.register('hosts.rm', (args) => {
    const name = String(args.name ?? '').toLowerCase();
    const lines = readFileSync(hostsPath, 'utf8').split('\n');
    const kept = lines.filter((l) => !(l.includes('# lab hosts add') && l.split(/\s+/)[1] === name));
    if (kept.length === lines.length) throw new Error(`${name} was not added with lab hosts add`);
    writeFileSync(hostsPath, kept.join('\n'));
    browser.hosts.flush();
    return { removed: lines.length - kept.length };
  });
  ctx.control.register('browser.clear', () => ({
    ...browser.clear(),
    cleared: ['HTTP cache', 'HSTS (learned)', 'cookies', 'DNS cache'],
  }));
  // lab ca revoke: verified OCSP answers are forgotten, so the next handshake's staple is checked anew
  ctx.control.register('browser.revocation.forget', () => {
    browser.revocation.forget();
    return { forgot: 'verified OCSP answers' };
  });
  // lab ca reset: the old root leaves the trust store; the next TLS connection fetches the new one
  ctx.control.register('browser.trust.forget', () => {
    rmSync(rootPath, { force: true });
    browser.revocation.forget();
    return { forgot: rootPath };
  });
  ctx.control.register('browser.dns.flush', () => ({ removed: browser.hosts.flush() }));

  return {
    listening: [`control ${ctx.host}`],
    close: async () => {
      await busy;
    },
  };
});

/** One HAR a run: each page load of the run becomes one more page, its entries pointing at it. */
function mergeHar(path: string, next: BrowseResultHar): BrowseResultHar {
  if (!existsSync(path)) return next;
  const prev = JSON.parse(readFileSync(path, 'utf8')) as BrowseResultHar;
  const id = `page_${prev.log.pages.length + 1}`;
  prev.log.pages.push(...next.log.pages.map((p) => ({ ...p, id })));
  prev.log.entries.push(...next.log.entries.map((e) => ({ ...e, pageref: id })));
  return prev;
}

type BrowseResultHar = Awaited<ReturnType<typeof browse>>['har'];
