import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keepSendersCopy, routingInvariantKey } from '../../../lab-cli/capture/routed.js';

// A two-bridge capture as dumpcap writes it on docker: SHB, one IDB per bridge, then EPBs.
function block(type: number, body: Buffer): Buffer {
  const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
  const total = 12 + body.length + pad.length;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(total, 4);
  Buffer.concat([body, pad]).copy(b, 8);
  b.writeUInt32LE(total, total - 4);
  return b;
}
function shb(): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(0x1a2b3c4d, 0);
  body.writeUInt16LE(1, 4);
  body.writeBigInt64LE(-1n, 8);
  return block(0x0a0d0d0a, body);
}
function idb(): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16LE(1, 0); // LINKTYPE_ETHERNET
  body.writeUInt32LE(262144, 4);
  return block(1, body);
}
function epb(iface: number, tsUs: number, frame: Buffer): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt32LE(iface, 0);
  head.writeUInt32LE(0, 4);
  head.writeUInt32LE(tsUs, 8);
  head.writeUInt32LE(frame.length, 12);
  head.writeUInt32LE(frame.length, 16);
  return block(6, Buffer.concat([head, frame]));
}
/** Ethernet + IPv4 + TCP; only what Wireshark's TCP analysis reads needs to be right. */
function tcp4(o: {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  ttl: number;
  id: number;
  data?: string;
}): Buffer {
  const data = Buffer.from(o.data ?? '');
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 20 + data.length, 2);
  ip.writeUInt16BE(o.id, 4);
  ip.writeUInt16BE(0x4000, 6);
  ip[8] = o.ttl;
  ip[9] = 6;
  Buffer.from(o.src.split('.').map(Number)).copy(ip, 12);
  Buffer.from(o.dst.split('.').map(Number)).copy(ip, 16);
  ip.writeUInt16BE(o.ttl * 7, 10); // a checksum that changes with the TTL, as a router's does
  const t = Buffer.alloc(20);
  t.writeUInt16BE(o.sport, 0);
  t.writeUInt16BE(o.dport, 2);
  t.writeUInt32BE(o.seq, 4);
  t.writeUInt32BE(o.ack, 8);
  t[12] = 5 << 4;
  t[13] = o.flags;
  t.writeUInt16BE(64240, 14);
  return Buffer.concat([eth, ip, t, data]);
}

const browser = { src: '172.28.1.10', sport: 40000 };
const proxy = { src: '172.28.2.80', sport: 443 };
const SYN = 0x02;
const ACK = 0x10;
const PSH_ACK = 0x18;

/** browser → proxy through the router: each packet on lab-home (0) as sent, on lab-internet (1) one hop on. */
function twoBridgeCapture(opts: { dropFirstAnswer?: boolean } = {}): Buffer {
  const c2s = (seq: number, ack: number, flags: number, id: number, data?: string) => ({
    ...browser,
    dst: proxy.src,
    dport: proxy.sport,
    seq,
    ack,
    flags,
    id,
    data,
  });
  const s2c = (seq: number, ack: number, flags: number, id: number, data?: string) => ({
    ...proxy,
    dst: browser.src,
    dport: browser.sport,
    seq,
    ack,
    flags,
    id,
    data,
  });
  // dumpcap writes each bridge's packets in batches: lab-internet's come first, out of time order
  const home: Buffer[] = [];
  const internet: Buffer[] = [];
  const routed = (p: ReturnType<typeof c2s>, t: number, fromHome: boolean, delivered = true) => {
    const [sent, on] = fromHome ? [home, internet] : [internet, home];
    sent.push(epb(fromHome ? 0 : 1, t, tcp4({ ...p, ttl: 64 })));
    if (delivered) on.push(epb(fromHome ? 1 : 0, t + 15, tcp4({ ...p, ttl: 63 })));
  };
  routed(c2s(100, 0, SYN, 1), 1000, true);
  routed(s2c(500, 101, SYN | ACK, 0), 1100, false);
  routed(c2s(101, 501, ACK, 2), 1200, true);
  routed(c2s(101, 501, PSH_ACK, 3, 'GET / HTTP/1.1\r\n\r\n'), 1300, true);
  // the middlebox drops the proxy's first answer: on lab-internet only; then the proxy sends it again
  routed(s2c(501, 119, PSH_ACK, 1, 'HTTP/1.1 200 OK\r\n\r\n'), 1400, false, !opts.dropFirstAnswer);
  if (opts.dropFirstAnswer) routed(s2c(501, 119, PSH_ACK, 2, 'HTTP/1.1 200 OK\r\n\r\n'), 300_000, false);
  return Buffer.concat([shb(), idb(), idb(), ...internet, ...home]);
}

function tshark(file: Buffer, ...args: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'enterlab-routed-'));
  const path = join(dir, 'capture.pcapng');
  writeFileSync(path, file);
  return execFileSync('tshark', ['-r', path, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
    .split('\n')
    .filter(Boolean);
}
const retransmissions = (f: Buffer) => tshark(f, '-Y', 'tcp.analysis.retransmission').length;
const times = (f: Buffer) => tshark(f, '-T', 'fields', '-e', 'frame.time_epoch').map(Number);

describe('a docker capture keeps each routed packet once, from its sender', () => {
  it('shows Wireshark a retransmission in every routed copy of a lossless run before, none after', () => {
    const raw = twoBridgeCapture();
    expect(retransmissions(raw)).toBeGreaterThan(0);
    const { file, copies } = keepSendersCopy(raw);
    expect(copies).toBe(5);
    expect(retransmissions(file)).toBe(0);
    expect(tshark(file)).toHaveLength(5);
  });

  it('puts the frames of both bridges in time order', () => {
    const raw = twoBridgeCapture();
    const sorted = (t: number[]) => t.every((x, i) => i === 0 || t[i - 1] <= x);
    expect(sorted(times(raw))).toBe(false);
    expect(sorted(times(keepSendersCopy(raw).file))).toBe(true);
  });

  it('still shows the one real retransmission of a segment the router dropped, on the sender’s network', () => {
    const { file } = keepSendersCopy(twoBridgeCapture({ dropFirstAnswer: true }));
    const flagged = tshark(
      file,
      '-Y',
      'tcp.analysis.retransmission',
      '-T',
      'fields',
      '-e',
      'frame.interface_id',
      '-e',
      'tcp.srcport',
    );
    expect(flagged).toEqual(['1\t443']);
  });

  it('keeps a sender’s own resend of the same bytes (same hop count), and non-IP frames', () => {
    const arp = Buffer.alloc(42);
    arp.writeUInt16BE(0x0806, 12);
    const dns = tcp4({ ...browser, dst: proxy.src, dport: 53, seq: 1, ack: 0, flags: SYN, ttl: 64, id: 9 });
    const raw = Buffer.concat([shb(), idb(), idb(), epb(0, 10, arp), epb(1, 20, dns), epb(1, 900_000, dns)]);
    expect(keepSendersCopy(raw).copies).toBe(0);
    expect(tshark(keepSendersCopy(raw).file)).toHaveLength(3);
    expect(routingInvariantKey(arp)).toBeUndefined();
  });
});
