// ladder.html: one self-contained page (no network) with the ladder as inline SVG, hosts as columns,
// one arrow per message, and a panel that shows an arrow's events and its frames in capture.pcapng.
import type { LabEvent } from '../../services/common/events.js';
import type { Ladder, LadderMessage } from './ladder-model.js';

const COL = 150;
const LEFT = 80;
const TOP = 56;
const ROW = 26;
const STEP_ROW = 30;
const CHAR_PX = 6.4; // 11 px sans-serif, measured in Chromium

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** µs since the epoch as ISO 8601 with microseconds, the precision of events and frames. */
export function isoMicros(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString().replace('Z', `${String(us % 1000).padStart(3, '0')}Z`);
}

function truncateTo(label: string, px: number): string {
  const n = Math.max(12, Math.floor(px / CHAR_PX));
  return label.length > n ? `${label.slice(0, n - 1)}…` : label;
}

export function ladderPage(
  l: Ladder,
  o: { byKey: Map<string, LabEvent>; frames: Map<string, number[]>; title: string },
): string {
  const x = new Map(l.participants.map((p, i) => [p, LEFT + COL / 2 + i * COL]));
  const width = LEFT + l.participants.length * COL + 20;
  const parts: string[] = [];
  const details: {
    label: string;
    ms: string;
    events: { host: string; kind: string; summary: string }[];
    frames: number[];
  }[] = [];
  let y = TOP + 10;
  l.steps.forEach((step, si) => {
    const top = y;
    y += STEP_ROW;
    const rows: string[] = [];
    for (const m of step.messages) {
      y += ROW;
      rows.push(message(m, details.length, y));
      details.push({
        label: m.label,
        ms: ((m.ts - l.t0) / 1000).toFixed(3),
        events: m.events
          .map((k) => o.byKey.get(k))
          .filter((e): e is LabEvent => !!e)
          .map((e) => ({ host: e.host, kind: e.kind, summary: e.summary })),
        frames: [...new Set(m.events.flatMap((k) => o.frames.get(k) ?? []))].sort((a, b) => a - b),
      });
    }
    y += 10;
    parts.push(
      `<g class="step"><rect x="4" y="${top}" width="${width - 8}" height="${y - top}" rx="6" class="band${si % 2}"/>` +
        `<text x="12" y="${top + 19}" class="steptitle">${esc(step.title)}</text></g>`,
      ...rows,
    );
  });
  const height = y + 20;
  const heads = l.participants
    .map((p) => {
      const cx = x.get(p) as number;
      return `<g class="host"><line x1="${cx}" y1="${TOP - 8}" x2="${cx}" y2="${height - 8}" class="life"/><rect x="${cx - 62}" y="8" width="124" height="32" rx="5"/><text x="${cx}" y="29" text-anchor="middle">${esc(p)}</text></g>`;
    })
    .join('');

  function message(m: LadderMessage, i: number, yy: number): string {
    const frames = [...new Set(m.events.flatMap((k) => o.frames.get(k) ?? []))];
    const attrs = `id="m${i}" class="msg${m.reply ? ' reply' : ''}${m.note ? ' note' : ''}" data-i="${i}" data-frames="${frames.join(',')}" tabindex="0"`;
    const ms = `<text x="${LEFT - 8}" y="${yy + 4}" text-anchor="end" class="ms">${((m.ts - l.t0) / 1000).toFixed(1)}</text>`;
    const title = `<title>${esc(m.label)}${frames.length ? ` (frames ${frames.join(', ')})` : ''}</title>`;
    const x1 = x.get(m.from) as number;
    if (m.note) {
      const label = truncateTo(m.label, COL * 1.6);
      const w = label.length * CHAR_PX + 12;
      return `<g ${attrs}>${title}${ms}<rect x="${x1 - w / 2}" y="${yy - 11}" width="${w}" height="18" rx="3"/><text x="${x1}" y="${yy + 2}" text-anchor="middle">${esc(label)}</text></g>`;
    }
    const x2 = x.get(m.to) as number;
    const dir = x2 > x1 ? 1 : -1;
    const label = truncateTo(m.label, Math.abs(x2 - x1) - 10);
    return (
      `<g ${attrs}>${title}${ms}<line x1="${x1}" y1="${yy}" x2="${x2 - dir * 2}" y2="${yy}" marker-end="url(#${m.reply ? 'reply' : 'head'})"/>` +
      `<text x="${(x1 + x2) / 2}" y="${yy - 5}" text-anchor="middle">${esc(label)}</text>` +
      (frames.length
        ? `<text x="${x2 - dir * 6}" y="${yy + 11}" text-anchor="${dir > 0 ? 'end' : 'start'}" class="fr">#${frames.join(',')}</text>`
        : '') +
      `</g>`
    );
  }

  const data = JSON.stringify(details).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(o.title)}</title>
