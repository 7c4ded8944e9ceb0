// ladder.html as a person sees it: Debian's headless Chromium loads the page from a file (no
// network), runs its script, and we check the DOM it ended with and the pixels it painted.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'parse5';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { renderLadder } from '../../../lab-cli/render/ladder.js';
import { eventKey } from '../../../lab-cli/render/ladder-model.js';
import { journeyEvents } from '../../support/journey-events.js';

const CHROMIUM = '/usr/bin/chromium';
const tmp = mkdtempSync(join(tmpdir(), 'enterlab-ladder-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function chromium(...args: string[]): string {
  return execFileSync(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${mkdtempSync(join(tmp, 'profile-'))}`,
      ...args,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000, cwd: tmp },
  );
}

type El = { nodeName: string; attrs?: { name: string; value: string }[]; childNodes?: El[] };
const all = (n: El, pred: (e: El) => boolean): El[] => [
  ...(pred(n) ? [n] : []),
  ...(n.childNodes ?? []).flatMap((c) => all(c, pred)),
];
const attr = (e: El, name: string) => e.attrs?.find((a) => a.name === name)?.value;

describe.skipIf(!existsSync(CHROMIUM))(
  `ladder.html in headless Chromium (${CHROMIUM}; skipped if missing: apt-get install chromium)`,
  () => {
    const connect = journeyEvents.find((e) => e.kind === 'tcp.connect');
    const { html, ladder } = renderLadder(journeyEvents, {
      frames: new Map([[eventKey(connect as (typeof journeyEvents)[0]), [5, 6, 7]]]),
      title: 'press-enter in Chromium',
    });
    const page = join(tmp, 'ladder.html');
    writeFileSync(page, html);
    const messages = ladder.steps.flatMap((s) => s.messages);

    it('runs the page script and ends with an arrow per message, one linked to its frames', () => {
      const doc = parse(chromium('--dump-dom', `file://${page}`)) as unknown as El;
      const root = all(doc, (e) => e.nodeName === 'html')[0];
      expect(attr(root, 'data-ladder')).toBe('ready');
      expect(attr(root, 'data-messages')).toBe(String(messages.length));
      const arrows = all(doc, (e) => e.nodeName === 'g' && /^msg\b/.test(attr(e, 'class') ?? ''));
      expect(arrows).toHaveLength(messages.length);
      expect(arrows.filter((g) => all(g, (e) => e.nodeName === 'line').length === 1)).toHaveLength(
        messages.filter((m) => !m.note).length,
      );
      expect(arrows.map((g) => attr(g, 'data-frames')).filter(Boolean)).toEqual(['5,6,7']);
    });

    it("shows an arrow's events and frames in the panel (ladder.html#m4 opens on the TCP handshake)", () => {
      const i = messages.findIndex((m) => m.label.startsWith('TCP SYN'));
      const doc = parse(chromium('--dump-dom', `file://${page}#m${i}`)) as unknown as El;
      const panel = all(doc, (e) => attr(e, 'id') === 'panel')[0];
      const text = (n: El): string =>
        n.nodeName === '#text'
          ? (n as unknown as { value: string }).value
          : (n.childNodes ?? []).map(text).join(' ');
      const shown = text(panel);
      expect(shown).toContain('TCP SYN, SYN-ACK, ACK (connection 1, port 45000 → 443)');
      expect(shown).toContain(`browser tcp.connect: ${connect?.summary}`);
      expect(shown).toContain('frame.number in {5, 6, 7}');
      expect(
        all(doc, (e) => attr(e, 'id') === `m${i}`)[0] &&
          attr(all(doc, (e) => attr(e, 'id') === `m${i}`)[0], 'class'),
      ).toMatch(/\bsel\b/);
    });

    it('paints the ladder: host headers, blue request arrows and green dashed replies on a white page', () => {
      const shot = join(tmp, 'ladder.png');
      chromium('--window-size=1000,700', '--hide-scrollbars', `--screenshot=${shot}`, `file://${page}`);
      const png = PNG.sync.read(readFileSync(shot));
      expect([png.width, png.height]).toEqual([1000, 700]);
      const count = (pred: (r: number, g: number, b: number) => boolean) => {
        let n = 0;
        for (let i = 0; i < png.data.length; i += 4)
          if (pred(png.data[i], png.data[i + 1], png.data[i + 2])) n++;
        return n;
      };
      const near = (c: [number, number, number]) => (r: number, g: number, b: number) =>
        Math.abs(r - c[0]) < 40 && Math.abs(g - c[1]) < 40 && Math.abs(b - c[2]) < 40;
      const total = png.width * png.height;
      // not blank: a good part of the page is painted, and each colour of the ladder is there
      expect(count((r, g, b) => r < 240 || g < 240 || b < 240) / total).toBeGreaterThan(0.05);
      expect(count(near([11, 61, 145]))).toBeGreaterThan(4 * 100 * 20); // four host headers
      expect(count(near([31, 111, 235]))).toBeGreaterThan(1500); // request arrows (#1f6feb)
      expect(count(near([45, 164, 78]))).toBeGreaterThan(300); // dashed replies (#2da44e)
    });
  },
);
