import { describe, expect, it } from 'vitest';
import { AnswerCache } from '../../../services/common/dns/answer-cache.js';
import { decodeMessage, encodeMessage, makeFlags, makeOpt } from '../../../services/common/dns/codec.js';

const query = (id: number, name: string, opt = true) =>
  encodeMessage({
    id,
    type: 'query',
    flags: makeFlags({ rd: true }),
    questions: [{ name, type: 'A', class: 'IN' }],
    additionals: opt ? [makeOpt()] : [],
  });

describe('AnswerCache', () => {
  it('keys on everything but the ID, and writes the asker ID into a fresh copy', () => {
    const c = new AnswerCache<string>();
    const k1 = AnswerCache.key(query(1, 'www.example.test'), 'udp') as string;
    expect(AnswerCache.key(query(2, 'www.example.test'), 'udp')).toBe(k1);
    expect(AnswerCache.key(query(1, 'WWW.example.test'), 'udp')).not.toBe(k1); // 0x20 case is echoed
    expect(AnswerCache.key(query(1, 'www.example.test', false), 'udp')).not.toBe(k1); // no OPT
    expect(AnswerCache.key(query(1, 'www.example.test'), 'tcp')).not.toBe(k1); // no truncation on TCP
    const answer = encodeMessage({
      id: 1,
      type: 'response',
      questions: [{ name: 'www.example.test', type: 'A' }],
    });
    c.set(k1, answer, 'meta');
    const hit = c.get(k1, 0xbeef);
    expect(hit?.meta).toBe('meta');
    expect(decodeMessage(hit?.bytes as Buffer).id).toBe(0xbeef);
    expect(decodeMessage(answer).id).toBe(1); // the stored copy is untouched
  });

  it('does not cache runts or oversized queries, and stays bounded', () => {
    expect(AnswerCache.key(Buffer.alloc(12), 'udp')).toBeUndefined();
    expect(AnswerCache.key(Buffer.alloc(1000), 'udp')).toBeUndefined();
    const c = new AnswerCache<number>(10);
    for (let i = 0; i < 25; i++) c.set(`k${i}`, Buffer.alloc(12), i);
    expect(c.size).toBeLessThanOrEqual(10);
    c.clear();
    expect(c.size).toBe(0);
  });
});
