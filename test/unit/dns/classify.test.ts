// Response types as unbound's response_type_from_server tells them apart, one or more cases each,
// built as the lab's nameservers (and broken ones) answer.
import { describe, expect, it } from 'vitest';
import { type AskedQuestion, classifyResponse } from '../../../services/common/dns/classify.js';
import { type Answer, makeFlags, type Packet, RCODE } from '../../../services/common/dns/codec.js';
import type { SoaData } from '../../../services/common/dns/record-text.js';

const rr = (name: string, type: string, data: unknown) =>
  ({ name, type, ttl: 300, class: 'IN', data }) as Answer;
/** the zone's SOA (RFC 1035 §3.3.13): the classification reads only its owner */
const SOA: SoaData = {
  mname: 'ns-example.test',
  rname: 'hostmaster.example.test',
  serial: 1,
  refresh: 3600,
  retry: 600,
  expire: 86400,
  minimum: 60,
};
const soa = (zone: string) => rr(zone, 'SOA', SOA);

function response(flags: Parameters<typeof makeFlags>[0], sections: Partial<Packet> = {}): Packet {
  return {
    id: 1,
    type: 'response',
    flags: makeFlags(flags),
    answers: [],
    authorities: [],
    additionals: [],
    ...sections,
  };
}

const www: AskedQuestion = { name: 'www.example.test', type: 'A', zone: 'example.test' };
const fromTld: AskedQuestion = { name: 'www.example.test', type: 'A', zone: 'test' };

describe('classifyResponse', () => {
  it('answer: the records asked for, with AA, directly or after an in-response CNAME chain', () => {
    const direct = response({ aa: true }, { answers: [rr('www.example.test', 'A', '172.28.2.80')] });
    expect(classifyResponse(direct, www)).toEqual({ type: 'answer' });
    const chained = response(
      { aa: true },
      {
        answers: [
          rr('WWW.example.test.', 'CNAME', 'cdn.example.test'),
          rr('cdn.example.test', 'A', '172.28.2.80'),
        ],
      },
    );
    expect(classifyResponse(chained, www)).toEqual({ type: 'answer' });
    // asked for the CNAME itself: the CNAME is the answer, not an alias to follow
    const cnameAsked = response(
      { aa: true },
      { answers: [rr('www.example.test', 'CNAME', 'cdn.example.test')] },
    );
    expect(classifyResponse(cnameAsked, { ...www, type: 'CNAME' })).toEqual({ type: 'answer' });
    // ANY: whatever the authority chose to give (RFC 8482)
    const any = response({}, { answers: [rr('www.example.test', 'HINFO', { cpu: 'RFC8482', os: '' })] });
    expect(classifyResponse(any, { ...www, type: 'ANY' })).toEqual({ type: 'answer' });
  });

  it('cname: a chain that stops before the type asked, with where it goes on', () => {
    const r = response({ aa: true }, { answers: [rr('www.example.test', 'CNAME', 'www.web2.test')] });
    expect(classifyResponse(r, www)).toEqual({ type: 'cname', target: 'www.web2.test' });
    // NXDOMAIN with a CNAME at the question is about the chain's end (RFC 6604)
    const nx = response(
      { aa: true, rcode: RCODE.NXDOMAIN },
      { answers: [rr('www.example.test', 'CNAME', 'gone.web2.test')], authorities: [soa('example.test')] },
    );
    expect(classifyResponse(nx, www)).toEqual({ type: 'cname', target: 'gone.web2.test' });
  });

  it('referral: NS of a zone below the one asked, in the authority section (or the answer section for NS)', () => {
    const r = response(
      {},
      {
        authorities: [rr('example.test', 'NS', 'ns-example.test')],
        additionals: [rr('ns-example.test', 'A', '172.28.2.13')],
      },
    );
    expect(classifyResponse(r, fromTld)).toEqual({ type: 'referral', cut: 'example.test' });
    const inAnswer = response({}, { answers: [rr('example.test', 'NS', 'ns-example.test')] });
    expect(classifyResponse(inAnswer, { name: 'example.test', type: 'NS', zone: 'test' })).toEqual({
      type: 'referral',
      cut: 'example.test',
    });
    // the same NS with AA is the child zone's own answer
    const own = response({ aa: true }, { answers: [rr('example.test', 'NS', 'ns-example.test')] });
    expect(classifyResponse(own, { name: 'example.test', type: 'NS', zone: 'test' })).toEqual({
      type: 'answer',
    });
    // a non-authoritative copy of the data next to a referral is only glue-like: the referral wins
    const provisional = response(
      {},
      {
        answers: [rr('www.example.test', 'A', '192.0.2.1')],
        authorities: [rr('example.test', 'NS', 'ns-example.test')],
      },
    );
    expect(classifyResponse(provisional, fromTld)).toEqual({ type: 'referral', cut: 'example.test' });
  });

  it('nxdomain: RCODE 3 with the SOA (RFC 2308 §2.1)', () => {
    const r = response({ aa: true, rcode: RCODE.NXDOMAIN }, { authorities: [soa('example.test')] });
    expect(classifyResponse(r, { ...www, name: 'nope.example.test' })).toEqual({ type: 'nxdomain' });
  });

  it('nodata: NOERROR, no record of the type, the SOA (RFC 2308 §2.2), or the zone’s own NS', () => {
    const r = response({ aa: true }, { authorities: [soa('example.test')] });
    expect(classifyResponse(r, { ...www, type: 'MX' })).toEqual({ type: 'nodata' });
    const withNs = response({ aa: true }, { authorities: [rr('example.test', 'NS', 'ns-example.test')] });
    expect(classifyResponse(withNs, { ...www, type: 'MX' })).toEqual({ type: 'nodata' });
    expect(classifyResponse(response({ aa: true }), { ...www, type: 'MX' })).toEqual({ type: 'nodata' });
  });

  it('lame: a referral up the tree or back to the same zone, or a recursive server’s non-AA answer to RD=0', () => {
    const up = response({}, { authorities: [rr('test', 'NS', 'ns-tld.test')] });
    expect(classifyResponse(up, www)).toEqual({ type: 'lame' });
    const root = response({}, { authorities: [rr('', 'NS', 'ns-root.test')] });
    expect(classifyResponse(root, www)).toEqual({ type: 'lame' });
    const recursive = response({ ra: true }, { authorities: [soa('example.test')] });
    expect(classifyResponse(recursive, { ...www, type: 'MX' })).toEqual({ type: 'lame' });
    const recursiveNx = response({ ra: true, rcode: RCODE.NXDOMAIN }, { authorities: [soa('example.test')] });
    expect(classifyResponse(recursiveNx, www)).toEqual({ type: 'lame' });
    // asked with RD=1 (a forwarder), RA is expected: not lame
    expect(classifyResponse(recursive, { ...www, type: 'MX', rd: true })).toEqual({ type: 'nodata' });
    // an upward referral to a forwarder is thrown away instead
    expect(classifyResponse(up, { ...www, rd: true })).toEqual({ type: 'throwaway' });
  });

  it('throwaway: SERVFAIL, REFUSED, FORMERR, or a truncated message', () => {
    for (const rcode of [RCODE.SERVFAIL, RCODE.REFUSED, RCODE.FORMERR, RCODE.NOTIMP])
      expect(classifyResponse(response({ rcode }), www)).toEqual({ type: 'throwaway' });
    const tc = response({ aa: true, tc: true }, { answers: [rr('www.example.test', 'A', '172.28.2.80')] });
    expect(classifyResponse(tc, www)).toEqual({ type: 'throwaway' });
  });
});
