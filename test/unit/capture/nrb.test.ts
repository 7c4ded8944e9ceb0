import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { labNameRecords } from '../../../lab-cli/capture/enrich.js';
import {
  checkPcapngBlocks,
  encodeDecryptionSecretsBlock,
  encodeNameResolutionBlock,
  ipv6Bytes,
  readSectionHeader,
  withDecryptionSecrets,
  withNameResolution,
} from '../../../lab-cli/capture/nrb.js';
import { settingsFromEnv } from '../../../services/common/settings.js';
import { dnsMessage, makePcapng, tsharkLines } from '../../support/pcap.js';

describe('Name Resolution Block', () => {
  it('encodes records as type, value length (unpadded), value padded to 32 bits, then nrb_record_end', () => {
    const b = encodeNameResolutionBlock([{ address: '127.60.2.11', names: ['ns-root'] }]);
    expect(b.readUInt32LE(0)).toBe(4); // block type NRB
    expect(b.readUInt32LE(4)).toBe(b.length); // total length, first copy
    expect(b.readUInt32LE(b.length - 4)).toBe(b.length); // and trailing copy
    expect(b.readUInt16LE(8)).toBe(1); // nrb_record_ipv4
    expect(b.readUInt16LE(10)).toBe(4 + 'ns-root'.length + 1);
    expect([...b.subarray(12, 16)]).toEqual([127, 60, 2, 11]);
    expect(b.subarray(16, 24).toString('utf8')).toBe('ns-root\0');
    // 12 value bytes need no padding; then the end record (type 0, length 0)
    expect(b.readUInt32LE(24)).toBe(0);
    expect(b.length % 4).toBe(0);
  });

  it('writes IPv6 records with the 16 address bytes and the section byte order', () => {
    expect(ipv6Bytes('fd60:2::53').toString('hex')).toBe('fd600002000000000000000000000053');
    const be = encodeNameResolutionBlock([{ address: 'fd60:2::53', names: ['resolver'] }], 'BE');
    expect(be.readUInt32BE(0)).toBe(4);
    expect(be.readUInt16BE(8)).toBe(2);
    expect(be.readUInt16BE(10)).toBe(16 + 9);
    expect(be.length % 4).toBe(0);
  });

  it('inserted after the section and interface headers, makes tshark -N n show lab host names', () => {
    const file = makePcapng([
      { src: '127.60.2.53', dst: '127.60.2.11', sport: 40000, dport: 53, payload: dnsMessage('test', 7) },
      {
        src: 'fd7f:60:2::12',
        dst: 'fd7f:60:2::53',
        sport: 53,
        dport: 40001,
        payload: dnsMessage('test', 8, true),
      },
    ]);
    const s = settingsFromEnv({}, { runtime: 'local', block: '127.60', ipv6: true });
    const named = file.replace(/\.pcapng$/, '-named.pcapng');
    writeFileSync(named, withNameResolution(readFileSync(file), labNameRecords(s)));
    expect(tsharkLines(file, '-N', 'n').join('\n')).not.toMatch(/resolver/);
    const lines = tsharkLines(named, '-N', 'n');
    expect(lines[0]).toMatch(/resolver → ns-root +DNS/);
    expect(lines[1]).toMatch(/ns-tld → resolver +DNS/);
    // the packets are untouched, and Wireshark's editors still read the file
    expect(tsharkLines(named)).toEqual(tsharkLines(file));
    execFileSync('editcap', [named, `${named}.copy`], { stdio: 'pipe' });
    expect(tsharkLines(`${named}.copy`)).toEqual(tsharkLines(file));
  });

  it('puts the interface blocks first, so editcap reads a file whose secrets editcap wrote ahead of them', () => {
    const file = makePcapng([
      { src: '127.60.1.10', dst: '127.60.2.53', sport: 1, dport: 53, payload: dnsMessage('a.test', 1) },
    ]);
    const keylog = `${file}.keys`;
    writeFileSync(keylog, `CLIENT_RANDOM ${'ab'.repeat(32)} ${'cd'.repeat(48)}\n`);
    execFileSync('editcap', ['--inject-secrets', `tls,${keylog}`, file, `${file}.dsb`], { stdio: 'pipe' });
    const named = `${file}.named`;
    writeFileSync(
      named,
      withNameResolution(readFileSync(`${file}.dsb`), [{ address: '127.60.1.10', names: ['browser'] }]),
    );
    execFileSync('editcap', [named, `${named}.copy`], { stdio: 'pipe' });
    const info = execFileSync('capinfos', [named], { encoding: 'utf8' });
    expect(info).toMatch(/Number of decryption secrets in file: 1/);
    expect(info).toMatch(/Number of resolved IPv4 addresses in file: 1/);
    expect(tsharkLines(named, '-N', 'n')[0]).toMatch(/browser → 127\.60\.2\.53/);
  });

  it('refuses a file that is not pcapng instead of writing into it', () => {
    expect(() => readSectionHeader(Buffer.from('this is not a capture file at all, no'))).toThrow(
      /ERR_CAPTURE_BROKEN/,
    );
    const file = readFileSync(
      makePcapng([
        { src: '127.60.1.10', dst: '127.60.2.53', sport: 1, dport: 53, payload: dnsMessage('a.test', 1) },
      ]),
    );
    const bad = Buffer.from(file);
    bad.writeUInt32LE(999, 4); // the SHB's length no longer matches its trailer
    expect(() => withNameResolution(bad, [])).toThrow(/Section Header Block's length/);
  });

  it('walks every block, so a file cut at any byte is reported as broken', () => {
    const file = readFileSync(
      makePcapng([
        { src: '127.60.1.10', dst: '127.60.2.53', sport: 1, dport: 53, payload: dnsMessage('a.test', 1) },
        {
          src: '127.60.2.53',
          dst: '127.60.1.10',
          sport: 53,
          dport: 1,
          payload: dnsMessage('a.test', 1, true),
        },
      ]),
    );
    expect(checkPcapngBlocks(file).packets).toBe(2);
    for (const cut of [file.length - 1, file.length - 40])
      expect(() => checkPcapngBlocks(file.subarray(0, cut))).toThrow(
        /ERR_CAPTURE_BROKEN: block \d+ at byte \d+ is cut short/,
      );
    expect(() => checkPcapngBlocks(file.subarray(0, 40))).toThrow(/ERR_CAPTURE_BROKEN/);
    const named = withNameResolution(file, [{ address: '127.60.1.10', names: ['browser'] }]);
    expect(checkPcapngBlocks(named)).toEqual({ blocks: checkPcapngBlocks(file).blocks + 1, packets: 2 });
  });
});

describe('Decryption Secrets Block', () => {
  const keylog = Buffer.from(`CLIENT_RANDOM ${'ab'.repeat(32)} ${'cd'.repeat(48)}\n`);

  it('encodes type 10, the TLS key log secrets type, the unpadded length, the log padded to 32 bits', () => {
    const b = encodeDecryptionSecretsBlock(keylog);
    expect(b.readUInt32LE(0)).toBe(0x0a);
    expect(b.readUInt32LE(4)).toBe(b.length);
    expect(b.readUInt32LE(b.length - 4)).toBe(b.length);
    expect(b.subarray(8, 12).toString('latin1')).toBe('KSLT'); // 0x544c534b, little-endian
    expect(b.readUInt32LE(12)).toBe(keylog.length);
    expect(b.subarray(16, 16 + keylog.length)).toEqual(keylog);
    expect(b.length % 4).toBe(0);
  });

  it('is read by capinfos and kept by editcap, with the NRB after it, as editcap --inject-secrets writes it', () => {
    const file = makePcapng([
      { src: '127.60.1.10', dst: '127.60.2.53', sport: 1, dport: 53, payload: dnsMessage('a.test', 1) },
    ]);
    const ours = `${file}.dsb`;
    writeFileSync(ours, withDecryptionSecrets(readFileSync(file), keylog));
    expect(checkPcapngBlocks(readFileSync(ours)).packets).toBe(1);
    execFileSync('editcap', ['-a', '1:a comment', ours, `${ours}.copy`], { stdio: 'pipe' });
    const named = `${ours}.named`;
    writeFileSync(
      named,
      withNameResolution(readFileSync(`${ours}.copy`), [{ address: '127.60.1.10', names: ['browser'] }]),
    );
    const info = execFileSync('capinfos', [named], { encoding: 'utf8' });
    expect(info).toMatch(/Number of decryption secrets in file: 1/);
    expect(info).toMatch(/Number of resolved IPv4 addresses in file: 1/);
    expect(tsharkLines(named, '-N', 'n')[0]).toMatch(/browser → 127\.60\.2\.53/);
    // the very block editcap --inject-secrets writes
    writeFileSync(`${file}.keys`, keylog);
    execFileSync('editcap', ['--inject-secrets', `tls,${file}.keys`, file, `${file}.editcap`], {
      stdio: 'pipe',
    });
    expect(readFileSync(`${file}.editcap`).includes(encodeDecryptionSecretsBlock(keylog))).toBe(true);
  });
});
