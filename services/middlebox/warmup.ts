// The forgery must win a race of about a millisecond on lo, so the censor's code is compiled before
// the first real packet: synthetic flows (SYN, ClientHello, request head, DNS question) are played
// through a private censor a few hundred times at start. Nothing is sent.
import { encodeMessage, makeFlags } from '../common/dns/codec.js';
import { addressOf, type LabSettings } from '../common/settings.js';
import { createCensor } from './censor.js';
import { TCP_FLAGS, tcpFrame, udpFrame } from './packets.js';
import { createRuleSet } from './rules.js';
import { censorScope } from './scope.js';

/** A minimal TLS 1.3 ClientHello record carrying server_name (RFC 8446 §4.1.2, RFC 6066 §3). */
export function syntheticClientHello(name: string): Buffer {
  const host = Buffer.from(name, 'latin1');
  const sni = Buffer.alloc(9 + host.length);
  sni.writeUInt16BE(0, 0); // extension type server_name
  sni.writeUInt16BE(5 + host.length, 2);
  sni.writeUInt16BE(3 + host.length, 4); // ServerNameList length
  sni.writeUInt8(0, 6); // host_name
  sni.writeUInt16BE(host.length, 7);
  host.copy(sni, 9);
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    Buffer.alloc(32, 7),
    Buffer.from([0, 0, 2, 0x13, 0x01, 1, 0]),
    Buffer.from([sni.length >> 8, sni.length & 0xff]),
    sni,
  ]);
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, hs.length >> 8, hs.length & 0xff]), hs]);
}

export function warmUp(s: LabSettings, rounds = 300): void {
  const rules = createRuleSet(s);
  rules.load('sni warm.test\nhost warm.test\nkeyword warm\ndns warm.test\nip proxy:443');
  const censor = createCensor(rules, censorScope(s));
  const client = addressOf('browser', s);
  const server = addressOf('proxy', s);
  const resolver = addressOf('resolver', s);
  const hello = syntheticClientHello('warm.test');
  const request = Buffer.from('GET /warm HTTP/1.1\r\nHost: warm.test\r\n\r\n');
  const query = encodeMessage({
    id: 1,
    type: 'query',
    flags: makeFlags({ rd: true }),
    questions: [{ name: 'warm.test', type: 'A', class: 'IN' }],
  });
  for (let i = 0; i < rounds; i++) {
    const sport = 20_000 + (i % 20_000);
    const seg = (flags: number, seq: number, ack: number, payload?: Buffer, dport = 8443) =>
      tcpFrame({ src: client, dst: server, sport, dport, seq, ack, flags, payload });
    const frames = [
      seg(TCP_FLAGS.SYN, 1, 0, undefined, s.portOffset + 443),
      seg(TCP_FLAGS.SYN, 100, 0),
      seg(TCP_FLAGS.ACK | TCP_FLAGS.PSH, 101, 1, i % 2 ? hello : request),
      udpFrame({ src: client, dst: resolver, sport, dport: s.portOffset + 53, payload: query }),
    ];
    for (const f of frames) censor.observe(f, f.length, i);
  }
}
