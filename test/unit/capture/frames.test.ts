import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pcapngCutter } from '../../../lab-cli/capture/end-marker.js';
import { parseFrameColumns, readFrames } from '../../../lab-cli/capture/frames.js';
import { checkPcapngBlocks } from '../../../lab-cli/capture/nrb.js';
import { openSharkd } from '../../../lab-cli/capture/sharkd.js';
import { dnsMessage, makePcapng } from '../../support/pcap.js';

describe("frames from sharkd's columns", () => {
  it('reads addresses, ports, DNS ids and the QR bit of real frames', async () => {
    const file = makePcapng([
      { src: '127.60.2.53', dst: '127.60.2.11', sport: 40000, dport: 53, payload: dnsMessage('test', 7) },
      { src: 'fd60:2::11', dst: 'fd60:2::53', sport: 53, dport: 40000, payload: dnsMessage('test', 7, true) },
    ]);
    const sharkd = openSharkd();
    try {
      await sharkd.load(file);
      const [q, r] = await readFrames(sharkd);
      expect(q).toMatchObject({ number: 1, src: '127.60.2.53', dport: 53, proto: 'udp', dnsId: 7 });
      expect(q.dnsResponse).toBe(false);
      expect(r).toMatchObject({ src: 'fd60:2::11', sport: 53, dnsResponse: true, dnsName: 'test' });
    } finally {
      await sharkd.close();
    }
  });

  it('turns the handshake names a column shows into their RFC 8446 numbers', () => {
    const row = Array(19).fill('');
    row[0] = '25';
    row[1] = '1796157821.5';
    row[2] = '127.60.2.80';
    row[6] = '443';
    row[7] = '45000';
    row[10] = '0x018';
    row[15] = 'Server Hello,Encrypted Extensions,Certificate,Certificate Verify,Finished';
    expect(parseFrameColumns(row)).toMatchObject({
      number: 25,
      ts: 1796157821500000,
      proto: 'tcp',
      tcpFlags: 0x18,
      tlsTypes: [2, 8, 11, 15, 20],
    });
  });
});

describe('the end marker', () => {
  it("cuts dumpcap's stream after the block holding the marker, wherever the chunks split it", async () => {
    const marker = Buffer.from('enterlab: end of the run 0123456789abcdef');
    const file = readFileSync(
      makePcapng([
        { src: '127.60.1.10', dst: '127.60.2.53', sport: 1, dport: 53, payload: dnsMessage('a.test', 1) },
        { src: '127.60.0.1', dst: '127.60.0.1', sport: 2, dport: 2, payload: marker },
        { src: '127.60.0.1', dst: '127.60.0.1', sport: 2, dport: 2, payload: Buffer.alloc(500) },
      ]),
    );
    const { packets } = checkPcapngBlocks(file);
    expect(packets).toBe(3);
    for (const size of [7, 64, file.length]) {
      const cutter = pcapngCutter();
      const found = cutter.until(marker);
      const kept: Buffer[] = [];
      for (let at = 0; at < file.length; at += size) kept.push(cutter.feed(file.subarray(at, at + size)));
      const cut = await found;
      expect(cut.packets).toBe(2);
      const head = Buffer.concat(kept);
      expect(head.length).toBe(cut.bytes);
      expect(head).toEqual(file.subarray(0, cut.bytes));
      expect(checkPcapngBlocks(head).packets).toBe(2); // a whole file, ending with the marker
    }
  });
});
