import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeFrame,
  internetChecksum,
  ipv6Bytes,
  ipv6Text,
  TCP_FLAGS,
  tcpFrame,
  udpFrame,
} from '../../../services/middlebox/packets.js';
import { writePcap } from '../../../services/middlebox/pcap-file.js';

const dir = mkdtempSync(join(tmpdir(), 'enterlab-packets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What tshark, with checksum validation on, says about each frame of a pcap. */
function tshark(frames: Buffer[], fields: string[]): string[][] {
  const file = join(dir, `f${Math.random().toString(36).slice(2)}.pcap`);
  writeFileSync(file, writePcap(frames.map((data, i) => ({ ts: 1_700_000_000_000_000 + i, data }))));
  const out = execFileSync(
    'tshark',
    [
      '-r',
      file,
      '-o',
      'ip.check_checksum:TRUE',
      '-o',
      'tcp.check_checksum:TRUE',
      '-o',
      'udp.check_checksum:TRUE',
      '-T',
      'fields',
      ...fields.flatMap((f) => ['-e', f]),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return out
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
}

// Wireshark's checksum.status: 0 bad, 1 good, 2 unverified
const GOOD = '1';

describe('packet builders, checked by tshark', () => {
  const rst4 = tcpFrame({
    src: '127.62.2.80',
    dst: '127.62.1.10',
    sport: 443,
    dport: 40000,
    seq: 0xfffffff0,
    ack: 12345,
    flags: TCP_FLAGS.RST | TCP_FLAGS.ACK,
    ttl: 47,
    id: 0xbeef,
  });
  const rst6 = tcpFrame({
    src: 'fd62:2::80',
    dst: 'fd62:1::10',
    sport: 443,
    dport: 40000,
    seq: 7,
    flags: TCP_FLAGS.RST,
    ttl: 47,
  });
  const dns4 = udpFrame({
    src: '127.62.2.53',
    dst: '127.62.1.10',
    sport: 53,
    dport: 5353,
    payload: Buffer.from('odd length!'),
    ttl: 47,
    id: 0xbeef,
  });
  const dns6 = udpFrame({
    src: 'fd62:2::53',
    dst: 'fd62:1::10',
    sport: 53,
    dport: 5353,
    payload: Buffer.from('even'),
    ttl: 47,
  });

  it('IPv4 and TCP checksums of a forged RST+ACK are good, with the fingerprint TTL and IP-ID', () => {
    const [row] = tshark(
      [rst4],
      [
        'ip.checksum.status',
        'tcp.checksum.status',
        'ip.ttl',
        'ip.id',
        'tcp.flags.str',
        'tcp.seq_raw',
        'tcp.ack_raw',
      ],
    );
    expect(row.slice(0, 2)).toEqual([GOOD, GOOD]);
    expect(row[2]).toBe('47');
    expect(row[3]).toBe('0xbeef');
    expect(row[4]).toMatch(/A.*R/);
    expect(row[5]).toBe(String(0xfffffff0));
    expect(row[6]).toBe('12345');
  });

  it('the TCP checksum over the IPv6 pseudo-header is good, hop limit 47', () => {
    const [row] = tshark([rst6], ['tcp.checksum.status', 'ipv6.hlim', 'ipv6.src', 'ipv6.dst']);
    expect(row).toEqual([GOOD, '47', 'fd62:2::80', 'fd62:1::10']);
  });

  it('UDP checksums are good over IPv4 (odd payload) and IPv6', () => {
    const rows = tshark([dns4, dns6], ['udp.checksum.status', 'udp.length']);
    expect(rows).toEqual([
      [GOOD, '19'],
      [GOOD, '12'],
    ]);
  });

  it("a frame with one flipped payload bit fails tshark's check (the test can fail)", () => {
    const bad = Buffer.from(dns4);
    bad[bad.length - 1] ^= 1;
    expect(tshark([bad], ['udp.checksum.status'])[0][0]).toBe('0');
  });

  it('decodes what it encodes', () => {
    const r = decodeFrame(rst4);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.frame.ip).toEqual({ version: 4, src: '127.62.2.80', dst: '127.62.1.10', ttl: 47, id: 0xbeef });
    expect(r.frame.tcp).toMatchObject({ sport: 443, dport: 40000, seq: 0xfffffff0, ack: 12345, flags: 0x14 });
    const r6 = decodeFrame(dns6);
    expect(r6.ok && r6.frame.udp?.payload.toString()).toBe('even');
    expect(r6.ok && r6.frame.ip.src).toBe('fd62:2::53');
  });
});

describe('addresses and checksums', () => {
  it('writes IPv6 text as RFC 5952 says', () => {
    for (const [a, text] of [
      ['fd62:1:0:0:0:0:0:10', 'fd62:1::10'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['fd62:0:0:1:0:0:0:0', 'fd62:0:0:1::'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ])
      expect(ipv6Text(ipv6Bytes(a), 0)).toBe(text);
    expect(() => ipv6Bytes('fd62::1::2')).toThrow();
  });

  it('computes the RFC 1071 example checksum', () => {
    // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, so the checksum is 220d
    expect(internetChecksum(Buffer.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]))).toBe(0x220d);
    // split across buffers at an odd boundary: the same sum
    expect(
      internetChecksum(Buffer.from([0x00, 0x01, 0xf2]), Buffer.from([0x03, 0xf4, 0xf5, 0xf6, 0xf7])),
    ).toBe(0x220d);
  });
});

describe('bad input: counted and skipped, never a crash', () => {
  const good = tcpFrame({
    src: '127.62.1.10',
    dst: '127.62.2.80',
    sport: 40000,
    dport: 443,
    seq: 1,
    ack: 2,
    flags: TCP_FLAGS.ACK | TCP_FLAGS.PSH,
    payload: Buffer.alloc(100, 0x16),
  });

  it('names truncated, fragmented, non-IP and malformed frames', () => {
    expect(decodeFrame(good.subarray(0, 10))).toEqual({ ok: false, reason: 'truncated' });
    expect(decodeFrame(good, 60)).toEqual({ ok: false, reason: 'truncated' });
    const frag = Buffer.from(good);
    frag.writeUInt16BE(0x2000, 20); // MF
    expect(decodeFrame(frag)).toEqual({ ok: false, reason: 'fragment' });
    const arp = Buffer.from(good);
    arp.writeUInt16BE(0x0806, 12);
    expect(decodeFrame(arp)).toEqual({ ok: false, reason: 'not-ip' });
    const badOff = Buffer.from(good);
    badOff[14 + 20 + 12] = 0x20; // data offset 8 bytes
    expect(decodeFrame(badOff)).toEqual({ ok: false, reason: 'malformed' });
    const v6frag = udpFrame({
      src: 'fd62:1::10',
      dst: 'fd62:2::53',
      sport: 1,
      dport: 53,
      payload: Buffer.alloc(8),
    });
    v6frag[20] = 44;
    expect(decodeFrame(v6frag)).toEqual({ ok: false, reason: 'fragment' });
  });

  it('fuzz: 20,000 random truncations and byte flips decode or are refused, never throw', () => {
    let seed = 62;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const reasons = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const f = Buffer.from(good);
      for (let k = rnd(6); k > 0; k--) f[rnd(f.length)] = rnd(256);
      const len = rnd(4) === 0 ? rnd(f.length) : f.length;
      const r = decodeFrame(f, len);
      const key = r.ok ? 'ok' : r.reason;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
    expect(reasons.get('ok')).toBeGreaterThan(0);
    expect(reasons.get('truncated')).toBeGreaterThan(0);
    expect(reasons.get('malformed')).toBeGreaterThan(0);
  });
});
