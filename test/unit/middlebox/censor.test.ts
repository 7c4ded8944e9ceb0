import { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, makeFlags } from '../../../services/common/dns/codec.js';
import { type LabSettings, settingsFromEnv } from '../../../services/common/settings.js';
import { createCensor, type Outcome } from '../../../services/middlebox/censor.js';
import { FINGERPRINT } from '../../../services/middlebox/forge.js';
import { inspectClientBytes } from '../../../services/middlebox/inspect.js';
import { decodeFrame, TCP_FLAGS, tcpFrame, udpFrame } from '../../../services/middlebox/packets.js';
import { createRuleSet } from '../../../services/middlebox/rules.js';
import { censorScope } from '../../../services/middlebox/scope.js';
import { syntheticClientHello } from '../../../services/middlebox/warmup.js';

const s: LabSettings = settingsFromEnv(
  {},
  { runtime: 'local', block: '127.62', portOffset: 0, ipv6: true, stateDir: '/tmp/enterlab-unit' },
);
const BROWSER = '127.62.1.10';
const PROXY = '127.62.2.80';

/** The bytes a real TLS client (Node's OpenSSL) sends first, for a server name. */
async function clientHello(servername: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const wire = new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        resolve(Buffer.from(chunk));
        cb();
      },
    });
    const t = tlsConnect({ socket: wire as never, servername, rejectUnauthorized: false });
    t.on('error', () => undefined);
    setTimeout(() => t.destroy(), 50);
  });
}

function censorWith(...lines: string[]) {
  const rules = createRuleSet(s);
  for (const l of lines) rules.add(l);
  return createCensor(rules, censorScope(s));
}

const C_ISN = 1000;
const S_ISN = 5000;
const seg = (fromClient: boolean, seq: number, ack: number, flags: number, payload?: Buffer) =>
  tcpFrame({
    src: fromClient ? BROWSER : PROXY,
    dst: fromClient ? PROXY : BROWSER,
    sport: fromClient ? 40000 : 443,
    dport: fromClient ? 443 : 40000,
    seq,
    ack,
    flags,
    payload,
  });
const feed = (c: ReturnType<typeof createCensor>, frames: Buffer[]) =>
  frames.flatMap((f, i) => c.observe(f, f.length, i));
const handshake = [
  seg(true, C_ISN, 0, TCP_FLAGS.SYN),
  seg(false, S_ISN, C_ISN + 1, TCP_FLAGS.SYN | TCP_FLAGS.ACK),
  seg(true, C_ISN + 1, S_ISN + 1, TCP_FLAGS.ACK),
];
const rsts = (out: Outcome[]) => out.flatMap((o) => (o.kind === 'rst' ? o.packets : []));

describe('reading first bytes', () => {
  it('finds the SNI in a real ClientHello, and waits while it is incomplete', async () => {
    const ch = await clientHello('www.blocked.test');
    expect(inspectClientBytes(ch)).toEqual({ kind: 'tls', sni: 'www.blocked.test' });
    expect(inspectClientBytes(ch.subarray(0, 100))).toEqual({ kind: 'more' });
    // the warm-up's hand-made ClientHello reads the same way
    expect(inspectClientBytes(syntheticClientHello('warm.test'))).toEqual({ kind: 'tls', sni: 'warm.test' });
  });

  it('reads an HTTP request line and Host, ignoring the port', () => {
    const req = Buffer.from(
      'GET /news?q=forbidden HTTP/1.1\r\nUser-Agent: x\r\nHost: Blocked.TEST:80\r\n\r\n',
    );
    expect(inspectClientBytes(req)).toEqual({
      kind: 'http',
      method: 'GET',
      target: '/news?q=forbidden',
      host: 'blocked.test',
    });
    expect(inspectClientBytes(req.subarray(0, 30))).toEqual({ kind: 'more' });
    expect(inspectClientBytes(Buffer.from('\x00\x01binary'))).toEqual({ kind: 'opaque' });
  });
});

