import { describe, expect, it } from 'vitest';
import type { Packet } from '../../../services/common/dns/codec.js';
import { makeOpt } from '../../../services/common/dns/codec.js';
import { settingsFromEnv } from '../../../services/common/settings.js';
import { answerQuery } from '../../../services/nameserver/authority.js';
import {
  ip6ArpaName,
  loadZoneFile,
  removeRecord,
  reverse6ZoneName,
  setRecord,
  soaOf,
  ZONES_BY_HOST,
} from '../../../services/nameserver/zones.js';

const s = settingsFromEnv(
  {},
  { runtime: 'local', block: '127.41', stateDir: '/tmp/x', portOffset: 0, ipv6: true },
);
const zonesOf = (host: string) => ZONES_BY_HOST[host].map((f) => loadZoneFile(f, s));
const root = zonesOf('ns-root');
const tld = zonesOf('ns-tld');
const example = zonesOf('ns-example');

function q(name: string, type = 'A', extra: Partial<Packet> = {}): Packet {
  return {
    id: 7,
    type: 'query',
    flags: 0,
    questions: [{ name, type, class: 'IN' } as never],
    answers: [],
    authorities: [],
    additionals: [],
    ...extra,
  };
}
const aa = (p: Packet) => ((p.flags ?? 0) & 0x400) !== 0;
const rcode = (p: Packet) => (p.flags ?? 0) & 0xf;

describe('authoritative answers', () => {
  it('root refers www.example.test to test. with glue, without AA', () => {
    const r = answerQuery(q('www.example.test'), root, { udp: true });
    expect(r.outcome).toBe('referral');
    expect(aa(r.response)).toBe(false);
    expect(r.response.answers).toEqual([]);
    expect(r.response.authorities?.map((a) => [a.name, a.type, (a as { data: string }).data])).toEqual([
      ['test', 'NS', 'ns-tld.test'],
    ]);
    expect(r.response.additionals?.map((a) => (a as { data: string }).data)).toContain('127.41.2.12');
  });

  it('test. refers example.test to ns-example with in-bailiwick glue', () => {
    const r = answerQuery(q('www.example.test'), tld, { udp: true });
    expect(r.outcome).toBe('referral');
    expect(r.response.additionals?.[0]).toMatchObject({
      name: 'ns-example.test',
      type: 'A',
      data: '127.41.2.13',
    });
  });

  it('answers with AA, following the CNAME www → cdn inside the zone', () => {
    const r = answerQuery(q('www.example.test'), example, { udp: true });
    expect(r.outcome).toBe('answer');
    expect(aa(r.response)).toBe(true);
    expect(r.response.answers?.map((a) => a.type)).toEqual(['CNAME', 'A']);
  });

  it('echoes the letter case of the question (0x20)', () => {
    const r = answerQuery(q('CdN.ExAmPlE.tEsT'), example, { udp: true });
    expect(r.response.questions?.[0].name).toBe('CdN.ExAmPlE.tEsT');
    expect(r.response.answers?.[0].name).toBe('CdN.ExAmPlE.tEsT');
  });

  it('answers NXDOMAIN with the SOA, its TTL the smaller of SOA TTL and minimum', () => {
    const r = answerQuery(q('typo.example.test'), example, { udp: true });
    expect(r.outcome).toBe('nxdomain');
    expect(rcode(r.response)).toBe(3);
    expect(aa(r.response)).toBe(true);
    expect(r.response.authorities?.[0]).toMatchObject({ type: 'SOA', ttl: 60 });
  });

  it('answers NODATA (NOERROR, empty answer, SOA) for a type the name lacks', () => {
    const r = answerQuery(q('v6only.example.test', 'A'), example, { udp: true });
    expect(r.outcome).toBe('nodata');
    expect(rcode(r.response)).toBe(0);
    expect(r.response.answers).toEqual([]);
    expect(r.response.authorities?.[0].type).toBe('SOA');
  });

  it('synthesizes from a wildcard (RFC 4592) with the query name as owner', () => {
    const r = answerQuery(q('anything.wild.example.test'), example, { udp: true });
    expect(r.response.answers?.[0]).toMatchObject({
      name: 'anything.wild.example.test',
      type: 'A',
      data: '127.41.2.80',
    });
  });

  it('refuses names outside its zones', () => {
    const r = answerQuery(q('www.example.com'), example, { udp: true });
    expect(r.outcome).toBe('refused');
    expect(rcode(r.response)).toBe(5);
  });

  it('answers NOTIMP to opcodes other than QUERY and BADVERS to EDNS version 1', () => {
    expect(answerQuery(q('www.example.test', 'A', { flags: 2 << 11 }), example, { udp: true }).outcome).toBe(
      'notimp',
    );
    const opt = makeOpt() as unknown as { ednsVersion: number };
    opt.ednsVersion = 1;
    const r = answerQuery(q('www.example.test', 'A', { additionals: [opt as never] }), example, {
      udp: true,
    });
    expect(r.outcome).toBe('badvers');
  });

  it('gives one HINFO for ANY (RFC 8482)', () => {
    const r = answerQuery(q('example.test', 'ANY'), example, { udp: true });
    expect(r.response.answers).toHaveLength(1);
    expect(r.response.answers?.[0].type).toBe('HINFO');
  });

  it('honours the client EDNS buffer size, 512 without EDNS, no limit over TCP', () => {
    expect(answerQuery(q('big.example.test', 'TXT'), example, { udp: true }).udpLimit).toBe(512);
    expect(
      answerQuery(
        q('big.example.test', 'TXT', { additionals: [makeOpt({ udpPayloadSize: 4096 })] }),
        example,
        { udp: true },
      ).udpLimit,
    ).toBe(4096);
    expect(answerQuery(q('big.example.test', 'TXT'), example, { udp: false }).udpLimit).toBe(65535);
  });

  it('changes a record at run time and bumps the serial; bad input leaves the zone unchanged', () => {
    const zones = zonesOf('ns-example');
    const z = zones[0];
    const serial = (soaOf(z) as { data: { serial: number } }).data.serial;
    setRecord(zones, 'new.example.test', 'A', '127.41.2.81', 5);
    expect(answerQuery(q('new.example.test'), zones, { udp: true }).response.answers?.[0]).toMatchObject({
      ttl: 5,
      data: '127.41.2.81',
    });
    expect((soaOf(z) as { data: { serial: number } }).data.serial).toBe(serial + 1);
    expect(() => setRecord(zones, 'bad.example.test', 'A', 'not-an-ip')).toThrow(/IPv4/);
    expect(() => setRecord(zones, 'www.example.test', 'A', '127.41.2.81')).toThrow(/CNAME/);
    expect(() => setRecord(zones, 'x.example.com', 'A', '127.41.2.81')).toThrow(/no zone/);
    expect((soaOf(z) as { data: { serial: number } }).data.serial).toBe(serial + 1);
    removeRecord(zones, 'new.example.test');
    expect(answerQuery(q('new.example.test'), zones, { udp: true }).outcome).toBe('nxdomain');
    expect(() => removeRecord(zones, 'example.test', 'SOA')).toThrow(/apex/);
  });
});

