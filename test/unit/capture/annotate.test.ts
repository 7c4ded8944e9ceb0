import { describe, expect, it } from 'vitest';
import { annotate } from '../../../lab-cli/capture/annotate.js';
import { epochToMicros, type Frame } from '../../../lab-cli/capture/frames.js';
import { eventKey } from '../../../lab-cli/render/ladder-model.js';
import { settingsFromEnv } from '../../../services/common/settings.js';
import { journeyEvents, T0 } from '../../support/journey-events.js';

const s = settingsFromEnv({}, { runtime: 'local', block: '127.60', ipv6: true });
let n = 0;
const frame = (at: number, f: Partial<Frame>): Frame => ({
  number: ++n,
  ts: T0 + at,
  src: '',
  dst: '',
  proto: 'udp',
  sport: 0,
  dport: 0,
  tcpFlags: 0,
  tcpLen: 0,
  tlsTypes: [],
  paths: [],
  ...f,
});
const b = 'fd7f:60:1::10';
const p = 'fd7f:60:2::80';
const tcp = (at: number, fwd: boolean, flags: number, more: Partial<Frame> = {}) =>
  frame(at, {
    proto: 'tcp',
    src: fwd ? b : p,
    dst: fwd ? p : b,
    sport: fwd ? 45000 : 443,
    dport: fwd ? 443 : 45000,
    tcpFlags: flags,
    ...more,
  });
const frames: Frame[] = [
  frame(900, {
    src: '127.60.1.10',
    sport: 40000,
    dst: '127.60.2.53',
    dport: 53,
    dnsId: 11,
    dnsResponse: false,
  }),
  // a query with the same id from another port is someone else's
  frame(950, {
    src: '127.60.1.10',
    sport: 40999,
    dst: '127.60.2.53',
    dport: 53,
    dnsId: 12,
    dnsResponse: false,
  }),
  frame(1900, {
    src: '127.60.2.53',
    sport: 40001,
    dst: '127.60.2.11',
    dport: 53,
    dnsId: 12,
    dnsResponse: false,
  }),
  frame(2050, {
    src: '127.60.2.11',
    sport: 53,
    dst: '127.60.2.53',
    dport: 40001,
    dnsId: 12,
    dnsResponse: true,
  }),
  tcp(4400, true, 0x002),
  tcp(4450, false, 0x012),
  tcp(4460, true, 0x010),
  tcp(5500, true, 0x018, { tlsTypes: [1], sni: 'www.example.test' }),
  tcp(6500, false, 0x018, { tlsTypes: [2] }),
  tcp(7900, true, 0x018, { paths: ['/hej'] }),
  tcp(9990, true, 0x011),
  tcp(10100, false, 0x011),
];

describe('annotate: frames tied to the events they show', () => {
  const a = annotate(journeyEvents, frames, s);
  const framesOf = (kind: string, host = 'browser') =>
    a.frames.get(
      eventKey(journeyEvents.find((e) => e.kind === kind && e.host === host) as (typeof journeyEvents)[0]),
    );

  it('matches DNS by client port and id, and names both ends', () => {
    expect(framesOf('dns.query', 'resolver')).toEqual([1]);
    expect(framesOf('dns.query', 'ns-root')).toEqual([3]);
    expect(a.comments.get(3)).toEqual(['resolver → ns-root: query test A']);
    expect(a.comments.get(4)).toEqual(['ns-root → resolver: referral for test']);
    expect(a.comments.has(2)).toBe(false);
  });

  it('ties the handshake, the ClientHello, the request and both FINs to their events', () => {
    expect(framesOf('tcp.connect')).toEqual([5, 6, 7]);
    expect(a.comments.get(6)?.[0]).toBe('proxy → browser: SYN-ACK, TCP connection 1 (2/3)');
    expect(framesOf('tls.handshake')).toEqual([8, 9]);
    expect(a.comments.get(8)?.[0]).toBe(
      'browser → proxy: TLS ClientHello, SNI www.example.test, connection 1',
    );
    expect(framesOf('http.request', 'proxy')).toEqual([10]);
    expect(framesOf('tcp.close')).toEqual([11, 12]);
  });

  it("ties the resolver's answers (which carry no DNS id) by client port and name", () => {
    const answer = { ...journeyEvents[4], data: { name: 'www.example.test', type: 'A', answers: [] } };
    const response = frame(3100, {
      src: '127.60.2.53',
      sport: 53,
      dst: '127.60.1.10',
      dport: 40000,
      dnsResponse: true,
      dnsName: 'www.example.test',
    });
    const other = frame(3050, {
      src: '127.60.2.53',
      sport: 53,
      dst: '127.60.1.10',
      dport: 40000,
      dnsResponse: true,
      dnsName: 'cdn.example.test',
    });
    const b = annotate([answer], [other, response], s);
    expect(b.frames.get(eventKey(answer))).toEqual([response.number]);
    expect(b.comments.get(response.number)).toEqual(['resolver → browser: answer for www.example.test A']);
  });

  it('reads tshark epoch times to the microsecond', () => {
    expect(epochToMicros('1796157821.943393123')).toBe(1796157821943393);
    expect(epochToMicros('1796157821.5')).toBe(1796157821500000);
  });
});
