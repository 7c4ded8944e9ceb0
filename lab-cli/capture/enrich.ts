// Makes capture.pcapng open ready to teach with: the run's TLS secrets embedded (Decryption Secrets
// Block, so Wireshark decrypts with no key file), a comment on each frame a lab event explains (and on
// the end marker), and a Name Resolution Block so addresses show as lab host names.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { LabEvent } from '../../services/common/events.js';
import { allAddressesOf, type LabSettings } from '../../services/common/settings.js';
import { hosts } from '../../services/common/topology.js';
import { type Annotations, annotate } from './annotate.js';
import { CaptureError } from './dumpcap.js';
import { endMarkerAddress } from './end-marker.js';
import { checkPackets, type PacketExpectation, type PacketReport } from './expect.js';
import { readFrames } from './frames.js';
import { checkPcapngBlocks, type NameRecord, withDecryptionSecrets, withNameResolution } from './nrb.js';
import { keepSendersCopy } from './routed.js';
import { openSharkd, type Sharkd } from './sharkd.js';

const run = promisify(execFile);

export const CAPTURE_FILE = 'capture.pcapng';
/** eventKey → frame numbers, for the ladder page (written beside the capture) */
export const FRAMES_FILE = 'frames.json';

/** Every lab address and the host behind it (one name: Wireshark shows the last name of a record). */
export function labNameRecords(s: LabSettings): NameRecord[] {
  const marker = endMarkerAddress(s);
  return [
    ...hosts.flatMap((h) => allAddressesOf(h.name, s).map((address) => ({ address, names: [h.name] }))),
    ...(marker ? [{ address: marker, names: ['lab'] }] : []),
  ];
}

export interface EnrichResult {
  comments: number;
  secrets: boolean;
  names: number;
  /** docker: the routers' copies left out (each packet is kept once, from its sender's network) */
  routedCopies: number;
}

/**
 * Embeds the run's TLS secrets (a DSB, written here), loads the file into sharkd (decrypting with the
 * DSB alone, as Wireshark will) and reads its frames, then counts the packet expectations while the
 * events come in and the comments (tying frames to events) and the NRB are written.
 */
export async function enrichCapture(
  s: LabSettings,
  runDir: string,
  /** the run's events; a promise lets the file load and the counts go ahead while they come in */
  events: LabEvent[] | Promise<LabEvent[]>,
  opts: {
    pcap?: string;
    keylog?: string;
    title?: string;
    expectedPackets?: number;
    /** a warm session (startCapture opens one); otherwise one is opened and closed here */
    sharkd?: Sharkd;
    /** packet expectations (filters expanded) to count in the same session */
    packets?: PacketExpectation[];
  } = {},
): Promise<EnrichResult & { packets?: PacketReport }> {
  const pcap = resolve(opts.pcap ?? join(runDir, CAPTURE_FILE));
  if (!existsSync(pcap) || statSync(pcap).size === 0)
    throw new CaptureError(
      'ERR_CAPTURE_BROKEN',
      `${pcap} is missing or empty`,
      'take a new capture: lab run <scenario> --capture',
    );
  // a broken file stops here, before anything parses it into nonsense
  let file: Buffer = readFileSync(pcap);
  const { packets } = checkPcapngBlocks(file);
  if (opts.expectedPackets !== undefined && packets < opts.expectedPackets)
    throw new CaptureError(
      'ERR_CAPTURE_BROKEN',
      `${pcap} holds ${packets} packets, dumpcap captured ${opts.expectedPackets}`,
      'take a new capture; is the disk full?',
    );
  // docker: every bridge is recorded, so a routed packet is in the file once per network it crossed
  let routedCopies = 0;
  if (s.runtime === 'docker') {
    const once = keepSendersCopy(file);
    [file, routedCopies] = [once.file, once.copies];
    writeFileSync(`${pcap}.tmp`, file);
    renameSync(`${pcap}.tmp`, pcap);
  }
  const keylogPath = opts.keylog ?? join(runDir, 'tls-keys.log');
  const keylog = existsSync(keylogPath) && statSync(keylogPath).size > 0 ? keylogPath : undefined;
  if (keylog) {
    file = withDecryptionSecrets(file, readFileSync(keylog));
    writeFileSync(`${pcap}.tmp`, file);
    renameSync(`${pcap}.tmp`, pcap);
  }

  const sharkd = opts.sharkd ?? openSharkd();
  try {
    await sharkd.load(pcap).catch((err: Error) => {
      throw new CaptureError(
        'ERR_CAPTURE_BROKEN',
        `sharkd cannot read ${pcap}: ${err.message}`,
        'take a new capture',
      );
    });
    const frames = await readFrames(sharkd);
    const counting = opts.packets ? checkPackets(sharkd, opts.packets) : undefined;
    counting?.catch(() => {}); // awaited below
    const notes = annotate(await events, frames, s);
    const [names, report] = await Promise.all([writeCommentsAndNames(s, pcap, notes, opts.title), counting]);
    writeFileSync(join(runDir, FRAMES_FILE), JSON.stringify(Object.fromEntries(notes.frames), null, 1));
    return { comments: notes.comments.size, secrets: !!keylog, names, routedCopies, packets: report };
  } finally {
    if (!opts.sharkd) await sharkd.close();
  }
}

/** editcap -a for the comments (and the capture comment), then the NRB, which editcap would drop. */
async function writeCommentsAndNames(
  s: LabSettings,
  pcap: string,
  notes: Annotations,
  title: string | undefined,
): Promise<number> {
  const tmp = `${pcap}.tmp`;
  const args = [
    '--capture-comment',
    title ?? `enterlab capture, ${s.runtime} runtime${s.runtime === 'local' ? `, block ${s.block}` : ''}`,
  ];
  for (const [frame, lines] of [...notes.comments].sort((a, b) => a[0] - b[0]))
    args.push('-a', `${frame}:${lines.join(' · ')}`);
  try {
    await run('editcap', [...args, pcap, tmp], { maxBuffer: 64 * 1024 * 1024 });
    const names = labNameRecords(s);
    writeFileSync(tmp, withNameResolution(readFileSync(tmp), names));
    renameSync(tmp, pcap);
    return names.length;
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
