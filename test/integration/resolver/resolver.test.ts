// The resolver against real clients and a real reference: dig, and unbound asking the same lab
// servers (block 127.50).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from '../../support/dig.js';
import { startTestLab, type TestLab } from '../../support/lab.js';

const B = '127.50';
const RESOLVER = `${B}.2.53`;
const UNBOUND = `${B}.9.53`;
let lab: TestLab;
let unbound: ChildProcess;
const tmp = mkdtempSync(join(tmpdir(), 'resolver-test-'));

async function waitForDns(server: string) {
  for (let i = 0; i < 50; i++) {
    try {
      execFileSync('dig', [`@${server}`, '+time=1', '+tries=1', 'ns-root.test'], { stdio: 'ignore' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

beforeAll(async () => {
  lab = await startTestLab({ block: B, hosts: ['ns-root', 'ns-tld', 'ns-example', 'resolver'] });
  writeFileSync(join(tmp, 'root.hints'), `. 3600000 NS ns-root.test.\nns-root.test. 3600000 A ${B}.2.11\n`);
  writeFileSync(
    join(tmp, 'unbound.conf'),
    `server:
  interface: ${UNBOUND}
  outgoing-interface: ${UNBOUND}
  do-ip6: no
  do-not-query-localhost: no
  # allow_snoop: RD=0 questions are answered from the cache, as the lab's resolver does
  access-control: 127.0.0.0/8 allow_snoop
  root-hints: "${tmp}/root.hints"
  local-zone: "test." nodefault
  module-config: "iterator"
  username: ""
  chroot: ""
  directory: "${tmp}"
  pidfile: ""
  use-syslog: no
remote-control:
  control-enable: no
`,
  );
  unbound = spawn('unbound', ['-d', '-c', join(tmp, 'unbound.conf')], { stdio: 'ignore' });
  await waitForDns(UNBOUND);
});
afterAll(async () => {
  unbound?.kill();
  await lab?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('recursive resolution', () => {
  it('answers with RA, walking root, TLD and domain once each on a cold cache', async () => {
    await lab.control('resolver', 'dns.flush', {});
    const r = dig([`@${RESOLVER}`, 'www.example.test']);
    expect(r.flags).toEqual(expect.arrayContaining(['qr', 'rd', 'ra']));
    expect(r.flags).not.toContain('aa');
    expect(r.answer.map((a) => a.split(' ').slice(3).join(' '))).toEqual([
      'CNAME cdn.example.test.',
      `A ${B}.2.80`,
    ]);
    const answer = await lab.waitFor(
      (e) => e.host === 'resolver' && e.kind === 'dns.answer' && e.data?.name === 'www.example.test',
    );
    const walk = lab
      .events('resolver')
      .filter((e) => e.kind === 'dns.upstream' && e.parent === answer.parent);
    expect(walk.map((e) => e.data?.server)).toEqual(['ns-root', 'ns-tld', 'ns-example']);
  });

  it('answers the second time from the cache: a lower TTL and no upstream query', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const before = lab.events('resolver').filter((e) => e.kind === 'dns.upstream').length;
    const r = dig([`@${RESOLVER}`, 'www.example.test']);
    const ttl = Number(r.answer[0].split(' ')[1]);
    expect(ttl).toBeLessThan(300);
    expect(ttl).toBeGreaterThan(290);
    await lab.waitFor((e) => e.host === 'resolver' && e.kind === 'dns.answer' && e.data?.source === 'cache');
    expect(lab.events('resolver').filter((e) => e.kind === 'dns.upstream').length).toBe(before);
  });

  const names: [string, string][] = [
    ['www.example.test', 'A'],
    ['cdn.example.test', 'A'],
    ['shop.example.test', 'A'],
    ['docs.example.test', 'A'],
    ['example.test', 'MX'],
    ['example.test', 'TXT'],
    ['mail.example.test', 'MX'],
    ['tpyo.example.test', 'A'],
    ['nothing.test', 'A'],
    ['x.wild.example.test', 'A'],
    ['www.xn--sjsten-xxa.test', 'A'],
    ['_https._tcp.example.test', 'SRV'],
    ['big.example.test', 'TXT'],
  ];
  const strip = (rr: string) =>
    rr
      .split(' ')
      .filter((_, i) => i !== 1)
      .join(' ')
      .toLowerCase();
  for (const [name, type] of names) {
    it(`answers ${name} ${type} as unbound does`, () => {
      const ours = dig([`@${RESOLVER}`, name, type]);
      const theirs = dig([`@${UNBOUND}`, name, type]);
      expect(ours.status).toBe(theirs.status);
      expect(ours.answer.map(strip).sort()).toEqual(theirs.answer.map(strip).sort());
      expect(ours.authority.map((a) => a.split(' ')[3])).toEqual(
        theirs.authority.map((a) => a.split(' ')[3]),
      );
    });
  }

  it('refuses recursion to a client outside the lab (127.99.0.1)', () => {
    expect(dig([`@${RESOLVER}`, '-b', '127.99.0.1', 'www.example.test']).status).toBe('REFUSED');
  });

  it('answers FORMERR to a query with two questions', async () => {
    const { default: dnsPacket } = await import('dns-packet');
    const { createSocket } = await import('node:dgram');
    const q = dnsPacket.encode({
      id: 9,
      type: 'query',
      flags: 0x100,
      questions: [
        { name: 'a.test', type: 'A' },
        { name: 'b.test', type: 'A' },
      ],
    });
    const sock = createSocket('udp4');
    const answer = await new Promise<Buffer>((resolve) => {
      sock.on('message', (m) => resolve(m));
      sock.bind(0, '127.0.0.1', () => sock.send(q, 53, RESOLVER));
    });
    sock.close();
    expect(answer.readUInt16BE(2) & 0xf).toBe(1);
  });

  it('serves a cached name stale with EDE 3 when its nameserver is down, and fails others with EDE 22', async () => {
    dig([`@${RESOLVER}`, 'short.example.test']);
    await lab.stop('ns-example');
    try {
      await new Promise((r) => setTimeout(r, 3200));
      const r = dig([`@${RESOLVER}`, 'short.example.test']);
      expect(r.status).toBe('NOERROR');
      expect(r.answer[0]).toMatch(/^short\.example\.test\. 30 IN A /);
      expect(r.ede.join(' ')).toMatch(/^3 \(Stale Answer\)/);
      const never = dig([`@${RESOLVER}`, 'never.example.test']);
      expect(never.status).toBe('SERVFAIL');
      expect(never.ede.join(' ')).toMatch(/^22 \(No Reachable Authority\)/);
    } finally {
      await lab.start('ns-example');
    }
  });

  it('forgets a name on dns.flush and lists its cache with TTLs', async () => {
    dig([`@${RESOLVER}`, 'cdn.example.test']);
    const rows = (await lab.control('resolver', 'dns.cache', {})) as {
      name: string;
      type: string;
      ttl: number;
    }[];
    expect(rows.find((r) => r.name === 'cdn.example.test' && r.type === 'A')?.ttl).toBeGreaterThan(0);
    await lab.control('resolver', 'dns.flush', { name: 'cdn.example.test' });
    const after = (await lab.control('resolver', 'dns.cache', {})) as { name: string; type: string }[];
    expect(after.some((r) => r.name === 'cdn.example.test' && r.type === 'A')).toBe(false);
  });
});

describe('right answers from the cache (issue 17, first part)', () => {
  it('answers mail.example.test A after a CNAME query for it got NODATA, as unbound does (RFC 2308 §5)', async () => {
    await lab.control('resolver', 'dns.flush', {});
    const cname = dig([`@${RESOLVER}`, 'mail.example.test', 'CNAME']);
    expect([cname.status, cname.answer.length]).toEqual(['NOERROR', 0]);
    const ours = dig([`@${RESOLVER}`, 'mail.example.test', 'A']);
    const theirs = dig([`@${UNBOUND}`, 'mail.example.test', 'A']);
    expect(ours.answer).toEqual([`mail.example.test. 300 IN A ${B}.2.80`]);
    expect(ours.answer.map((a) => a.split(' ')[4])).toEqual(theirs.answer.map((a) => a.split(' ')[4]));
  });

  it('answers SERVFAIL with an empty answer to a CNAME loop inside one zone, as unbound does', async () => {
    for (const [from, to] of [
      ['loop1', 'loop2'],
      ['loop2', 'loop1'],
    ])
      await lab.control('ns-example', 'dns.set', {
        name: `${from}.example.test`,
        type: 'CNAME',
        value: `${to}.example.test.`,
      });
    try {
      for (const server of [RESOLVER, UNBOUND]) {
        const r = dig([`@${server}`, 'loop1.example.test', 'A']);
        expect([server, r.status, r.answer]).toEqual([server, 'SERVFAIL', []]);
      }
    } finally {
      for (const n of ['loop1', 'loop2'])
        await lab.control('ns-example', 'dns.rm', { name: `${n}.example.test` });
    }
  });

  it('serves a TTL 1 record from the cache within its second (RFC 1035 §6.1.2)', async () => {
    await lab.control('ns-example', 'dns.set', {
      name: 'one.example.test',
      type: 'A',
      value: `${B}.2.80`,
      ttl: 1,
    });
    try {
      await lab.control('resolver', 'dns.flush', { name: 'one.example.test' });
      const first = dig([`@${RESOLVER}`, 'one.example.test', 'A']);
      const second = dig([`@${RESOLVER}`, 'one.example.test', 'A']);
      expect(first.answer).toEqual([`one.example.test. 1 IN A ${B}.2.80`]);
      expect(second.answer).toEqual(first.answer);
      // the second dig comes milliseconds after the first: answered from the cache, not upstream
      await lab.waitFor(
        (e) => e.kind === 'dns.answer' && e.data?.name === 'one.example.test' && e.data?.source === 'cache',
        2000,
      );
    } finally {
      await lab.control('ns-example', 'dns.rm', { name: 'one.example.test' });
    }
  });
});

describe('protocol fidelity, compared with unbound (issue 17)', () => {
  const same = (args: string[]) => {
    const ours = dig([`@${RESOLVER}`, ...args]);
    const theirs = dig([`@${UNBOUND}`, ...args]);
    const view = (r: ReturnType<typeof dig>) => ({
      status: r.status,
      flags: r.flags.sort(),
      answer: r.answer.map((a) =>
        a
          .split(' ')
          .filter((_, i) => i !== 1)
          .join(' '),
      ),
      authority: r.authority.map((a) =>
        a
          .split(' ')
          .filter((_, i) => i !== 1)
          .join(' '),
      ),
      edns: /; EDNS: version: \d+, flags:([a-z ]*);/.exec(r.raw)?.[1].trim(),
    });
    return { ours: view(ours), theirs: view(theirs), raw: ours };
  };

  it('answers CH TXT hostname.bind itself and REFUSES other CH and HS questions (RFC 1035 §3.2.4, RFC 4892)', () => {
    const id = dig([`@${RESOLVER}`, 'hostname.bind', 'CH', 'TXT']);
    expect(id.answer).toEqual(['hostname.bind. 0 CH TXT "resolver"']);
    for (const args of [
      ['www.example.test', 'CH', 'A'],
      ['www.example.test', 'HS', 'A'],
      ['version.bind', 'CH', 'A'],
    ]) {
      const r = same(args);
      expect(r.ours).toEqual(r.theirs);
      expect(r.ours.status).toBe('REFUSED');
    }
    const up = lab
      .events('resolver')
      .filter((e) => e.kind === 'dns.upstream' && /bind|server/.test(String(e.data?.name)));
    expect(up).toEqual([]); // never asked upstream
  });

  it('answers RD=0 from the cache, and with a referral to the closest cut it knows on a miss (RFC 1034 §4.3.1)', () => {
    dig([`@${RESOLVER}`, 'mail.example.test']);
    dig([`@${UNBOUND}`, 'mail.example.test']);
    const before = lab.events('resolver').filter((e) => e.kind === 'dns.upstream').length;
    for (const name of ['mail.example.test', 'not-cached.example.test']) {
      const r = same(['+norec', name, 'A']);
      expect(r.ours).toEqual(r.theirs);
    }
    expect(lab.events('resolver').filter((e) => e.kind === 'dns.upstream').length).toBe(before);
  });

  it('asks the parent for DS though the child delegation is cached (RFC 4035 §4.2)', () => {
    dig([`@${RESOLVER}`, 'www.example.test']);
    const r = same(['example.test', 'DS']);
    expect(r.ours).toEqual(r.theirs);
    expect(r.ours.authority[0]).toMatch(/^test\. IN SOA ns-tld\.test\./);
  });

  it("passes on the authority's RFC 8482 answer to ANY", () => {
    // a name neither has cached: unbound would otherwise answer ANY with the RRsets in its cache
    // (RFC 8482 §4.1 allows any subset); the lab's resolver passes on the authority's answer
    const r = same(['web2.example.test', 'ANY']);
    expect(r.ours).toEqual(r.theirs);
    expect(r.ours.answer).toEqual(['web2.example.test. IN HINFO "RFC8482" ""']);
  });

  it('copies the DO bit into its answer (RFC 3225 §3)', () => {
    const r = same(['+dnssec', 'cdn.example.test', 'A']);
    expect(r.ours).toEqual(r.theirs);
    expect(r.ours.edns).toBe('do');
  });

  it('refuses AXFR and IXFR, as unbound does (RFC 5936 §6)', async () => {
    const { default: dnsPacket } = await import('dns-packet');
    const { connect } = await import('node:net');
    for (const type of ['AXFR', 'IXFR'] as const) {
      const ask = (server: string) =>
        new Promise<number>((resolve, reject) => {
          const s = connect({ host: server, port: 53, localAddress: '127.0.0.1' }, () =>
            s.write(
              dnsPacket.streamEncode({ id: 5, type: 'query', questions: [{ name: 'example.test', type }] }),
            ),
          );
          s.on('data', (d) => {
            resolve(dnsPacket.streamDecode(d).flags ?? -1);
            s.destroy();
          });
          s.on('error', reject);
        });
      const [ours, theirs] = [await ask(RESOLVER), await ask(UNBOUND)];
      expect([type, ours & 0xf]).toEqual([type, 5]);
      expect(ours).toBe(theirs);
    }
  });
});

describe('events of answers served again from their encoded bytes', () => {
  it('tells a repeated cached question its own dns.query, dns.cache hit and dns.answer, under a new span', async () => {
    const answersFor = (from: number) =>
      lab
        .events('resolver')
        .slice(from)
        .filter(
          (e) => e.kind === 'dns.answer' && e.data?.name === 'cdn.example.test' && e.data?.type === 'AAAA',
        );
    const first = lab.events('resolver').length;
    dig([`@${RESOLVER}`, 'cdn.example.test', 'AAAA']); // now cached
    await lab.waitFor(() => answersFor(first).length === 1); // its events are written in batches
    const before = lab.events('resolver').length;
    for (let i = 0; i < 3; i++) dig([`@${RESOLVER}`, 'cdn.example.test', 'AAAA']);
    await lab.waitFor(() => answersFor(before).length === 3);
    const evs = lab.events('resolver').slice(before);
    const queries = evs.filter((e) => e.kind === 'dns.query');
    expect(queries).toHaveLength(3);
    expect(new Set(queries.map((q) => q.span)).size).toBe(3);
    for (const q of queries) {
      const children = evs
        .filter((e) => e.parent === q.span)
        .map((e) => [e.kind, e.data?.result ?? e.data?.source]);
      expect(children).toEqual([
        ['dns.cache', 'hit'],
        ['dns.answer', 'cache'],
      ]);
      expect(q.data?.id).toEqual(expect.any(Number));
    }
    expect(evs.filter((e) => e.kind === 'dns.upstream')).toEqual([]);
  });
});

describe('spoofing resistance (the poisoning scenario action)', () => {
  it.skipIf(process.getuid?.() !== 0)(
    'drops forged answers injected from ns-example:53 while it waits, and caches the real records',
    async () => {
      const { actions, FORGED_ADDRESS } = await import('../../../lab-cli/actions/dns-poison.js');
      const events = lab.events.bind(lab);
      const ctx = {
        runtime: {
          name: 'local',
          settings: lab.settings,
          control: (h: string, c: string, a?: Record<string, unknown>) => lab.control(h, c, a),
        },
        runDir: tmp,
        scenario: 'poisoning',
        note: () => undefined,
        vars: new Map<string, unknown>(),
        events: async () => events(),
      } as unknown as Parameters<(typeof actions)[0]['run']>[1];
      dig([`@${RESOLVER}`, 'www.example.test']); // the way to example.test is known
      const action = actions[0];
      const out = await action.run(action.schema.parse({ guesses: 200, delay: 300 }), ctx);
      expect(out.detail).toMatch(/dropped \d+/);
      expect(out.ok).toBe(true);
      const upstream = lab
        .events('resolver')
        .filter((e) => e.kind === 'dns.upstream' && e.data?.name === 'www.example.test')
        .at(-1);
      expect(upstream?.data?.dropped).toBeGreaterThan(0);
      expect(upstream?.data?.outcome).toBe('answer');
      const after = dig([`@${RESOLVER}`, 'www.example.test']);
      expect(after.answer.join(' ')).not.toContain(FORGED_ADDRESS);
      expect(after.answer.at(-1)).toMatch(/IN A 127\.50\.2\.80$/);
    },
    20_000,
  );
});
