// What services/common/dns/server.ts gives every lab DNS server, checked on the authoritative
// ns-example and on the resolver with real clients (block 127.48): TCP slots that idle connections
// cannot exhaust (RFC 7766), EDNS errors and the DO bit (RFC 6891, RFC 3225).
import { createSocket } from 'node:dgram';
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

/** One raw UDP exchange; resolves with the answer's bytes. */
function udpExchange(address: string, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error(`no answer from ${address}`));
    }, 3000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.send(msg, 53, address);
  });
}

/** A query for www.example.test A (RD set) with these additional records, byte by byte. */
function queryWith(...additional: Buffer[]): Buffer {
  const header = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, additional.length]);
  const qname = Buffer.from([
    3,
    ...Buffer.from('www'),
    7,
    ...Buffer.from('example'),
    4,
    ...Buffer.from('test'),
    0,
  ]);
  return Buffer.concat([header, qname, Buffer.from([0, 1, 0, 1]), ...additional]);
}

/** An OPT record (RFC 6891 §6.1.2): the root as owner unless told, then the raw RDATA. */
function opt(o: { owner?: number[]; version?: number; rdata?: number[] } = {}): Buffer {
  const rdata = Buffer.from(o.rdata ?? []);
  const fixed = Buffer.from([
    0,
    41,
    0x04,
    0xd0,
    0,
    o.version ?? 0,
    0,
    0,
    rdata.length >> 8,
    rdata.length & 0xff,
  ]);
  return Buffer.concat([Buffer.from(o.owner ?? [0]), fixed, rdata]);
}

const rcodeOf = (m: Buffer) => m.readUInt16BE(2) & 0xf;
const servers = ['ns-example', 'resolver'];

describe('EDNS (RFC 6891 §6.1.1, RFC 3225 §3)', () => {
  for (const host of servers) {
    it(`${host} answers FORMERR to two OPT records, a non-root OPT owner, an option past the end`, async () => {
      const address = lab.address(host);
      for (const bad of [
        queryWith(opt(), opt()),
        queryWith(opt({ owner: [1, 0x78, 0] })),
        queryWith(opt({ rdata: [0, 3, 0, 10, 1, 2] })),
      ]) {
        const r = await udpExchange(address, bad);
        expect(r.readUInt16BE(0)).toBe(0x1234);
        expect(rcodeOf(r)).toBe(1); // FORMERR, a bare header as NSD sends it
      }
      // the same query with one well-formed OPT is answered
      expect(rcodeOf(await udpExchange(address, queryWith(opt())))).toBe(0);
    });

    it(`${host} answers BADVERS to EDNS version 1 and copies the DO bit (dig +dnssec)`, () => {
      const rd = host === 'resolver' ? [] : ['+norec'];
      const v1 = dig([`@${lab.address(host)}`, 'www.example.test', '+edns=1', '+noednsneg', ...rd]);
      expect(v1.status).toBe('BADVERS');
      expect(v1.raw).toMatch(/EDNS: version: 0,/);
      const withDo = dig([`@${lab.address(host)}`, 'www.example.test', '+dnssec', ...rd]);
      expect(withDo.status).toBe('NOERROR');
      expect(withDo.raw).toMatch(/EDNS: version: 0, flags: do;/);
      const without = dig([`@${lab.address(host)}`, 'www.example.test', ...rd]);
      expect(without.raw).toMatch(/EDNS: version: 0, flags:;/);
    });
  }
});

describe('NSID (RFC 5001) and DNS cookies (RFC 7873, RFC 9018)', () => {
  for (const host of servers) {
    const rd = host === 'resolver' ? [] : ['+norec'];

    it(`${host} names itself to dig +nsid, and only when asked`, () => {
      const r = dig([`@${lab.address(host)}`, 'www.example.test', '+nsid', ...rd]);
      expect(r.raw).toMatch(new RegExp(`; NSID: [0-9a-f ]+ \\("${host}"\\)`));
      expect(dig([`@${lab.address(host)}`, 'www.example.test', ...rd]).raw).not.toMatch(/NSID/);
    });

    it(`${host} returns a server cookie that dig then finds good`, () => {
      const first = dig([`@${lab.address(host)}`, 'www.example.test', '+cookie', ...rd]);
      const cookie = /; COOKIE: ([0-9a-f]{48})/.exec(first.raw)?.[1];
      expect(cookie).toBeDefined();
      const again = dig([`@${lab.address(host)}`, 'www.example.test', `+cookie=${cookie}`, ...rd]);
      expect(again.status).toBe('NOERROR');
      expect(again.raw).toMatch(/; COOKIE: [0-9a-f]{48} \(good\)/);
      expect(again.raw).not.toMatch(/BADCOOKIE/);
    });

    it(`${host} answers BADCOOKIE to a server cookie it did not make over UDP, and dig retries (RFC 7873 §5.2.4)`, () => {
      const forged = `0102030405060708${'01000000'}${'00'.repeat(12)}`;
      const r = dig([`@${lab.address(host)}`, 'www.example.test', `+cookie=${forged}`, ...rd]);
      expect(r.raw).toMatch(/;; BADCOOKIE, retrying\./);
      expect(r.status).toBe('NOERROR');
      expect(r.raw).toMatch(/; COOKIE: 0102030405060708[0-9a-f]{32} \(good\)/);
      const tcp = dig([`@${lab.address(host)}`, 'www.example.test', `+cookie=${forged}`, '+tcp', ...rd]);
      expect(tcp.raw).not.toMatch(/BADCOOKIE/); // the TCP handshake proved the address
      expect(tcp.status).toBe('NOERROR');
    });

    it(`${host} answers FORMERR to a COOKIE option of a length no cookie has (RFC 7873 §5.2.2)`, async () => {
      const r = await udpExchange(lab.address(host), queryWith(opt({ rdata: [0, 10, 0, 4, 1, 2, 3, 4] })));
      expect(rcodeOf(r)).toBe(1);
    });
  }
});

describe('name compression (RFC 1035 §4.1.4)', () => {
  for (const host of servers) {
    it(`${host} answers shop.example.test A (three CNAMEs) in 118 bytes, as unbound does, not 221`, () => {
      const rd = host === 'resolver' ? [] : ['+norec'];
      const r = dig([`@${lab.address(host)}`, 'shop.example.test', 'A', ...rd]);
      expect(r.answer).toHaveLength(4);
      expect(r.raw).toMatch(/MSG SIZE {2}rcvd: 118\n/);
    });
  }
});

describe('300 idle TCP connections (more than the 256 slots)', () => {
  for (const host of servers) {
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