<style>
body{margin:0;font:13px system-ui,sans-serif;color:#1b1f24;background:#fff}
header{padding:10px 16px;border-bottom:1px solid #d0d7de}h1{font-size:16px;margin:0}
main{display:flex}#ladder{flex:1;overflow:auto}#panel{width:280px;border-left:1px solid #d0d7de;padding:10px 14px;position:sticky;top:0;height:100vh;overflow:auto;box-sizing:border-box}
svg text{font:11px system-ui,sans-serif;fill:#1b1f24}.host rect{fill:#0b3d91}.host text{fill:#fff;font-weight:600;font-size:12px}
.life{stroke:#8c959f;stroke-dasharray:4 4}.band0{fill:#eef4ff}.band1{fill:#f6f8fa}.steptitle{font-weight:600;font-size:12px}
.msg line{stroke:#1f6feb;stroke-width:2}.msg.reply line{stroke:#2da44e;stroke-dasharray:6 3}.msg{cursor:pointer}
.msg.note rect{fill:#fff8c5;stroke:#d4a72c}.msg:hover text,.msg.sel text{font-weight:700}.ms{fill:#57606a}.fr{fill:#8250df;font-size:10px}
#head path{fill:#1f6feb}#reply path{fill:#2da44e}code{background:#f6f8fa;padding:1px 4px}li{margin:4px 0}
</style></head><body>
<header><h1>${esc(o.title)}</h1><div>${l.participants.length} hosts, ${details.length} messages; time in ms since ${esc(isoMicros(l.t0))} (UTC; in Wireshark: View → Time Display Format → UTC Date and Time of Day). Click an arrow for its events and capture frames.</div></header>
<main><div id="ladder"><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker><marker id="reply" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>
${heads}${parts.join('\n')}</svg></div>
<aside id="panel"><p>Click an arrow.</p></aside></main>
<script id="ladder-data" type="application/json">${data}</script>
<script>
(() => {
  const details = JSON.parse(document.getElementById('ladder-data').textContent);
  const panel = document.getElementById('panel');
  const text = (tag, s) => { const e = document.createElement(tag); e.textContent = s; return e; };
  const show = (g) => {
    document.querySelectorAll('.msg.sel').forEach((s) => s.classList.remove('sel'));
    g.classList.add('sel');
    const d = details[Number(g.dataset.i)];
    panel.replaceChildren(text('h2', d.label), text('p', 'at ' + d.ms + ' ms'));
    const ul = document.createElement('ul');
    for (const e of d.events) ul.append(text('li', e.host + ' ' + e.kind + ': ' + e.summary));
    panel.append(text('h3', 'events'), ul, text('h3', 'frames in capture.pcapng'));
    panel.append(d.frames.length
      ? text('code', 'frame.number in {' + d.frames.join(', ') + '}')
      : text('p', 'none (run with --capture to tie arrows to frames)'));
  };
  for (const g of document.querySelectorAll('.msg')) {
    g.addEventListener('click', () => { show(g); history.replaceState(null, '', '#' + g.id); });
    g.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') show(g); });
  }
  // ladder.html#m12 opens on message 12, so a workshop can link to one arrow
  const linked = /^#m(\\d+)$/.exec(location.hash);
  if (linked && document.getElementById('m' + linked[1])) show(document.getElementById('m' + linked[1]));
  document.documentElement.dataset.ladder = 'ready';
  document.documentElement.dataset.messages = String(details.length);
})();
</script></body></html>
`;
}