describe('the censor', () => {
  it('resets a ClientHello for a blocked name with seqs each kernel accepts exactly (RFC 5961 §3)', async () => {
    const ch = await clientHello('blocked.test');
    const c = censorWith('sni blocked.test');
    const out = feed(c, [...handshake, seg(true, C_ISN + 1, S_ISN + 1, TCP_FLAGS.ACK | TCP_FLAGS.PSH, ch)]);
    expect(out[0]).toMatchObject({
      kind: 'match',
      match: { trigger: 'sni', value: 'blocked.test', rule: { text: 'sni blocked.test' } },
    });
    const p = rsts(out);
    // to the server, spoofed from the client: its RCV.NXT is after the ClientHello; then the offsets
    expect(p.filter((x) => x.to === 'server').map((x) => x.seq)).toEqual([
      C_ISN + 1 + ch.length,
      C_ISN + 1 + ch.length + 1460,
      C_ISN + 1 + ch.length + 2920,
    ]);
    // to the client, spoofed from the server: its RCV.NXT is what the ClientHello acknowledged
    expect(p.filter((x) => x.to === 'client').map((x) => x.seq)).toEqual([
      S_ISN + 1,
      S_ISN + 1461,
      S_ISN + 2921,
    ]);
    const first = decodeFrame(p[3].frame);
    expect(first.ok && first.frame.ip).toMatchObject({
      src: PROXY,
      dst: BROWSER,
      ttl: FINGERPRINT.ttl,
      id: FINGERPRINT.ipId,
    });
    expect(first.ok && first.frame.tcp?.flags).toBe(TCP_FLAGS.RST);
  });

  it('reassembles a ClientHello split into out-of-order segments', async () => {
    const ch = await clientHello('blocked.test');
    const c = censorWith('sni blocked.test');
    const a = ch.subarray(0, 200);
    const b = ch.subarray(200);
    const out = feed(c, [
      ...handshake,
      seg(true, C_ISN + 1 + 200, S_ISN + 1, TCP_FLAGS.ACK, b),
      seg(true, C_ISN + 1, S_ISN + 1, TCP_FLAGS.ACK, a),
    ]);
    expect(out.some((o) => o.kind === 'match')).toBe(true);
    expect(rsts(out).find((x) => x.to === 'server')?.seq).toBe(C_ISN + 1 + 200); // after the trigger (the first part)
  });

  it('lets other names through, and answers a server segment after the match with its own exact seq', async () => {
    const c = censorWith('sni blocked.test rst+ack offsets=0');
    expect(
      feed(c, [
        ...handshake,
        seg(true, C_ISN + 1, S_ISN + 1, TCP_FLAGS.ACK, await clientHello('www.example.test')),
      ]),
    ).toEqual([]);
    const d = censorWith('sni blocked.test rst+ack offsets=0');
    const ch = await clientHello('blocked.test');
    const out = feed(d, [
      ...handshake,
      seg(true, C_ISN + 1, S_ISN + 1, TCP_FLAGS.ACK, ch),
      // the ServerHello raced ahead of the RSTs: the client now expects S_ISN + 1 + 1200
      seg(false, S_ISN + 1, C_ISN + 1 + ch.length, TCP_FLAGS.ACK, Buffer.alloc(1200)),
    ]);
    const p = rsts(out);
    expect(p.map((x) => [x.to, x.seq, x.flags, x.ack])).toEqual([
      ['server', C_ISN + 1 + ch.length, 'RST,ACK', S_ISN + 1],
      ['client', S_ISN + 1, 'RST,ACK', C_ISN + 1 + ch.length],
      ['client', S_ISN + 1 + 1200, 'RST,ACK', C_ISN + 1 + ch.length],
    ]);
  });

  it('resets on the SYN for an ip rule: RST+ACK acknowledging the SYN (RFC 793 SYN-SENT)', () => {
    const c = censorWith('ip proxy:443 offsets=0');
    const out = feed(c, [handshake[0]]);
    expect(out[0]).toMatchObject({ kind: 'match', match: { trigger: 'syn', value: `${PROXY}:443` } });
    expect(rsts(out).map((x) => [x.to, x.flags, x.seq, x.ack])).toEqual([
      ['server', 'RST', C_ISN + 1, 0],
      ['client', 'RST,ACK', 0, C_ISN + 1],
    ]);
    expect(feed(censorWith('ip proxy:80'), [handshake[0]])).toEqual([]);
  });

  it('resets on a Host header and on a URL keyword', () => {
    const req = (path: string, host: string) => Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    const http = (c: ReturnType<typeof createCensor>, r: Buffer) =>
      feed(c, [...handshake, seg(true, C_ISN + 1, S_ISN + 1, TCP_FLAGS.ACK, r)]);
    expect(http(censorWith('host blocked.test'), req('/', 'www.blocked.test'))[0]).toMatchObject({
      match: { trigger: 'host' },
    });
    expect(
      http(censorWith('keyword forbidden'), req('/a%20Forbidden%20word', 'www.example.test'))[0],
    ).toMatchObject({ match: { trigger: 'keyword' } });
    expect(http(censorWith('keyword forbidden'), req('/fine', 'www.example.test'))).toEqual([]);
  });

  it("forges a DNS answer with the query's ID and question, pointing at the middlebox", () => {
    const c = censorWith('dns blocked.test');
    const q = encodeMessage({
      id: 4242,
      type: 'query',
      flags: makeFlags({ rd: true }),
      questions: [{ name: 'www.blocked.test', type: 'A', class: 'IN' }],
    });
    const f = udpFrame({ src: BROWSER, dst: '127.62.2.53', sport: 33333, dport: 53, payload: q });
    const out = c.observe(f, f.length, 0);
    const inj = out.find((o) => o.kind === 'dns');
    if (inj?.kind !== 'dns') throw new Error('no injection');
    const d = decodeFrame(inj.answer.frame);
    if (!d.ok || !d.frame.udp) throw new Error('undecodable');
    expect(d.frame.ip).toMatchObject({ src: '127.62.2.53', dst: BROWSER, ttl: 47 });
    expect([d.frame.udp.sport, d.frame.udp.dport]).toEqual([53, 33333]);
    const a = decodeMessage(d.frame.udp.payload);
    expect(a.id).toBe(4242);
    expect(a.type).toBe('response');
    expect(a.questions?.[0].name).toBe('www.blocked.test');
    expect(a.answers?.[0]).toMatchObject({ type: 'A', data: '127.62.1.254' });
  });

  it('ignores flows off its path, other labs, its own forgeries and RSTs; counts bad frames', async () => {
    const c = censorWith('sni blocked.test', 'ip proxy');
    const otherLab = tcpFrame({
      src: '127.28.1.10',
      dst: '127.28.2.80',
      sport: 1,
      dport: 443,
      seq: 1,
      flags: TCP_FLAGS.SYN,
    });
    const insideInternet = tcpFrame({
      src: '127.62.2.53',
      dst: PROXY,
      sport: 1,
      dport: 443,
      seq: 1,
      flags: TCP_FLAGS.SYN,
    });
    const forged = tcpFrame({
      src: BROWSER,
      dst: PROXY,
      sport: 1,
      dport: 443,
      seq: 1,
      flags: TCP_FLAGS.SYN,
      ttl: 47,
      id: 0xbeef,
    });
    const rst = tcpFrame({ src: BROWSER, dst: PROXY, sport: 2, dport: 443, seq: 1, flags: TCP_FLAGS.RST });
    expect(feed(c, [otherLab, insideInternet, forged, rst])).toEqual([]);
    expect(c.observe(Buffer.alloc(20), 20, 0)).toEqual([]);
    expect(c.stats().skipped.malformed + c.stats().skipped['not-ip']).toBe(1);
  });
});