describe('zone transfer (RFC 5936) and priming (RFC 8109)', () => {
  it('AXFR over TCP to a lab client: the zone, SOA first and last, authoritative', () => {
    const r = answerQuery(q('example.test', 'AXFR'), example, { udp: false, transferAllowed: true });
    expect(r.outcome).toBe('transfer');
    expect(aa(r.response)).toBe(true);
    const answers = r.response.answers ?? [];
    expect(answers[0].type).toBe('SOA');
    expect(answers.at(-1)?.type).toBe('SOA');
    expect(answers.some((a) => a.name === 'cdn.example.test' && a.type === 'A')).toBe(true);
  });

  it('AXFR over UDP is NOTIMP, to a client outside the lab REFUSED, below an apex NOTAUTH (as NSD)', () => {
    const axfr = q('example.test', 'AXFR');
    expect(rcode(answerQuery(axfr, example, { udp: true, transferAllowed: true }).response)).toBe(4);
    expect(rcode(answerQuery(axfr, example, { udp: false, transferAllowed: false }).response)).toBe(5);
    const below = answerQuery(q('www.example.test', 'AXFR'), example, { udp: false, transferAllowed: true });
    expect(rcode(below.response)).toBe(9);
  });

  it("the root's answer to . NS carries the root servers' addresses (RFC 8109 §3.3)", () => {
    const r = answerQuery(q('', 'NS'), root, { udp: true });
    expect(r.response.answers?.map((a) => (a as { data: string }).data)).toEqual(['ns-root.test']);
    expect(r.response.additionals?.map((a) => `${a.name} ${a.type}`)).toEqual([
      'ns-root.test A',
      'ns-root.test AAAA',
    ]);
  });
});

describe('zone data as loaded', () => {
  it('an RRset is a set: a record written twice is served once (RFC 2181 §5)', () => {
    const r = answerQuery(q('big.example.test', 'TXT'), example, { udp: false });
    const texts = (r.response.answers ?? []).map((a) => String((a as { data: Buffer[] }).data));
    expect(texts).toHaveLength(6);
    expect(new Set(texts).size).toBe(6);
  });

  it('test. holds no address at the ca.test delegation point (it would be occluded)', () => {
    const r = answerQuery(q('ca.test', 'A'), tld, { udp: true });
    expect(r.outcome).toBe('referral');
    expect(tld[0].names.get('ca.test')?.has('A')).toBe(false);
    expect(tld[0].names.get('proxy.test')?.has('A')).toBe(true);
  });

  it('every lab IPv6 address has a PTR under ip6.arpa (RFC 3596 §2.5)', () => {
    expect(ip6ArpaName('fd7f:41:2::80')).toBe(
      '0.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.4.0.0.f.7.d.f.ip6.arpa',
    );
    expect(reverse6ZoneName(s)).toBe('1.4.0.0.f.7.d.f.ip6.arpa');
    const r = answerQuery(q(ip6ArpaName('fd7f:41:2::80'), 'PTR'), example, { udp: true });
    expect(r.response.answers?.map((a) => (a as { data: string }).data)).toEqual(['proxy.test']);
  });
});
