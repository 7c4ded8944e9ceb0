// ladder.mmd (a Mermaid sequence diagram) and ladder.html (the same ladder drawn as inline SVG).
// The page draws its own SVG instead of inlining Mermaid: mermaid.min.js is ~3 MB per run and needs
// its renderer to run in the viewer; a few hundred lines of SVG open anywhere, offline, at once.
import type { LabEvent } from '../../services/common/events.js';
import { parsePeer } from '../../services/common/settings.js';
import { DOCKER_PREFIX, hostByPlanAddress, ULA_PREFIX } from '../../services/common/topology.js';
import { buildLadder, eventKey, type Ladder } from './ladder-model.js';
import { ladderPage } from './ladder-page.js';

export interface LadderOptions {
  /** eventKey → frame numbers in capture.pcapng */
  frames?: Map<string, number[]>;
  /** names the host behind a peer "address:port" (default: hostOfAnyBlock) */
  hostOf?: (address: unknown) => string | undefined;
  title?: string;
}

/** Mermaid text: `;` and `#` would end or escape a message, so they become entity codes. */
export function mermaidText(s: string): string {
  return s.replace(/[#;<>]/g, (c) => `#${c.charCodeAt(0)};`);
}

/**
 * The lab host behind a runtime address of any block (127.N.2.11, fd7f:N:2::11) or the docker plan, so
 * a run renders the same wherever `lab show` re-renders it.
 */
export function hostOfAnyBlock(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const plan = address
    .replace(/^127\.\d+\.(\d+)\.(\d+)$/, `${DOCKER_PREFIX}.$1.$2`)
    .replace(/^fd[0-9a-f]{2}(?::\d+)?:(\d+)::(\d+)$/, `${ULA_PREFIX}:$1::$2`);
  return hostByPlanAddress(plan)?.host;
}

const mermaidId = (host: string) => host.replace(/[^A-Za-z0-9]/g, '_');

export function renderMermaid(l: Ladder): string {
  const lines = ['sequenceDiagram', '  autonumber'];
  for (const p of l.participants) lines.push(`  participant ${mermaidId(p)} as ${p}`);
  const [left, right] = [l.participants[0], l.participants[l.participants.length - 1]];
  l.steps.forEach((s, i) => {
    lines.push(`  rect rgb(${i % 2 ? '245, 245, 245' : '235, 242, 255'})`);
    lines.push(`    Note over ${mermaidId(left)},${mermaidId(right)}: ${mermaidText(s.title)}`);
    for (const m of s.messages) {
      if (m.note) lines.push(`    Note over ${mermaidId(m.from)}: ${mermaidText(m.label)}`);
      else
        lines.push(
          `    ${mermaidId(m.from)}${m.reply ? '-->>' : '->>'}${mermaidId(m.to)}: ${mermaidText(m.label)}`,
        );
    }
    lines.push('  end');
  });
  return `${lines.join('\n')}\n`;
}

export function renderLadder(
  events: LabEvent[],
  opts: LadderOptions = {},
): { mmd: string; html: string; ladder: Ladder } {
  const hostOf = opts.hostOf ?? ((a: unknown) => hostOfAnyBlock(parsePeer(a)?.address));
  const ladder = buildLadder(events, hostOf);
  const byKey = new Map(events.map((e) => [eventKey(e), e]));
  return {
    mmd: renderMermaid(ladder),
    html: ladderPage(ladder, {
      byKey,
      frames: opts.frames ?? new Map(),
      title: opts.title ?? 'enterlab ladder',
    }),
    ladder,
  };
}
