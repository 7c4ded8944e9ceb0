// What a run leaves behind: events.jsonl (the source of everything), timeline.txt, summary.json,
// and the ladder diagram when its renderer is built.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabEvent } from '../../services/common/events.js';
import type { Scenario } from '../scenario/load.js';
import { renderTimeline } from './timeline.js';

export async function writeRunArtifacts(
  runDir: string,
  sc: Scenario,
  events: LabEvent[],
  failures: string[],
) {
  writeFileSync(
    join(runDir, 'events.jsonl'),
    events.map((e) => JSON.stringify(e)).join('\n') + (events.length ? '\n' : ''),
  );
  writeFileSync(join(runDir, 'timeline.txt'), renderTimeline(events));
  writeFileSync(
    join(runDir, 'summary.json'),
    JSON.stringify(
      {
        scenario: sc.name,
        title: sc.title,
        journey: sc.journey,
        verdict: failures.length ? 'failed' : 'passed',
        failures,
        events: events.length,
        hosts: [...new Set(events.map((e) => e.host))],
        capture: existsSync(join(runDir, 'capture.pcapng')) ? 'capture.pcapng' : undefined,
      },
      null,
      2,
    ),
  );
  await renderLadderFiles(runDir, events, `${sc.title} (${sc.name})`);
}

export async function renderLadderFiles(runDir: string, events: LabEvent[], title?: string): Promise<void> {
  let mod: {
    renderLadder(
      events: LabEvent[],
      opts: { frames?: Map<string, number[]>; title?: string },
    ): { mmd: string; html: string };
  };
  try {
    mod = await import('./ladder.js');
  } catch {
    return; // the ladder renderer is not built
  }
  // frames.json (written by the capture's enrichment) ties events to frame numbers
  const framesPath = join(runDir, 'frames.json');
  const frames = existsSync(framesPath)
    ? new Map(Object.entries(JSON.parse(readFileSync(framesPath, 'utf8')) as Record<string, number[]>))
    : undefined;
  const { mmd, html } = mod.renderLadder(events, { frames, title });
  writeFileSync(join(runDir, 'ladder.mmd'), mmd);
  writeFileSync(join(runDir, 'ladder.html'), html);
}
