// What the scenario runner and `lab capture` use: start a capture of the lab, enrich it, check it.
import { join } from 'node:path';
import type { LabSettings } from '../../services/common/settings.js';
import { type CaptureStats, dumpcapArgs, startDumpcap } from './dumpcap.js';
import { CAPTURE_FILE } from './enrich.js';

export { CaptureError, type CaptureStats, dumpcapArgs, localCaptureFilter } from './dumpcap.js';
export { CAPTURE_FILE, enrichCapture, FRAMES_FILE } from './enrich.js';
export { checkPackets, expandHostRefs, hostRefErrors } from './expect.js';

export interface CaptureHandle {
  pcapPath: string;
  pid: number;
  stop(): Promise<CaptureStats>;
}

/** Starts recording every lab packet into <runDir>/capture.pcapng; resolves once dumpcap captures. */
export async function startCapture(s: LabSettings, runDir: string): Promise<CaptureHandle> {
  const pcapPath = join(runDir, CAPTURE_FILE);
  const p = await startDumpcap(dumpcapArgs(s, pcapPath));
  return { pcapPath, pid: p.child.pid ?? 0, stop: p.stop };
}
