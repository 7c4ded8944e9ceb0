import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TCP_FLAGS, tcpFrame } from '../../../services/middlebox/packets.js';
import { readCaptureFile, writePcap } from '../../../services/middlebox/pcap-file.js';

const dir = mkdtempSync(join(tmpdir(), 'enterlab-pcapfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const frames = [1, 2, 3].map((i) => ({
  ts: 1_700_000_000_123_456 + i * 1000,
  data: tcpFrame({
    src: '127.62.1.10',
    dst: '127.62.2.80',
    sport: 40000 + i,
    dport: 443,
    seq: i,
    flags: TCP_FLAGS.SYN,
  }),
}));

describe('capture files', () => {
  it('reads back the pcap it writes', () => {
    expect(readCaptureFile(writePcap(frames)).frames).toEqual(frames);
  });

  it('reads pcapng as dumpcap writes it (converted by editcap), timestamps to the microsecond', () => {
    const pcap = join(dir, 'a.pcap');
    const ng = join(dir, 'a.pcapng');
    writeFileSync(pcap, writePcap(frames));
    execFileSync('editcap', ['-F', 'pcapng', pcap, ng]);
    const back = readCaptureFile(readFileSync(ng));
    expect(back.frames.map((f) => f.ts)).toEqual(frames.map((f) => f.ts));
    expect(back.frames.map((f) => f.data)).toEqual(frames.map((f) => f.data));
  });

  it('refuses what is not a capture, and survives a truncated last record', () => {
    expect(() => readCaptureFile(Buffer.from('not a capture file at all'))).toThrow(/not a pcap/);
    const cut = writePcap(frames).subarray(0, -10);
    expect(readCaptureFile(cut).frames).toHaveLength(2);
  });
});
