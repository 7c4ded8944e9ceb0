// The README's topology diagram as SVG: three networks as lines, each host a box on the networks it is
// attached to. Boxes carry data-host so the page can colour them with the host's state and health.
import { hosts, type NetworkName, networks } from '../../services/common/topology.js';

/** Where each host sits, as in the README's drawing: home on the left, backend on the right. */
const PLACE: Readonly<Record<string, { col: number; row: number }>> = {
  browser: { col: 0, row: 0 },
  middlebox: { col: 1, row: 0 },
  'ns-root': { col: 2, row: 0 },
  'ns-tld': { col: 3, row: 0 },
  'ns-example': { col: 4, row: 0 },
  resolver: { col: 2, row: 1 },
  ca: { col: 3, row: 1 },
  web2: { col: 4, row: 1 },
  proxy: { col: 5, row: 1 },
  app: { col: 6, row: 1 },
};

const COL = 102;
const BOX_W = 94;
const BOX_H = 44;
const ROW_Y = [40, 150];
/** the three buses run side by side between the two rows of hosts */
const BUS_Y: Record<NetworkName, number> = { home: 89, internet: 95, backend: 101 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The network spans (first and last column) drawn as one horizontal bus each. */
function busSpan(net: NetworkName): [number, number] {
  const cols = hosts.filter((h) => h.on[net] !== undefined && PLACE[h.name]).map((h) => PLACE[h.name].col);
  return [Math.min(...cols), Math.max(...cols)];
}

const cx = (col: number) => 16 + col * COL + BOX_W / 2;

export function topologySvg(): string {
  const width = 16 + 7 * COL;
  const height = 200;
  const parts: string[] = [];
  for (const net of networks) {
    const [a, b] = busSpan(net.name);
    const y = BUS_Y[net.name];
    parts.push(
      `<g class="net net-${net.name}"><line x1="${cx(a)}" y1="${y}" x2="${cx(b)}" y2="${y}"/>` +
        `<text x="${(cx(a) + cx(b)) / 2}" y="${height - 8}" text-anchor="middle">${net.name} 172.28.${net.index}.0/24</text></g>`,
    );
  }
  for (const h of hosts) {
    const p = PLACE[h.name];
    if (!p) continue;
    const x = cx(p.col);
    const y = ROW_Y[p.row];
    const nets = Object.keys(h.on) as NetworkName[];
    const bus = p.row === 0 ? Math.max(...nets.map((n) => BUS_Y[n])) : Math.min(...nets.map((n) => BUS_Y[n]));
    parts.push(
      `<g class="host" data-host="${esc(h.name)}" tabindex="0"><title>${esc(`${h.name}: ${h.role}`)}</title>` +
        `<line class="link" x1="${x}" y1="${y + (p.row === 0 ? BOX_H / 2 : -BOX_H / 2)}" x2="${x}" y2="${bus}"/>` +
        `<rect x="${x - BOX_W / 2}" y="${y - BOX_H / 2}" width="${BOX_W}" height="${BOX_H}" rx="6"/>` +
        `<text x="${x}" y="${y - 3}" text-anchor="middle" class="name">${esc(h.name)}</text>` +
        `<text x="${x}" y="${y + 15}" text-anchor="middle" class="state">…</text></g>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="lab topology">${parts.join('')}</svg>`;
}
