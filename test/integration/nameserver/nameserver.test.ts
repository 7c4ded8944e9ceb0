// The nameserver checked by real DNS software: dig, named-checkzone and unbound (block 127.41).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originOfFile, renderZoneFile, ZONES_BY_HOST } from '../../../services/nameserver/zones.js';
import { dig } from '../../support/dig.js';
import { startTestLab, type TestLab } from '../../support/lab.js';

let lab: TestLab;
// integrity checks inside the zone only: -i full would look lab names up through the machine's
// resolver (getaddrinfo), outside the lab, and warn that they do not resolve there
const CHECKZONE = ['-i', 'local', '-k', 'fail', '-n', 'fail'];
const tmp = mkdtempSync(join(tmpdir(), 'ns-test-'));

beforeAll(async () => {
  lab = await startTestLab({ block: '127.41', hosts: ['ns-root', 'ns-tld', 'ns-example'], ipv6: true });
});
afterAll(async () => {
  await lab?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('answers dig accepts', () => {
  it('ns-root refers www.example.test to test. with glue', () => {
    const r = dig(['@127.41.2.11', 'www.example.test', 'A', '+norec']);
    expect(r.status).toBe('NOERROR');
    expect(r.flags).not.toContain('aa');
    expect(r.answer).toEqual([]);
    expect(r.authority).toEqual(['test. 86400 IN NS ns-tld.test.']);
    expect(r.additional).toContain('ns-tld.test. 86400 IN A 127.41.2.12');
  });

  it('ns-example answers authoritatively with the CNAME chain', () => {
    const r = dig(['@127.41.2.13', 'www.example.test', 'A', '+norec']);
    expect(r.flags).toContain('aa');
    expect(r.answer).toEqual([
      'www.example.test. 300 IN CNAME cdn.example.test.',
      'cdn.example.test. 300 IN A 127.41.2.80',
    ]);
  });

  it('NXDOMAIN and NODATA carry the SOA', () => {
    const nx = dig(['@127.41.2.13', 'tpyo.example.test', 'A', '+norec']);
    expect(nx.status).toBe('NXDOMAIN');
    expect(nx.authority[0]).toMatch(
      /^example\.test\. 60 IN SOA ns-example\.test\. hostmaster\.example\.test\. \d+ 3600 600 86400 60$/,
    );
    const nodata = dig(['@127.41.2.13', 'v6only.example.test', 'A', '+norec']);
    expect(nodata.status).toBe('NOERROR');
    expect(nodata.answer).toEqual([]);
    expect(nodata.authority[0]).toMatch(/IN SOA/);
  });

  it('a large TXT over 512-byte UDP comes back TC=1, then whole over TCP', () => {
    const udp = dig(['@127.41.2.13', 'big.example.test', 'TXT', '+norec', '+bufsize=512', '+ignore']);
    expect(udp.flags).toContain('tc');
    expect(udp.answer).toEqual([]);
    const tcp = dig(['@127.41.2.13', 'big.example.test', 'TXT', '+norec', '+tcp']);
    expect(tcp.flags).not.toContain('tc');
    expect(tcp.answer).toHaveLength(6); // the zone file writes one record twice (RFC 2181 §5)
    expect(tcp.server).toMatch(/\(TCP\)/);
  });

  it('answers several queries on one TCP connection', () => {
    const raw = execFileSync(
      'dig',
      ['@127.41.2.13', '+tcp', '+keepopen', '+norec', '+short', 'cdn.example.test', 'ca.test', 'search.test'],
      {
        encoding: 'utf8',
      },
    );
    expect(raw.trim().split('\n')).toEqual(['127.41.2.80', '127.41.2.20', '127.41.2.80']);
  });

  it('refuses names outside its zones and echoes the question letter case', () => {
    expect(dig(['@127.41.2.13', 'www.example.com', '+norec']).status).toBe('REFUSED');
    expect(dig(['@127.41.2.13', 'CdN.eXaMpLe.TeSt', '+norec']).answer[0]).toMatch(/^CdN\.eXaMpLe\.TeSt\. /);
  });

  it('reverse-maps lab addresses (dig -x)', () => {
    expect(dig(['@127.41.2.13', '-x', '127.41.2.80', '+norec']).answer).toEqual([
      '80.2.41.127.in-addr.arpa. 300 IN PTR proxy.test.',
    ]);
  });

  it('reverse-maps lab IPv6 addresses under ip6.arpa (RFC 3596 §2.5), delegated from the root', () => {
    // block 127.41's addresses are fd7f:41:N::M (services/common/settings.ts ula)
    const r = dig(['@127.41.2.13', '-x', 'fd7f:41:2::80', '+norec']);
    expect(r.flags).toContain('aa');
    const nibbles = 'fd7f0041000200000000000000000080'; // fd7f:41:2::80 written out
    expect(r.answer).toEqual([`${[...nibbles].reverse().join('.')}.ip6.arpa. 300 IN PTR proxy.test.`]);
    expect(dig(['@127.41.2.11', '-x', 'fd7f:41:2::80', '+norec']).authority).toEqual([
      '1.4.0.0.f.7.d.f.ip6.arpa. 86400 IN NS ns-example.test.',
    ]);
  });

  it('serves an RRset as a set (RFC 2181 §5) and ca.test only from its own zone', () => {
    expect(dig(['@127.41.2.13', 'big.example.test', 'TXT', '+norec', '+tcp']).answer).toHaveLength(6);
    // test. delegates ca.test: a referral, with no occluded A record at the cut
    const r = dig(['@127.41.2.12', 'ca.test', 'A', '+norec']);
    expect(r.answer).toEqual([]);
    expect(r.authority).toEqual(['ca.test. 86400 IN NS ns-example.test.']);
    expect(dig(['@127.41.2.13', 'ca.test', 'A', '+norec']).answer).toEqual(['ca.test. 300 IN A 127.41.2.20']);
  });

  it('speaks EDNS(0): OPT echoed, BADVERS for version 1, NOTIMP for other opcodes', () => {
    expect(dig(['@127.41.2.13', 'cdn.example.test', '+norec']).raw).toMatch(
      /EDNS: version: 0, flags:; udp: 1232/,
    );
    expect(dig(['@127.41.2.13', 'cdn.example.test', '+norec', '+edns=1', '+noednsneg']).status).toBe(
      'BADVERS',
    );
    expect(dig(['@127.41.2.13', 'cdn.example.test', '+opcode=status']).status).toBe('NOTIMP');
  });

  it('changes a record through the control channel, reflected at once, serial bumped', async () => {
    const before = dig(['@127.41.2.13', 'example.test', 'SOA', '+short']).raw.trim().split(' ')[2];
    await lab.control('ns-example', 'dns.set', {
      name: 'late.example.test',
      type: 'A',
      value: '127.41.2.81',
      ttl: 7,
    });
    expect(dig(['@127.41.2.13', 'late.example.test', '+norec']).answer).toEqual([
      'late.example.test. 7 IN A 127.41.2.81',
    ]);
    const after = dig(['@127.41.2.13', 'example.test', 'SOA', '+short']).raw.trim().split(' ')[2];
    expect(Number(after)).toBe(Number(before) + 1);
    await expect(
      lab.control('ns-example', 'dns.set', { name: 'x.example.test', type: 'A', value: 'nope' }),
    ).rejects.toThrow(/IPv4/);
    expect(dig(['@127.41.2.13', 'example.test', 'SOA', '+short']).raw.trim().split(' ')[2]).toBe(after);
    await lab.control('ns-example', 'dns.rm', { name: 'late.example.test' });
    expect(dig(['@127.41.2.13', 'late.example.test', '+norec']).status).toBe('NXDOMAIN');
    // a plan address is written as this runtime's address of it
    await lab.control('ns-example', 'dns.set', {
      name: 'plan.example.test',
      type: 'A',
      value: '172.28.2.81',
    });
    expect(dig(['@127.41.2.13', 'plan.example.test', '+norec']).answer).toEqual([
      'plan.example.test. 300 IN A 127.41.2.81',
    ]);
    await lab.control('ns-example', 'dns.rm', { name: 'plan.example.test' });
  });

  it('tells the lab what it did: dns.query then dns.referral with the records', async () => {
    dig(['@127.41.2.12', 'cdn.example.test', '+norec']);
    const ev = await lab.waitFor(
      (e) => e.host === 'ns-tld' && e.kind === 'dns.referral' && e.data?.name === 'cdn.example.test',
    );
    expect(ev.data?.authority).toEqual(['example.test. 86400 IN NS ns-example.test.']);
    expect(ev.parent).toBeDefined();
    expect(lab.events('ns-tld').some((e) => e.kind === 'dns.query' && e.span === ev.parent)).toBe(true);
  });
});

describe('zone transfer (RFC 5936) and priming (RFC 8109)', () => {
  it('dig AXFR example.test prints the zone, SOA first and last, and named-checkzone reads the dump', () => {
    const raw = execFileSync('dig', ['@127.41.2.13', 'AXFR', 'example.test', '+nocookie'], {
      encoding: 'utf8',
    });
    const records = raw.split('\n').filter((l) => l && !l.startsWith(';'));
    expect(records[0]).toMatch(/^example\.test\.\s+300\s+IN\s+SOA\s/);
    expect(records.at(-1)).toBe(records[0]);
    expect(records.some((l) => /^cdn\.example\.test\.\s+300\s+IN\s+A\s+127\.41\.2\.80$/.test(l))).toBe(true);
    const path = join(tmp, 'example.test.axfr');
    writeFileSync(path, raw);
    const out = execFileSync('named-checkzone', [...CHECKZONE, 'example.test', path], {
      encoding: 'utf8',
    });
    expect(out.trim().split('\n')).toEqual([expect.stringMatching(/loaded serial \d+$/), 'OK']);
  });

  it('AXFR is REFUSED to a client outside the lab, NOTAUTH below a zone apex', () => {
    const outside = execFileSync('dig', ['-b', '127.41.9.7', '@127.41.2.13', 'AXFR', 'example.test'], {
      encoding: 'utf8',
    });
    expect(outside).toMatch(/Transfer failed/);
    expect(outside).not.toMatch(/IN\s+SOA/);
    const below = execFileSync('dig', ['@127.41.2.13', 'AXFR', 'www.example.test'], { encoding: 'utf8' });
    expect(below).toMatch(/Transfer failed/);
  });

  it('AXFR over UDP is NOTIMP, as NSD answers', async () => {
    // dig always transfers over TCP: the query by hand (ID 0x4242, QTYPE 252)
    const qname = Buffer.from([7, ...Buffer.from('example'), 4, ...Buffer.from('test'), 0]);
    const msg = Buffer.concat([
      Buffer.from([0x42, 0x42, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
      qname,
      Buffer.from([0, 252, 0, 1]),
    ]);
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const sock = createSocket('udp4');
      const t = setTimeout(() => reject(new Error('no answer')), 3000);
      sock.on('message', (m) => {
        clearTimeout(t);
        sock.close();
        resolve(m);
      });
      sock.send(msg, 53, '127.41.2.13');
    });
    expect(answer.readUInt16BE(0)).toBe(0x4242);
    expect(answer.readUInt16BE(2) & 0xf).toBe(4); // NOTIMP
    expect(answer.readUInt16BE(6)).toBe(0); // no records
  });

  it("ns-root's priming answer (. NS) carries the root servers' addresses", () => {
    const r = dig(['@127.41.2.11', '.', 'NS', '+norec']);
    expect(r.flags).toContain('aa');
    expect(r.answer).toEqual(['. 86400 IN NS ns-root.test.']);
    expect(r.additional).toContain('ns-root.test. 86400 IN A 127.41.2.11');
  });
});

describe('zone files', () => {
  for (const [host, files] of Object.entries(ZONES_BY_HOST)) {
    for (const file of files) {
      it(`${file} (${host}) passes named-checkzone as rendered`, () => {
        const path = join(tmp, `${file}.rendered`);
        writeFileSync(path, renderZoneFile(file, lab.settings));
        const origin = originOfFile(file, lab.settings) || '.';
        const out = execFileSync('named-checkzone', [...CHECKZONE, origin, path], {
          encoding: 'utf8',
        });
        // no warning at all: only the serial line and OK
        expect(out.trim().split('\n')).toEqual([expect.stringMatching(/loaded serial \d+$/), 'OK']);
      });
    }
  }
});

describe('a real recursive resolver', () => {
  let unbound: ChildProcess;
  beforeAll(async () => {
    const dir = join(tmp, 'unbound');
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(
      join(dir, 'root.hints'),
      '. 3600000 NS ns-root.test.\nns-root.test. 3600000 A 127.41.2.11\n',
    );
    writeFileSync(
      join(dir, 'unbound.conf'),
      `server:
  interface: 127.41.9.53
  outgoing-interface: 127.41.9.53
  port: 53
  do-ip6: no
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  root-hints: "${dir}/root.hints"
  local-zone: "test." nodefault
  module-config: "iterator"
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: ""
  use-syslog: no
  verbosity: 0
remote-control:
  control-enable: no
`,
    );
    unbound = spawn('unbound', ['-d', '-c', join(dir, 'unbound.conf')], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      try {
        execFileSync('dig', ['@127.41.9.53', '+time=1', '+tries=1', 'ns-root.test'], { stdio: 'ignore' });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  afterAll(() => {
    unbound?.kill();
  });

  it('unbound resolves www.example.test through root, TLD and domain', async () => {
    const r = dig(['@127.41.9.53', 'www.example.test', 'A']);
    expect(r.status).toBe('NOERROR');
    expect(r.answer.map((a) => a.split(' ').slice(3).join(' '))).toEqual([
      'CNAME cdn.example.test.',
      'A 127.41.2.80',
    ]);
    for (const host of ['ns-root', 'ns-tld', 'ns-example']) {
      await lab.waitFor((e) => e.host === host && e.kind === 'dns.query' && e.data?.from === '127.41.9.53');
    }
  });

  it('unbound gets NXDOMAIN for a typo', () => {
    expect(dig(['@127.41.9.53', 'wwww.example.test', 'A']).status).toBe('NXDOMAIN');
  });
});
