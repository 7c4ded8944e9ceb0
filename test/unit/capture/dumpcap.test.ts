import { describe, expect, it } from 'vitest';
import {
  dumpcapArgs,
  explainStartFailure,
  localCaptureFilter,
  parseDumpcapStats,
} from '../../../lab-cli/capture/dumpcap.js';
import { settingsFromEnv } from '../../../services/common/settings.js';

describe('dumpcap command line', () => {
  it('local runtime: lo, filtered to the lab block and its ULA prefix only', () => {
    const s = settingsFromEnv({}, { runtime: 'local', block: '127.60', ipv6: true });
    expect(localCaptureFilter(s)).toBe('net 127.60.0.0/16 or ip6 net fd7f:60::/32');
    expect(dumpcapArgs(s, '/r/capture.pcapng')).toEqual([
      '-i',
      'lo',
      '-f',
      'net 127.60.0.0/16 or ip6 net fd7f:60::/32',
      '-n',
      '-B',
      '16',
      '-w',
      '/r/capture.pcapng',
    ]);
    const v4only = settingsFromEnv({}, { runtime: 'local', block: '127.61', ipv6: false });
    expect(localCaptureFilter(v4only)).toBe('net 127.61.0.0/16');
  });

  it('docker runtime: one -i per lab bridge, in one pcapng, no filter', () => {
    const s = settingsFromEnv({}, { runtime: 'docker', block: '127.28' });
    expect(dumpcapArgs(s, '-')).toEqual([
      '-i',
      'lab-home',
      '-i',
      'lab-internet',
      '-i',
      'lab-backend',
      '-n',
      '-B',
      '16',
      '-w',
      '-',
    ]);
  });

  it("reads dumpcap's closing counts, summed over interfaces", () => {
    const stderr = [
      "Capturing on 'lab-home' and 'lab-internet'",
      'File: /tmp/x.pcapng',
      '\rPackets: 3 \rPackets: 12 \rPackets captured: 14',
      "Packets received/dropped on interface 'lab-home': 5/0 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0) (100.0%)",
      "Packets received/dropped on interface 'lab-internet': 9/2 (pcap:2/dumpcap:0/flushed:0/ps_ifdrop:0) (81.8%)",
    ].join('\n');
    expect(parseDumpcapStats(stderr)).toEqual({
      packets: 14,
      dropped: 2,
      interfaces: [
        { name: 'lab-home', received: 5, dropped: 0 },
        { name: 'lab-internet', received: 9, dropped: 2 },
      ],
    });
  });

  it('explains a failed start with what to install or how to run', () => {
    const enoent = Object.assign(new Error('spawn dumpcap ENOENT'), { code: 'ENOENT' });
    expect(explainStartFailure('', enoent)).toMatchObject({
      code: 'ERR_NO_DUMPCAP',
      hint: expect.stringMatching(/apt-get install wireshark-common/),
    });
    const perm = explainStartFailure(
      "Capturing on 'Loopback: lo'\ndumpcap: The capture session could not be initiated on interface 'lo' (You don't have permission to capture on that device).",
    );
    expect(perm.code).toBe('ERR_CAPTURE_PERMISSION');
    expect(perm.hint).toMatch(/run as root, or .*setcap/);
    const noBridge = explainStartFailure('dumpcap: There is no device named "lab-home".');
    expect(noBridge.code).toBe('ERR_CAPTURE_FAILED');
    expect(noBridge.hint).toMatch(/lab up.*lab-home, lab-internet, lab-backend/);
    expect(explainStartFailure('dumpcap: something else').hint).toMatch(/dumpcap -D/);
  });
});
