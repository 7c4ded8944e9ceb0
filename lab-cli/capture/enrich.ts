// Makes capture.pcapng open ready to teach with: the run's TLS secrets embedded (Decryption Secrets
// Block, so Wireshark decrypts with no key file), a comment on each frame a lab event explains, and a
// Name Resolution Block so addresses show as lab host names.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LabEvent } from '../../services/common/events.js';
import { allAddressesOf, type LabSettings } from '../../services/common/settings.js';
import { hosts } from '../../services/common/topology.js';
import { annotate } from './annotate.js';
import { CaptureError } from './dumpcap.js';
import { readFrames } from './frames.js';
import { checkPcapngBlocks, type NameRecord, withNameResolution } from './nrb.js';

const run = promisify(execFile);

export const CAPTURE_FILE = 'capture.pcapng';
/** eventKey → frame numbers, for the ladder page (written beside the capture) */
export const FRAMES_FILE = 'frames.json';

/** Every lab address and the host behind it (one name: Wireshark shows the last name of a record). */
export function labNameRecords(s: LabSettings): NameRecord[] {
  return hosts.flatMap((h) => allAddressesOf(h.name, s).map((address) => ({ address, names: [h.name] })));
}

export interface EnrichResult {
  comments: number;
  secrets: boolean;
  names: number;
}

export async function enrichCapture(
  s: LabSettings,
  runDir: string,
  events: LabEvent[],
  opts: { pcap?: string; keylog?: string; title?: string; expectedPackets?: number } = {},
): Promise<EnrichResult> {
  const pcap = opts.pcap ?? join(runDir, CAPTURE_FILE);
  if (!existsSync(pcap) || statSync(pcap).size === 0)
    throw new CaptureError(
      'ERR_CAPTURE_BROKEN',
      `${pcap} is missing or empty`,
      'take a new capture: lab run <scenario> --capture',
    );
  // a broken file stops here, before anything parses it into nonsense
  const { packets } = checkPcapngBlocks(readFileSync(pcap));
  if (opts.expectedPackets !== undefined && packets < opts.expectedPackets)
    throw new CaptureError(
      'ERR_CAPTURE_BROKEN',
      `${pcap} holds ${packets} packets, dumpcap captured ${opts.expectedPackets}`,
      'take a new capture; is the disk full?',
    );
  const keylogPath = opts.keylog ?? join(runDir, 'tls-keys.log');
  const keylog = existsSync(keylogPath) && statSync(keylogPath).size > 0 ? keylogPath : undefined;

  const frames = await readFrames(pcap, keylog);
  const notes = annotate(events, frames, s);
  const tmp = `${pcap}.tmp`;
  const args = [
    '--capture-comment',
    opts.title ??
      `enterlab capture, ${s.runtime} runtime${s.runtime === 'local' ? `, block ${s.block}` : ''}`,
  ];
  if (keylog) args.push('--inject-secrets', `tls,${keylog}`);
  for (const [frame, lines] of [...notes.comments].sort((a, b) => a[0] - b[0]))
    args.push('-a', `${frame}:${lines.join(' · ')}`);
  try {
    await run('editcap', [...args, pcap, tmp], { maxBuffer: 64 * 1024 * 1024 });
    const names = labNameRecords(s);
    writeFileSync(tmp, withNameResolution(readFileSync(tmp), names));
    renameSync(tmp, pcap);
    writeFileSync(join(runDir, FRAMES_FILE), JSON.stringify(Object.fromEntries(notes.frames), null, 1));
    return { comments: notes.comments.size, secrets: !!keylog, names: names.length };
  } catch (err) {
    rmSync(tmp, { force: true });
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new CaptureError(
        'ERR_NO_DUMPCAP',
        'editcap is not installed',
        'install it with: apt-get install wireshark-common',
      );
    throw new Error(`editcap could not enrich ${pcap}: ${(e.stderr ?? e.message).trim()}`);
  }
}
