// Idle TCP connections cannot lock a lab DNS server out of TCP (RFC 7766 §6.2.3; block 127.48).
// Both servers share services/common/dns-server.ts: the authoritative ns-example and the resolver.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from '../../support/dig.js';
import { startTestLab, type TestLab } from '../../support/lab.js';

let lab: TestLab;
const held: Socket[] = [];

beforeAll(async () => {
  lab = await startTestLab({ block: '127.48', hosts: ['ns-root', 'ns-tld', 'ns-example', 'resolver'] });
});
afterAll(async () => {
  for (const s of held.splice(0)) s.destroy();
  await lab?.close();
});

/** Opens `n` TCP connections that never send a byte and never close, from five source addresses. */
async function holdIdle(address: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve) => {
      const s = connect({
        host: address,
        port: 53,
        localAddress: `127.48.9.${1 + (i % 5)}`,
        allowHalfOpen: true,
      });
      s.on('error', () => {}); // the server may reclaim (reset) it: that is the point
      s.once('connect', () => resolve());
      s.once('close', () => resolve());
      held.push(s);
    });
  }
}

describe('300 idle TCP connections (more than the 256 slots)', () => {
  for (const host of ['ns-example', 'resolver']) {
    it(`${host} still answers a TCP query`, async () => {
      const address = lab.address(host);
      await holdIdle(address, 300);
      const r = dig([
        `@${address}`,
        '+tcp',
        'www.example.test',
        'A',
        ...(host === 'resolver' ? [] : ['+norec']),
      ]);
      expect(r.status).toBe('NOERROR');
      expect(r.server).toMatch(/\(TCP\)/);
      expect(r.answer.at(-1)).toMatch(/IN A 127\.48\.2\.80$/);
    });
  }
});
