import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import type { Packet } from '../../../services/common/dns/codec.js';
import {
  canonicalName,
  DnsDecodeError,
  decodeMessage,
  edeOption,
  encodeMessage,
  encodeUncompressed,
  finishOpt,
  frameTcp,
  inBailiwick,
  makeFlags,
  makeOpt,
  RCODE,
  rcodeOf,
  readEde,
  scanMessage,
  TcpDeframer,
  truncateMessage,
} from '../../../services/common/dns/codec.js';
import { compressNames } from '../../../services/common/dns/compress.js';

const query = dnsPacket.encode({
  id: 4242,
  type: 'query',
  flags: dnsPacket.RECURSION_DESIRED,
  questions: [{ name: 'www.example.test', type: 'A' }],
});

describe('the DNS codec', () => {
  it('round-trips a query', () => {
    const m = decodeMessage(query);
    expect(m.id).toBe(4242);
    expect(m.questions?.[0]).toMatchObject({ name: 'www.example.test', type: 'A' });
    expect(decodeMessage(encodeMessage(m)).questions).toEqual(m.questions);
  });

  it('refuses a header whose counts need more bytes than the message has, before decoding', () => {
    const hostile = Buffer.alloc(12);
    hostile.writeUInt16BE(1, 0);
    for (let i = 4; i < 12; i += 2) hostile.writeUInt16BE(0xffff, i);
    const t0 = process.hrtime.bigint();
    expect(() => decodeMessage(hostile)).toThrow(DnsDecodeError);
    try {
      decodeMessage(hostile);
    } catch (e) {
      expect((e as DnsDecodeError).header?.id).toBe(1);
      expect((e as DnsDecodeError).headerReadable).toBe(true);
    }
    expect(process.hrtime.bigint() - t0).toBeGreaterThan(0n);
  });

  it('says there is no header for fewer than 12 bytes', () => {
    try {
      decodeMessage(Buffer.from([1, 2, 3]));
      expect.fail('should throw');
    } catch (e) {
      expect(e).toBeInstanceOf(DnsDecodeError);
      expect((e as DnsDecodeError).header).toBeUndefined();
      expect((e as DnsDecodeError).headerReadable).toBe(false);
    }
  });

  it('rejects a compression pointer loop as a typed error', () => {
    const loop = Buffer.from(query);
    // make the question name a pointer to itself (offset 12)
    const bad = Buffer.concat([loop.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    expect(() => decodeMessage(bad)).toThrow(DnsDecodeError);
  });

  it('builds header flags, with the extended rcode carried by OPT', () => {
    const flags = makeFlags({ aa: true, rd: true, rcode: RCODE.BADVERS });
    const m = decodeMessage(
      encodeMessage({
        id: 1,
        type: 'response',
        flags,
        questions: [],
        answers: [],
        additionals: [makeOpt({ rcode: RCODE.BADVERS })],
      }),
    );
    expect(m.flag_aa).toBe(true);
    expect(m.flag_rd).toBe(true);
    expect(rcodeOf(m)).toBe(16);
  });

  it('writes and reads Extended DNS Errors (RFC 8914)', () => {
    const m = decodeMessage(
      encodeMessage({
        id: 1,
        type: 'response',
        flags: 0,
        questions: [],
        answers: [],
        additionals: [makeOpt({ options: [edeOption(3, 'stale')] })],
      }),
    );
    expect(readEde(m)).toEqual([{ infoCode: 3, text: 'stale' }]);
  });

  it('frames TCP messages and splits a stream, however it is cut', () => {
    const stream = Buffer.concat([frameTcp(query), frameTcp(query)]);
    const d = new TcpDeframer();
    const out = [
      ...d.push(stream.subarray(0, 5)),
      ...d.push(stream.subarray(5, 40)),
      ...d.push(stream.subarray(40)),
    ];
    expect(out).toHaveLength(2);
    expect(out[1].equals(query)).toBe(true);
  });

  it('compares names case-insensitively and knows bailiwick', () => {
    expect(canonicalName('WWW.Example.TEST.')).toBe('www.example.test');
    expect(inBailiwick('ns.example.test', 'example.test')).toBe(true);
    expect(inBailiwick('example.test.evil', 'example.test')).toBe(false);
    expect(inBailiwick('evilexample.test', 'example.test')).toBe(false);
    expect(inBailiwick('anything', '')).toBe(true);
  });
});

describe('names dns-packet cannot echo', () => {
  const query = (name: string) =>
    Buffer.from(encodeMessage({ id: 7, type: 'query', questions: [{ name, type: 'A', class: 'IN' }] }));
  it('refuses a "." inside a label and non-UTF-8 label bytes, with the header (FORMERR)', () => {
    const dotted = query('cdn.example.test');
    dotted[12 + 3] = 0x2e; // cdn -> "cd." : would be echoed as "cd", a different message
    const notUtf8 = query('cdn.example.test');
    notUtf8[13] = 0xe3;
    for (const bad of [dotted, notUtf8]) {
      try {
        decodeMessage(bad);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(DnsDecodeError);
        expect((e as DnsDecodeError).headerReadable).toBe(true);
      }
    }
  });
  it('accepts ordinary names, mixed case (0x20) and the root', () => {
    expect(decodeMessage(query('WwW.Example.TEST')).questions?.[0].name).toBe('WwW.Example.TEST');
    expect(decodeMessage(query('.')).questions?.[0].name).toBe('.');
  });
});

/** A wire OPT record: root owner unless told, version, flags, raw RDATA. */
function optBytes(o: { owner?: Buffer; version?: number; flags?: number; rdata?: Buffer } = {}): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(41, 0);
  fixed.writeUInt16BE(1232, 2);
  fixed.writeUInt8(o.version ?? 0, 5);
  fixed.writeUInt16BE(o.flags ?? 0, 6);
  const rdata = o.rdata ?? Buffer.alloc(0);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([o.owner ?? Buffer.from([0]), fixed, rdata]);
}

/** The query above with these records as its additional section. */
function withAdditional(...records: Buffer[]): Buffer {
  const q = Buffer.from(query);
  q.writeUInt16BE(records.length, 10);
  return Buffer.concat([q, ...records]);
}

describe('EDNS on the wire (RFC 6891 §6.1.1)', () => {
  const formerr = (msg: Buffer) => {
    try {
      decodeMessage(msg);
    } catch (err) {
      return err instanceof DnsDecodeError && err.headerReadable;
    }
    return false;
  };

  it('finds the OPT record, its DO bit and its options', () => {
    const rdata = Buffer.from([0, 3, 0, 0, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
    const opt = scanMessage(withAdditional(optBytes({ flags: 0x8000, rdata }))).opt;
    expect(opt).toMatchObject({ udpPayloadSize: 1232, version: 0, do: true });
    expect(opt?.options.map((o) => [o.code, o.data.length])).toEqual([
      [3, 0],
      [10, 8],
    ]);
  });

  it('two OPT records are a FORMERR', () => {
    expect(formerr(withAdditional(optBytes(), optBytes()))).toBe(true);
  });

  it('an OPT record whose owner is not the root is a FORMERR', () => {
    expect(formerr(withAdditional(optBytes({ owner: Buffer.from([1, 0x78, 0]) })))).toBe(true);
  });

  it('an option running past the end of the OPT record is a FORMERR', () => {
    expect(formerr(withAdditional(optBytes({ rdata: Buffer.from([0, 3, 0, 10, 1, 2]) })))).toBe(true);
    expect(formerr(withAdditional(optBytes({ rdata: Buffer.from([0, 3, 0]) })))).toBe(true);
  });

  it('one well-formed OPT with an unknown option decodes', () => {
    expect(formerr(withAdditional(optBytes({ rdata: Buffer.from([0xfd, 0xe9, 0, 2, 1, 2]) })))).toBe(false);
  });

  it('copies the DO bit into an answer and appends options (RFC 3225 §3)', () => {
    const answer = encodeMessage({
      id: 1,
      type: 'response',
      questions: [{ name: 'a.test', type: 'A' }],
      answers: [{ name: 'a.test', type: 'A', ttl: 60, data: '127.0.0.1' }],
      additionals: [makeOpt()],
    });
    const out = finishOpt(answer, { do: true, options: [{ code: 3, data: Buffer.from('ns1') }] });
    const opt = scanMessage(out).opt;
    expect(opt?.do).toBe(true);
    expect(opt?.options).toEqual([{ code: 3, data: Buffer.from('ns1') }]);
    expect(decodeMessage(out).answers).toHaveLength(1);
  });

  it('truncates from the bytes: TC=1, the question and the OPT record kept', () => {
    const answer = encodeMessage({
      id: 1,
      type: 'response',
      questions: [{ name: 'a.test', type: 'TXT' }],
      answers: [{ name: 'a.test', type: 'TXT', ttl: 60, data: 'x'.repeat(200) }],
      additionals: [makeOpt()],
    });
    const t = decodeMessage(truncateMessage(answer));
    expect(t.flags ?? 0).toSatisfy((f: number) => (f & 0x200) !== 0);
    expect(t.answers).toEqual([]);
    expect(t.questions?.[0].name).toBe('a.test');
    expect(t.additionals?.map((a) => a.type)).toEqual(['OPT']);
  });
});

describe('name compression (RFC 1035 §4.1.4)', () => {
  const answer: Packet = {
    id: 7,
    type: 'response',
    flags: 0x8400,
    questions: [{ name: 'ShOp.example.test', type: 'A' }],
    answers: [
      { name: 'ShOp.example.test', type: 'CNAME', ttl: 300, data: 'store.example.test' },
      { name: 'store.example.test', type: 'CNAME', ttl: 300, data: 'www.example.test' },
      { name: 'www.example.test', type: 'CNAME', ttl: 300, data: 'cdn.example.test' },
      { name: 'cdn.example.test', type: 'A', ttl: 300, data: '127.0.0.80' },
      { name: 'example.test', type: 'MX', ttl: 300, data: { preference: 10, exchange: 'mail.example.test' } },
      {
        name: '_https._tcp.example.test',
        type: 'SRV',
        ttl: 300,
        data: { priority: 0, weight: 0, port: 443, target: 'cdn.example.test' },
      },
      { name: '80.0.0.127.in-addr.arpa', type: 'PTR', ttl: 300, data: 'proxy.test' },
      { name: 'example.test', type: 'TXT', ttl: 300, data: ['v=spf1 -all'] },
      { name: 'cdn.example.test', type: 'AAAA', ttl: 300, data: 'fd28:2::80' },
    ],
    authorities: [
      { name: 'example.test', type: 'NS', ttl: 300, data: 'ns-example.test' },
      {
        name: 'example.test',
        type: 'SOA',
        ttl: 60,
        data: {
          mname: 'ns-example.test',
          rname: 'hostmaster.example.test',
          serial: 1,
          refresh: 3600,
          retry: 600,
          expire: 86400,
          minimum: 60,
        },
      },
    ],
    additionals: [
      { name: 'ns-example.test', type: 'A', ttl: 300, data: '127.0.0.13' },
      makeOpt({ do: true }),
    ],
  };

  it('decodes to exactly what was encoded, letter case included, and is smaller', () => {
    const full = encodeUncompressed(answer);
    const small = encodeMessage(answer);
    expect(small.length).toBeLessThan(full.length * 0.7);
    expect(dnsPacket.decode(small)).toEqual(dnsPacket.decode(full));
    expect(decodeMessage(small).questions?.[0].name).toBe('ShOp.example.test');
  });

  it('points at earlier copies: the second owner of a name is a 2-byte pointer', () => {
    const small = encodeMessage({
      id: 1,
      type: 'response',
      questions: [{ name: 'cdn.example.test', type: 'A' }],
      answers: [{ name: 'cdn.example.test', type: 'A', ttl: 300, data: '127.0.0.80' }],
    });
    const answerOwner = 12 + 18 + 4; // header, question name, QTYPE and QCLASS
    expect(small.readUInt16BE(answerOwner)).toBe(0xc000 | 12);
    expect(small.length).toBe(12 + 22 + 2 + 10 + 4);
  });

  it('never compresses an SRV target (RFC 2782) nor types after RFC 1035 (RFC 3597 §4)', () => {
    const small = encodeMessage(answer);
    const target = Buffer.from([
      0,
      0,
      0,
      0,
      1,
      0xbb,
      3,
      ...Buffer.from('cdn'),
      7,
      ...Buffer.from('example'),
      4,
      ...Buffer.from('test'),
      0,
    ]);
    expect(small.includes(target)).toBe(true);
  });

  it('keeps a message longer than 16 KiB correct (pointers reach 14 bits only)', () => {
    const big: Packet = {
      id: 2,
      type: 'response',
      questions: [{ name: 'big.example.test', type: 'TXT' }],
      answers: Array.from({ length: 300 }, (_, i) => ({
        name: `n${i}.big.example.test`,
        type: 'CNAME' as const,
        ttl: 60,
        data: `t${i}.x${'y'.repeat(40)}.example.test`,
      })),
    };
    const full = encodeUncompressed(big);
    expect(full.length).toBeGreaterThan(0x4000);
    const small = encodeMessage(big);
    expect(dnsPacket.decode(small)).toEqual(dnsPacket.decode(full));
  });

  it('leaves a message it cannot read as it is', () => {
    const odd = Buffer.from(query);
    odd[12] = 0xc0; // a pointer where dns-packet never writes one
    expect(compressNames(odd)).toBe(odd);
  });
});
