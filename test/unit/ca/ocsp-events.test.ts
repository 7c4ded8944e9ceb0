// The words and headers of an OCSP exchange: the same wording for every answer of one statement,
// the nonce and the asker per request, RFC 5019 caching headers on GET answers only.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { OcspAnswer } from '../../../services/ca/ocsp.js';
import { ocspCacheHeaders, ocspExchangeEvents } from '../../../services/ca/ocsp-events.js';

const now = Date.UTC(2030, 0, 1, 12, 0, 0);
const answer = (over: Partial<OcspAnswer> = {}): OcspAnswer => ({
  der: new Uint8Array(40).fill(9),
  statuses: [{ serial: '54b8e1fa95063018d51b65c81bde2bd2', status: 'revoked', reason: 'keyCompromise' }],
  thisUpdate: new Date(now),
  nextUpdate: new Date(now + 3_600_000),
  malformed: false,
  ...over,
});

describe('OCSP exchange events and headers', () => {
  it('says who asked, about which serial, with or without a nonce, and what was answered', () => {
    const a = answer();
    const [asked, answered] = ocspExchangeEvents({ ...a, nonce: '0410ab' }, 'browser', 'POST');
    expect(asked).toMatchObject({
      kind: 'ocsp.request',
      summary: 'browser asks (POST) about serial 54b8e1fa9506… with a nonce',
      data: {
        serials: ['54b8e1fa95063018d51b65c81bde2bd2'],
        nonce: '0410ab',
        method: 'POST',
        from: 'browser',
      },
    });
    expect(answered).toMatchObject({
      kind: 'ocsp.response',
      summary: 'answers revoked (keyCompromise), valid until 2030-01-01T13:00:00.000Z',
      data: { statuses: a.statuses, thisUpdate: '2030-01-01T12:00:00.000Z', malformed: false },
    });
    const [again] = ocspExchangeEvents(a, 'resolver', 'GET');
    expect(again.summary).toBe('resolver asks (GET) about serial 54b8e1fa9506…');
  });

  it('says why a request was malformed', () => {
    const [asked, answered] = ocspExchangeEvents(
      answer({ statuses: [], malformed: true, reason: 'bytes after the request' }),
      'browser',
      'POST',
    );
    expect(asked.summary).toBe('browser asks (POST) about something unreadable');
    expect(answered.summary).toBe('answers malformedRequest: bytes after the request');
  });

  it('makes GET answers cacheable until nextUpdate, and nothing else (RFC 5019 §6)', () => {
    expect(ocspCacheHeaders(answer(), 'GET', now + 600_000)).toEqual({
      'Cache-Control': 'max-age=3000, public, no-transform, must-revalidate',
      'Last-Modified': 'Tue, 01 Jan 2030 12:00:00 GMT',
      Expires: 'Tue, 01 Jan 2030 13:00:00 GMT',
      ETag: `"${createHash('sha256').update(new Uint8Array(40).fill(9)).digest('hex').slice(0, 32)}"`,
    });
    expect(ocspCacheHeaders(answer(), 'POST', now)).toEqual({ 'Cache-Control': 'no-store' });
    expect(ocspCacheHeaders(answer({ malformed: true }), 'GET', now)).toEqual({
      'Cache-Control': 'no-store',
    });
  });

  it("never lets a cache keep an answer that echoes a nonce, nor give it the nonce-less answer's ETag", () => {
    const withNonce = ocspCacheHeaders(answer({ nonce: '0410ab' }), 'GET', now);
    expect(withNonce).toEqual({ 'Cache-Control': 'no-store' });
    // two answers that differ only before their last bytes (the responder certificate) differ in ETag
    const a = new Uint8Array(40).fill(9);
    const b = new Uint8Array(40).fill(9);
    b[0] = 1;
    expect(ocspCacheHeaders(answer({ der: a }), 'GET', now).ETag).not.toBe(
      ocspCacheHeaders(answer({ der: b }), 'GET', now).ETag,
    );
  });
});
