// `lab ui` in a real browser: Debian's Chromium, driven by playwright-core (no browser download),
// loads the page from a lab on block 127.57, types a URL, watches the events arrive and the ladder
// grow, runs a scenario and reads its verdict. Screenshots of each state go to test-artifacts/ui/.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../services/common/settings.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(PROJECT_ROOT, 'test-artifacts', 'ui');
const tmp = mkdtempSync(join(tmpdir(), 'enterlab-ui-'));
const env = {
  ...process.env,
  LAB_BLOCK: '127.57',
  LAB_STATE_DIR: join(tmp, 'state'),
  LAB_RUNS_DIR: join(tmp, 'runs'),
  NO_COLOR: '1',
};
const LAB = join(PROJECT_ROOT, 'dist/lab-cli/main.js');
const lab = (...args: string[]) =>
  spawnSync(process.execPath, [LAB, ...args], { env, encoding: 'utf8', timeout: 180_000 });

let ui: ChildProcess | undefined;
let url = '';
let browser: Browser | undefined;
let page: Page;

/** starts `lab ui` and reads the link it prints */
function startUi(): Promise<string> {
  return new Promise((resolve, reject) => {
    ui = spawn(process.execPath, [LAB, 'ui'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    ui.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/.exec(out);
      if (m) resolve(m[0]);
    });
    ui.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    ui.on('exit', (code) => reject(new Error(`lab ui exited ${code}: ${out}`)));
  });
}

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
const dataset = (key: string) => page.evaluate((k) => document.documentElement.dataset[k] ?? '', key);

describe.skipIf(!existsSync(CHROMIUM))(
  `lab ui in headless Chromium (${CHROMIUM}; skipped if missing: apt-get install chromium)`,
  () => {
    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const up = lab('up');
      expect(up.status, up.stderr).toBe(0);
      url = await startUi();
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu'],
      });
      page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      ui?.kill('SIGTERM');
      lab('down');
      rmSync(tmp, { recursive: true, force: true });
    });

    it('refuses a request without the token the link carries', async () => {
      const res = await fetch(url.replace(/\?token=.*/, ''));
      expect(res.status).toBe(403);
      const wrong = await fetch(url.replace(/token=.*/, 'token=guess'));
      expect(wrong.status).toBe(403);
    });

    it('shows every host on the topology drawing as running, over a live stream', async () => {
      await page.goto(url);
      await page.waitForSelector('#live.on');
      await page.waitForSelector('#topology .host.running[data-host="proxy"]');
      const running = await page.$$eval('#topology .host.running', (gs) =>
        gs.map((g) => g.getAttribute('data-host')),
      );
      expect(running).toEqual(
        expect.arrayContaining(['browser', 'resolver', 'ns-root', 'proxy', 'app', 'ca']),
      );
      // projector size: the page's panels fit 1280×720 without scrolling the page itself
      const { w, h } = await page.evaluate(() => ({
        w: document.documentElement.scrollWidth,
        h: document.documentElement.scrollHeight,
      }));
      expect(w).toBeLessThanOrEqual(1280);
      expect(h).toBeLessThanOrEqual(720);
      await shot('1-loaded');
    }, 30_000);

    it('types a URL in the address bar: events arrive, the ladder grows, the page is painted', async () => {
      const eventsBefore = Number(await dataset('events'));
      await page.fill('#omnibox', 'https://www.example.test/hej');
      await page.press('#omnibox', 'Enter');
      await page.waitForFunction(() => document.documentElement.dataset.browsed !== undefined, null, {
        timeout: 60_000,
      });
      expect(await dataset('browsed')).toBe('200');
      expect(await page.textContent('#status-line')).toContain('200 https://www.example.test/hej');
      expect(await page.textContent('#waterfall')).toMatch(/www\.example\.test/);
      // the events came over the stream: DNS from the resolver, TLS from the browser, the cache from the proxy
      await page.waitForFunction(
        (n) => Number(document.documentElement.dataset.events) > n + 10,
        eventsBefore,
      );
      const kinds = await page.$$eval('#events li', (lis) => lis.map((li) => li.getAttribute('data-kind')));
      expect(kinds).toEqual(expect.arrayContaining(['dns.query', 'tls.handshake', 'cache.lookup']));
      // the ladder: the same drawing as ladder.html, started afresh for this browse and grown with it
      await page.waitForFunction(() => Number(document.documentElement.dataset.ladderMessages) > 5);
      const frame = page.frameLocator('#ladder-frame');
      await expect
        .poll(async () => (await frame.locator('.msg').allTextContents()).join('\n'), { timeout: 10_000 })
        .toMatch(/TLS ClientHello SNI www\.example\.test/);
      expect(await frame.locator('.host text').allTextContents()).toEqual(
        expect.arrayContaining(['browser', 'resolver', 'proxy']),
      );
      await shot('2-browsed');
      // filter the timeline by host: only the resolver's events stay
      await page.selectOption('#filter-host', 'resolver');
      const hostsShown = await page.$$eval('#events li .h', (s) => [...new Set(s.map((x) => x.textContent))]);
      expect(hostsShown).toEqual(['resolver']);
      await page.selectOption('#filter-host', '');
    }, 90_000);

    it('runs a scenario with its Run button and shows the verdict and links to its files', async () => {
      await page.click('.scenario[data-scenario="dns-basics"] summary');
      await page.click('button[data-run="dns-basics"]');
      await page.waitForFunction(
        () => document.documentElement.dataset.verdict?.startsWith('dns-basics:'),
        null,
        {
          timeout: 120_000,
        },
      );
      expect(await dataset('verdict')).toBe('dns-basics:passed');
      expect(await page.textContent('.scenario[data-scenario="dns-basics"] .verdict')).toBe('PASSED');
      expect(await page.textContent('#runlog')).toContain('PASSED');
      const links = await page.$$eval('.scenario[data-scenario="dns-basics"] .links a', (as) =>
        as.map((a) => ({ text: a.textContent, href: (a as HTMLAnchorElement).href })),
      );
      expect(links.map((l) => l.text)).toEqual(expect.arrayContaining(['ladder.html', 'timeline.txt']));
      const ladder = await fetch(links.find((l) => l.text === 'ladder.html')?.href ?? '');
      expect(ladder.status).toBe(200);
      expect(await ladder.text()).toContain('DNS by hand');
      await shot('3-scenario-passed');
    }, 150_000);

    it('stops and starts a host with the workshop controls, and the drawing follows', async () => {
      await page.selectOption('#host-name', 'web2');
      await page.click('button[data-control="host.stop"]');
      await page.waitForSelector('#topology .host.stopped[data-host="web2"]', { timeout: 20_000 });
      expect(await page.textContent('#control-result')).toContain('✓ stop web2');
      await shot('4-web2-stopped');
      await page.click('button[data-control="host.start"]');
      await page.waitForSelector('#topology .host.running[data-host="web2"]', { timeout: 30_000 });
      await page.click('button[data-control="dns.flush"]');
      await page.waitForFunction(() =>
        document.getElementById('control-result')?.textContent?.includes('entries forgotten'),
      );
    }, 60_000);
  },
);
