// A real browser (Debian's Chromium or Firefox ESR) pointed at the lab: a throwaway profile whose NSS
// database trusts the lab's root and nothing else new, and name resolution through the lab.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressOf, type LabSettings, port } from '../../services/common/settings.js';
import { hosts } from '../../services/common/topology.js';

export type RealBrowserName = 'chromium' | 'firefox';

const BINARIES: Record<RealBrowserName, string[]> = {
  chromium: ['/usr/bin/chromium', '/usr/bin/chromium-browser'],
  firefox: ['/usr/bin/firefox-esr', '/usr/bin/firefox'],
};

/** the browser's program on this machine, or undefined (then: apt-get install chromium / firefox-esr) */
export function browserBinary(name: RealBrowserName): string | undefined {
  return BINARIES[name].find((b) => existsSync(b));
}

export interface RealBrowserOptions {
  browser: RealBrowserName;
  url: string;
  settings: LabSettings;
  /** the lab root, PEM (lab ca trust) */
  rootPem: string;
  /** headless: a PNG of the page (or of the browser's error page) */
  screenshot?: string;
  /** DoH template of the lab's resolver; without it names are mapped straight to the lab's addresses */
  doh?: string;
  timeoutMs?: number;
}

export interface RealBrowserRun {
  profile: string;
  argv: string[];
  exitCode: number | null;
  output: string;
  /** the browser's own error for the page, when it says it (Chromium headless: net::ERR_…) */
  error?: string;
  /** whether the headless run ended by itself (Firefox's screenshot waits for a load an error page never ends) */
  timedOut: boolean;
}

/** Every name the lab's zones point at a host, with that host's address on this runtime. */
export function labNames(s: LabSettings): { name: string; address: string }[] {
  return hosts.flatMap((h) => (h.names ?? []).map((name) => ({ name, address: addressOf(h.name, s) })));
}

/**
 * An NSS database (the certificate store of Chromium on Linux and of Firefox) that trusts the lab
 * root for TLS servers only (`-t C,,`): certutil from libnss3-tools.
 */
