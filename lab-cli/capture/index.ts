// What the scenario runner and `lab capture` use: start a capture of the lab, enrich it, check it.
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { LabSettings } from '../../services/common/settings.js';
import { type CaptureStats, dumpcapArgs, startDumpcap } from './dumpcap.js';
import { endMarkerAddress, endMarkerPayload, pcapngCutter, sendEndMarker } from './end-marker.js';
import { CAPTURE_FILE } from './enrich.js';
import { openSharkd, type Sharkd } from './sharkd.js';

export { CaptureError, type CaptureStats, dumpcapArgs, localCaptureFilter } from './dumpcap.js';
export { CAPTURE_FILE, enrichCapture, FRAMES_FILE } from './enrich.js';
export { checkPackets, expandHostRefs, hostRefErrors } from './expect.js';

export interface CaptureHandle {
  pcapPath: string;
  pid: number;
  /** the run's sharkd session (opened by warm(), or now) */
  readonly sharkd: Sharkd;
  /**
   * Opens sharkd ahead of need. Its start-up takes a core for ~0.3 s, which slowed the page load by
   * a quarter when it ran beside the browse step (even at nice 19 or SCHED_IDLE): the runner calls
   * this once the last action has run, so the start-up overlaps the final expectations' settle time.
   */
  warm(): void;
  /** stops dumpcap once every packet so far is in the file */
  stop(): Promise<CaptureStats>;
  /** ends sharkd, and dumpcap if it was never stopped */
  close(): Promise<void>;
}

// the marker normally comes out within a few ms (at worst one 250 ms block timeout); past this, drain
const MARKER_TIMEOUT_MS = 2000;

/** Starts recording every lab packet into <runDir>/capture.pcapng; resolves once dumpcap captures. */
export async function startCapture(s: LabSettings, runDir: string): Promise<CaptureHandle> {
  const pcapPath = join(runDir, CAPTURE_FILE);
  // through a pipe, which dumpcap flushes at every packet, so the end marker is seen at once
  const p = await startDumpcap(dumpcapArgs(s, '-'), { stdout: 'pipe' });
  let sharkd: Sharkd | undefined;
  const warm = () => {
    sharkd ??= openSharkd();
    return sharkd;
  };
  const out = p.child.stdout;
  if (!out) throw new Error('dumpcap has no stdout');
  const file = createWriteStream(pcapPath);
  const written = new Promise<void>((resolve, reject) => {
    file.once('close', resolve);
    file.once('error', reject);
  });
  const cutter = pcapngCutter();
  out.on('data', (chunk: Buffer) => {
    const part = cutter.feed(chunk);
    if (part.length && !file.writableEnded) file.write(part);
  });
  out.once('end', () => file.end());
  const address = endMarkerAddress(s);
  let stopped: Promise<CaptureStats> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      let cut: { bytes: number; packets: number } | undefined;
      if (address) {
        const payload = endMarkerPayload();
        const found = cutter.until(payload);
        await sendEndMarker(address, payload);
        cut = await Promise.race([
          found,
          new Promise<undefined>((r) => setTimeout(() => r(undefined), MARKER_TIMEOUT_MS).unref()),
        ]);
        // everything up to the marker is written: the file ends there
        if (cut) file.end();
      }
      const stats = await p.stop({ drain: !cut });
      await written;
      // the file's packets: dumpcap's own count includes the filler and what came after the marker
      return cut ? { ...stats, packets: cut.packets } : stats;
    })();
    return stopped;
  };
  return {
    pcapPath,
    pid: p.child.pid ?? 0,
    get sharkd() {
      return warm();
    },
    warm() {
      warm();
    },
    stop,
    async close() {
      await Promise.all([sharkd?.close(), stopped ?? p.stop({ drain: false })]);
    },
  };
}
