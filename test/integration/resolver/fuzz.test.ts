// The nameserver's fuzz test, at the resolver (block 127.51): malformed client queries get FORMERR
// or silence; the resolver stays up and still resolves afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from '../../support/dig.js';
import { fuzzTcp, fuzzUdp } from '../../support/dns-fuzz.js';
import { startTestLab, type TestLab } from '../../support/lab.js';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab({
    block: '127.51',
    hosts: ['ns-root', 'ns-tld', 'ns-example', 'resolver'],
    env: { LAB_QUERY_EVENTS: '0' },
  });
});
afterAll(async () => {
  await lab?.close();
});

describe('resolver under fuzzing', () => {
  it('survives 100,000 UDP packets and 300 TCP connections of garbage', async () => {
    const udp = await fuzzUdp('127.51.2.53', 53, 100_000, '127.51.1.10');
    const tcp = await fuzzTcp('127.51.2.53', 53, 300, '127.51.1.10');
    expect(udp.answers).toBeGreaterThan(0);
    expect(udp.malformedAnswers, udp.firstMalformed).toBe(0);
    expect(tcp.malformedAnswers, tcp.firstMalformed).toBe(0);
    expect(dig(['@127.51.2.53', 'www.example.test']).answer.at(-1)).toMatch(/IN A 127\.51\.2\.80$/);
  }, 120_000);
});