export function trustLabRoot(nssDir: string, rootPem: string): void {
  mkdirSync(nssDir, { recursive: true });
  const pem = join(nssDir, 'enterlab-root.pem');
  writeFileSync(pem, rootPem);
  try {
    execFileSync('certutil', ['-N', '-d', `sql:${nssDir}`, '--empty-password'], { stdio: 'pipe' });
    execFileSync('certutil', ['-A', '-d', `sql:${nssDir}`, '-n', 'enterlab root', '-t', 'C,,', '-i', pem], {
      stdio: 'pipe',
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT')
      throw Object.assign(new Error('certutil is missing'), { hint: 'apt-get install libnss3-tools' });
    throw err;
  }
}

/** Chromium: its NSS store is $HOME/.pki/nssdb, so the throwaway profile is also its HOME. */
export function chromiumArgs(o: RealBrowserOptions, profile: string): string[] {
  const args = [
    `--user-data-dir=${join(profile, 'chromium')}`,
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic', // the lab's proxy speaks TCP only: no QUIC race to lose
    '--no-sandbox',
  ];
  // with DoH only the resolver's own name is mapped (bootstrap); everything else is asked over DoH
  args.push(
    `--host-resolver-rules=${
      o.doh
        ? `MAP ${new URL(o.doh).hostname} ${addressOf('resolver', o.settings)}`
        : [...labNames(o.settings).map((n) => `MAP ${n.name} ${n.address}`), 'MAP * ~NOTFOUND'].join(', ')
    }`,
  );
  if (o.screenshot)
    args.push('--headless', '--disable-gpu', '--window-size=1280,720', `--screenshot=${o.screenshot}`);
  return [...args, o.url];
}

/** Chrome's "Use secure DNS" setting in secure mode (no fallback to plain DNS): its Local State prefs. */
function chromiumSecureDns(userDataDir: string, template: string): void {
  mkdirSync(userDataDir, { recursive: true });
  writeFileSync(
    join(userDataDir, 'Local State'),
    JSON.stringify({ dns_over_https: { mode: 'secure', templates: template } }),
  );
}

/** Firefox: prefs in user.js; the NSS store (cert9.db) is the profile folder itself. */
export function firefoxPrefs(o: RealBrowserOptions): Record<string, string | number | boolean> {
  const prefs: Record<string, string | number | boolean> = {
    'browser.shell.checkDefaultBrowser': false,
    'datareporting.policy.dataSubmissionEnabled': false,
    'toolkit.telemetry.enabled': false,
    'app.update.enabled': false,
    'browser.startup.homepage_override.mstone': 'ignore',
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
    // no background connections: updates, safe browsing, plugins, telemetry, remote settings
    'app.update.auto': false,
    'app.normandy.enabled': false,
    'browser.safebrowsing.malware.enabled': false,
    'browser.safebrowsing.phishing.enabled': false,
    'browser.safebrowsing.downloads.enabled': false,
    'browser.safebrowsing.provider.mozilla.updateURL': '',
    'extensions.update.enabled': false,
    'extensions.blocklist.enabled': false,
    'media.gmp-manager.url': '',
    'media.gmp-gmpopenh264.enabled': false,
    'media.gmp-widevinecdm.enabled': false,
    'services.settings.server': 'http://127.0.0.1:9/v1',
    'toolkit.telemetry.server': '',
    'datareporting.healthreport.uploadEnabled': false,
    'browser.region.network.url': '',
    'geo.provider.network.url': '',
    'network.dns.disablePrefetch': true,
    'network.prefetch-next': false,
    // revocation: ask the responder named in the certificate (AIA), as Firefox does by default
    'security.OCSP.enabled': 1,
  };
  if (o.doh) {
    // TRR mode 3: DoH only, never the system resolver; the bootstrap address avoids a first plain lookup
    prefs['network.trr.mode'] = 3;
    prefs['network.trr.uri'] = o.doh;
    prefs['network.trr.bootstrapAddr'] = addressOf('resolver', o.settings);
  } else {
    // without DoH, Firefox can map every name to one address only: the proxy, which serves the lab's
    // sites and staples their OCSP answer (ca.test, the responder, is then out of reach: --dns doh)
    prefs['network.dns.forceResolve'] = addressOf('proxy', o.settings);
    // and a PAC that sends every name outside .test to a closed port, so Firefox's own background
    // connections (remote settings, updates) never reach the lab's proxy
    prefs['network.proxy.type'] = 2;
    prefs['network.proxy.autoconfig_url'] =
      'data:text/javascript,function FindProxyForURL(u,h){return dnsDomainIs(h,".test")?"DIRECT":"PROXY 127.0.0.1:9"}';
  }
  return prefs;
}

function userJs(prefs: Record<string, string | number | boolean>): string {
  return `${Object.entries(prefs)
    .map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`)
    .join('\n')}\n`;
}

/**
 * Runs the browser; once more if Chromium gave up with ERR_NETWORK_CHANGED (it watches every address
 * on the machine, and other labs add and remove theirs on lo while it loads).
 */
export async function openRealBrowser(o: RealBrowserOptions): Promise<RealBrowserRun> {
  const first = await openOnce(o);
  return first.error === 'ERR_NETWORK_CHANGED' ? openOnce(o) : first;
}

/** Makes the throwaway profile, then runs the browser until it exits (headless) or is closed. */
async function openOnce(o: RealBrowserOptions): Promise<RealBrowserRun> {
  const bin = browserBinary(o.browser);
  if (!bin)
    throw Object.assign(new Error(`${o.browser} is not installed`), {
      hint:
        o.browser === 'firefox'
          ? 'scripts/install-deps.sh --browsers (firefox-esr)'
          : 'apt-get install chromium',
    });
  const profile = mkdtempSync(join(tmpdir(), `enterlab-${o.browser}-`));
  let argv: string[];
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: profile };
  if (o.browser === 'chromium') {
    trustLabRoot(join(profile, '.pki', 'nssdb'), o.rootPem);
    if (o.doh) chromiumSecureDns(join(profile, 'chromium'), o.doh);
    argv = chromiumArgs(o, profile);
  } else {
    const ff = join(profile, 'firefox');
    trustLabRoot(ff, o.rootPem);
    writeFileSync(join(ff, 'user.js'), userJs(firefoxPrefs(o)));
    argv = ['--profile', ff, '--no-remote'];
    if (o.screenshot) argv.push('--headless', '--window-size=1280,720', '--screenshot', o.screenshot);
    argv.push(o.url);
  }
  const child = spawn(bin, argv, { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: profile });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  let timedOut = false;
  const timer = o.screenshot
    ? setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
      }, o.timeoutMs ?? 30_000)
    : undefined;
  const exitCode = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  if (timer) clearTimeout(timer);
  const error = /Page load failed: net::(ERR_[A-Z_]+)/.exec(output)?.[1];
  return { profile, argv: [bin, ...argv], exitCode, output, error, timedOut };
}

/** https://name/ on the lab's HTTPS port (443 as root, 10443 otherwise) */
export function labUrl(url: string, s: LabSettings): string {
  const u = new URL(url);
  if (!u.port && u.protocol === 'https:' && port(443, s) !== 443) u.port = String(port(443, s));
  if (!u.port && u.protocol === 'http:' && port(80, s) !== 80) u.port = String(port(80, s));
  return u.toString();
}
