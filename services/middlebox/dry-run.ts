// The dry run: play a capture file through the censor with a rule set and print what it would have
// injected, one line per forged packet, without touching the wire (no root needed).
import { readFileSync } from 'node:fs';
import type { LabSettings } from '../common/settings.js';
import { type CensorStats, createCensor, type Outcome } from './censor.js';
import { readCaptureFile } from './pcap-file.js';
import { outcomeLines } from './report.js';
import { createRuleSet } from './rules.js';
import { censorScope } from './scope.js';

export interface DryRun {
  outcomes: { ts: number; outcome: Outcome }[];
  lines: string[];
  stats: CensorStats;
  otherLinkTypes: number;
}

export function dryRun(capture: Buffer, rulesText: string, s: LabSettings): DryRun {
  const rules = createRuleSet(s);
  rules.load(rulesText);
  const censor = createCensor(rules, censorScope(s));
  const file = readCaptureFile(capture);
  const outcomes: DryRun['outcomes'] = [];
  const lines: string[] = [];
  const t0 = file.frames[0]?.ts ?? 0;
  file.frames.forEach((f, i) => {
    for (const outcome of censor.observe(f.data, f.data.length, f.ts)) {
      outcomes.push({ ts: f.ts, outcome });
      const at = `frame ${i + 1} +${((f.ts - t0) / 1e6).toFixed(6)}s`;
      for (const l of outcomeLines(outcome)) lines.push(`${at}  ${l}`);
    }
  });
  return { outcomes, lines, stats: censor.stats(), otherLinkTypes: file.otherLinkTypes };
}

/** `main.js --dry-run <pcap> --rules <file> | --rule "<line>"…`: prints the lines and a summary. */
export function dryRunCli(argv: string[], s: LabSettings): number {
  const pcap = argv[argv.indexOf('--dry-run') + 1];
  const ruleLines: string[] = [];
  argv.forEach((a, i) => {
    if (a === '--rules') ruleLines.push(readFileSync(argv[i + 1], 'utf8'));
    if (a === '--rule') ruleLines.push(argv[i + 1]);
  });
  if (!pcap || pcap.startsWith('--') || ruleLines.length === 0) {
    process.stderr.write(
      'usage: node dist/services/middlebox/main.js --dry-run <capture.pcap[ng]> (--rules <file> | --rule "<rule>")…\n' +
        '  e.g. --dry-run runs/…/capture.pcapng --rule "sni blocked.test"  (LAB_BLOCK picks the lab block)\n',
    );
    return 2;
  }
  let r: DryRun;
  try {
    r = dryRun(readFileSync(pcap), ruleLines.join('\n'), s);
  } catch (err) {
    process.stderr.write(`middlebox dry-run: ${(err as Error).message}\n`);
    return 1;
  }
  for (const l of r.lines) process.stdout.write(`${l}\n`);
  const skipped = Object.entries(r.stats.skipped)
    .filter(([, n]) => n)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  process.stdout.write(
    `${r.stats.frames} frames, ${r.stats.matches} matches, ${r.stats.injectedRsts} RSTs and ${r.stats.injectedDns} DNS answers would be injected${skipped ? `; skipped: ${skipped}` : ''}${r.otherLinkTypes ? `; ${r.otherLinkTypes} frames not Ethernet` : ''}\n`,
  );
  return 0;
}
