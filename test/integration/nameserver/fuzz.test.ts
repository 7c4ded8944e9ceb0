// 100,000 random and mutated packets at a nameserver (block 127.42): it stays up, never answers
// with a malformed packet, and answers a valid query afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from '../../support/dig.js';
import { fuzzTcp, fuzzUdp } from '../../support/dns-fuzz.js';
import { startTestLab, type TestLab } from '../../support/lab.js';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab({ block: '127.42', hosts: ['ns-example'], env: { LAB_QUERY_EVENTS: '0' } });
});
afterAll(async () => {
  await lab?.close();
});

describe('nameserver under fuzzing', () => {
  it('survives 100,000 UDP packets and 300 TCP connections of garbage', async () => {
    const udp = await fuzzUdp('127.42.2.13', 53, 100_000, '127.42.9.1');
    const tcp = await fuzzTcp('127.42.2.13', 53, 300, '127.42.9.1');
    expect(udp.sent).toBe(100_000);
    expect(udp.answers).toBeGreaterThan(0);
    expect(udp.malformedAnswers, udp.firstMalformed).toBe(0);
    expect(tcp.malformedAnswers, tcp.firstMalformed).toBe(0);
    const r = dig(['@127.42.2.13', 'cdn.example.test', '+norec']);
    expect(r.answer).toEqual(['cdn.example.test. 300 IN A 127.42.2.80']);
  }, 120_000);
});
