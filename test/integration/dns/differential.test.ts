// The lab's resolver against unbound (Debian's), both resolving through the lab's own root in the same
// run (block 127.49): every name × type of the lab's zones and the protocol's edges, sent to both, in
// two orders (targets first, then CNAME first on empty caches). Rcode, flags, EDNS, the question, and
// the answer and authority RRsets must be equal, TTLs within the time the run has taken. Each
// difference that is intended is listed below with its reason.
// Not compared, on purpose: the additional section (unbound's minimal-responses leaves glue out),
// message sizes and name compression, and OPT options (EDE, which unbound 1.17 sends only with
// ede: yes). TODO(dns-server): name compression, NSID and DNS cookies are being added to the shared
// server code; once merged, compare NSID/cookie presence here and message sizes against unbound's.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Answer,
  decodeMessage,
  findOpt,
  type Packet,
  RCODE_NAME,
  rcodeOf,
} from '../../../services/common/dns/codec.js';
import { recordText } from '../../../services/common/dns/record-text.js';
import { startTestLab, type TestLab } from '../../support/lab.js';

const B = '127.49';
const RESOLVER = `${B}.2.53`;
const UNBOUND = `${B}.9.53`;
const tmp = mkdtempSync(join(tmpdir(), 'dns-differential-'));
let lab: TestLab;
let unbound: ChildProcess | undefined;

/** One question, and how it is asked. */
interface Query {
  name: string;
  type: string;
  class?: 'IN' | 'CH' | 'HS' | 'ANY';
  rd?: boolean;
  tcp?: boolean;
  /** undefined: EDNS(0) with 1232 bytes; null: no OPT at all */
  edns?: { size?: number; version?: number; do?: boolean; options?: { code: number; data: Buffer }[] } | null;
  what: string;
}

/** What is compared of an answer. */
interface View {
  rcode: string;
  flags: string;
  edns: string;
  question: string;
  answer: string[];
  authority: string[];
  /** record text (lower-case owner, no TTL) → TTL */
  ttls: Map<string, number>;
}

/**
 * The intended differences, each with its reason: the fields named are not compared for the queries
 * matched. Known differences awaiting other work are marked TODO with the work that removes them.
 */
const INTENDED: { when: (q: Query) => boolean; ignore: (keyof View)[]; reason: string }[] = [
  {
    // TODO(dns-server): remove once ANY at an alias node is answered with the CNAME, as NSD does
    when: (q) => q.type === 'ANY' && aliases.has(q.name.toLowerCase()),
    ignore: ['answer', 'authority', 'rcode'],
    reason:
      'ANY at a CNAME: the lab authority answers a synthesized HINFO at the alias itself, and the lab ' +
      'resolver passes that on (RFC 8482 §4.2); unbound, minimising the last label with type A, sees ' +
      'the CNAME and follows it (RFC 1034 §4.3.2), so it shows the chain and the HINFO at its end',
  },
  {
    when: (q) => q.type === 'ANY' && PRIMED.has(q.name),
    ignore: ['answer'],
    reason:
      'ANY for the root and its server: unbound answers from the RRsets its priming put in the cache ' +
      '(RFC 8482 §4.1 lets a resolver give any subset); the lab resolver asks the authority',
  },
  {
    when: (q) => q.class === 'CH' && q.type === 'TXT',
    ignore: ['answer'],
    reason:
      'CH TXT version.bind / id.server name the software and host: "unbound 1.17.1" and the machine ' +
      'there, "enterlab <version>" and "resolver" here (same rcode, flags, owner, class and TTL 0)',
  },
];

/** record types whose data has text where case matters (the rest is names and numbers) */
const CASE_FREE = new Set(['TXT', 'HINFO', 'CAA']);

/** Sends one query over UDP (no retry: a TC=1 answer is compared as it is) or TCP. */
function ask(server: string, q: Query, id: number): Promise<Packet> {
  const opt =
    q.edns === null
      ? []
      : [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: q.edns?.size ?? 1232,
            extendedRcode: 0,
            ednsVersion: q.edns?.version ?? 0,
            flags: q.edns?.do ? 0x8000 : 0,
            options: q.edns?.options ?? [],
          } as unknown as Answer,
        ];
  const msg = dnsPacket.encode({
    id,
    type: 'query',
    flags: q.rd === false ? 0 : 0x100,
    questions: [{ name: q.name, type: q.type as 'A', class: q.class ?? 'IN' }],
    additionals: opt,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer from ${server} to ${q.what}`)), 5000);
    const done = (m: Buffer) => {
      clearTimeout(timer);
      resolve(decodeMessage(m));
    };
    if (q.tcp) {
      const sock = connect({ host: server, port: 53, localAddress: '127.0.0.1' }, () => {
        const framed = Buffer.alloc(msg.length + 2);
        framed.writeUInt16BE(msg.length, 0);
        msg.copy(framed, 2);
        sock.write(framed);
      });
      let buf = Buffer.alloc(0);
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) + 2) {
          sock.destroy();
          done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        }
      });
      sock.on('error', reject);
    } else {
      const sock = createSocket('udp4');
      sock.on('message', (m) => {
        sock.close();
        done(m);
      });
      sock.bind(0, '127.0.0.1', () => sock.send(msg, 53, server));
    }
  });
}

function viewOf(p: Packet): View {
  const f = p.flags ?? 0;
  const flag = (bit: number, n: string) => ((f & bit) !== 0 ? n : '');
  const opt = findOpt(p);
  const rrs = (list: Answer[] | undefined) =>
    (list ?? [])
      .filter((a) => a.type !== 'OPT')
      .map((a) => {
        // names compare without case (RFC 4343), in the data too: unbound compresses names against the
        // question, so a CNAME target comes back in the asker's letter case. The TTL is compared apart.
        const text = recordText({ ...a, ttl: 0 } as Answer).replace(
          ' IN ',
          ` ${(a as { class?: string }).class ?? 'IN'} `,
        );
        return {
          text: CASE_FREE.has(a.type) ? text : text.toLowerCase(),
          ttl: (a as { ttl?: number }).ttl ?? 0,
        };
      });
  const answer = rrs(p.answers);
  const authority = rrs(p.authorities);
  const q = p.questions?.[0];
  return {
    rcode: RCODE_NAME[rcodeOf(p)] ?? String(rcodeOf(p)),
    flags: [
      flag(0x400, 'aa'),
      flag(0x200, 'tc'),
      flag(0x100, 'rd'),
      flag(0x80, 'ra'),
      flag(0x20, 'ad'),
      flag(0x10, 'cd'),
    ]
      .filter(Boolean)
      .join(' '),
    edns: opt ? `version ${opt.ednsVersion}${(opt.flags & 0x8000) !== 0 ? ' do' : ''}` : 'none',
    question: q ? `${q.name} ${q.class} ${q.type}` : '',
    answer: answer.map((r) => r.text).sort(),
    authority: authority.map((r) => r.text).sort(),
    ttls: new Map([...answer, ...authority].map((r) => [r.text, r.ttl])),
  };
}

/** names with a CNAME in the zones as served (filled by zoneNames) */
const aliases = new Set<string>();
/** what unbound has cached from priming the root before the first question */
const PRIMED = new Set(['.', 'ns-root.test']);

/** The lab's zones as served (master-file text from each nameserver), as owner → types. */
async function zoneNames(): Promise<Map<string, Set<string>>> {
  const names = new Map<string, Set<string>>();
  for (const host of ['ns-root', 'ns-tld', 'ns-example']) {
    const zones = (await lab.control(host, 'dns.zones', {})) as string[];
    for (const zone of zones) {
      const text = (await lab.control(host, 'dns.zone', { zone })) as string;
      for (const line of text.split('\n')) {
        const m = /^(\S+)\s+\d+\s+IN\s+(\S+)/.exec(line);
        if (!m) continue;
        const owner = m[1] === '.' ? '.' : m[1].replace(/\.$/, '');
        if (!names.has(owner)) names.set(owner, new Set());
        names.get(owner)?.add(m[2]);
        if (m[2] === 'CNAME') aliases.add(owner);
      }
    }
  }
  return names;
}

const TYPES = ['A', 'AAAA', 'NS', 'SOA', 'MX', 'TXT', 'SRV', 'CAA', 'PTR', 'DS', 'CNAME'];
const mixedCase = (n: string) => [...n].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join('');

/** Every question of one pass; `cnameFirst` puts aliases before their targets and CNAME first. */
function questions(names: Map<string, Set<string>>, cnameFirst: boolean): Query[] {
  // wildcards are asked through names they cover; a literal "*" label too (RFC 4592 §2.2.1)
  const owners = [...names.keys()].flatMap((n) =>
    n.startsWith('*.') ? [n, n.replace('*', 'anything'), n.replace('*', 'a.b')] : [n],
  );
  // the zone files list aliases before targets (www before cdn, shop before store before www)
  const ordered = cnameFirst ? owners : [...owners].reverse();
  const types = cnameFirst ? ['CNAME', ...TYPES.filter((t) => t !== 'CNAME')] : TYPES;
  const qs: Query[] = [];
  const add = (q: Omit<Query, 'what'>, what?: string) =>
    qs.push({
      ...q,
      what:
        what ??
        `${q.name} ${q.class && q.class !== 'IN' ? `${q.class} ` : ''}${q.type}${q.rd === false ? ' RD=0' : ''}`,
    });
  // RFC 8482 ANY first: unbound answers ANY from whatever its cache holds once it holds something
  for (const name of ordered) add({ name, type: 'ANY' });
  for (const name of ordered) for (const type of types) add({ name, type });
  const extra = [
    ['tpyo.example.test', 'A', 'NXDOMAIN'],
    ['nothing.test', 'A', 'NXDOMAIN under the TLD'],
    ['x.y.nothing.test', 'AAAA', 'NXDOMAIN, deeper'],
    ['nope.ca.test', 'A', 'NXDOMAIN in another zone'],
    ['no-such-tld', 'A', 'NXDOMAIN from the root'],
    ['a.no-such-tld', 'MX', 'NXDOMAIN from the root, deeper'],
    ['v6only.example.test', 'A', 'NODATA'],
    ['_tcp.example.test', 'SRV', 'empty non-terminal'],
    ['wild.example.test', 'A', 'empty non-terminal above a wildcard'],
    ['in-addr.arpa', 'NS', 'empty non-terminal above the reverse zone'],
    ['loop1.example.test', 'A', 'CNAME loop inside one zone'],
    ['loop2.example.test', 'AAAA', 'CNAME loop inside one zone, the other end'],
    ['loop1.example.test', 'CNAME', 'one link of a loop'],
    ['xloop.example.test', 'A', 'CNAME loop across zones'],
    ['xloop.ca.test', 'TXT', 'CNAME loop across zones, the other end'],
    ['docs.example.test', 'AAAA', 'CNAME chain into another zone'],
    ['shop.example.test', 'AAAA', 'CNAME chain of three inside a zone'],
    ['out.example.test', 'A', 'CNAME to a name that does not exist (NXDOMAIN with the CNAME)'],
  ];
  for (const [name, type, what] of extra) add({ name, type }, `${name} ${type}: ${what}`);
  // the same questions asked differently (a sample: every name's A, and the chains)
  const sample = [...ordered.filter((_, i) => i % 3 === 0), 'www.example.test', 'shop.example.test'];
  for (const name of sample) {
    add({ name: mixedCase(name), type: 'A' }, `${mixedCase(name)} A: mixed case (RFC 4343)`);
    add({ name, type: 'A', tcp: true }, `${name} A over TCP (RFC 7766)`);
    add({ name, type: 'A', edns: null }, `${name} A without EDNS`);
    add({ name, type: 'A', edns: { do: true } }, `${name} A with DO (RFC 3225)`);
  }
  for (const size of [512, 1232, 4096]) {
    for (const [name, type] of [
      ['big.example.test', 'TXT'],
      ['example.test', 'TXT'],
      ['shop.example.test', 'A'],
    ])
      add({ name, type, edns: { size } }, `${name} ${type} with EDNS ${size}`);
  }
  add({ name: 'big.example.test', type: 'TXT', edns: null }, 'big TXT without EDNS: TC=1 (RFC 1035 §4.2.1)');
  add({ name: 'big.example.test', type: 'TXT', tcp: true, edns: null }, 'big TXT over TCP: all of it');
  for (const name of ['www.example.test', 'nothing.test'])
    add({ name, type: 'A', edns: { version: 1 } }, `${name} with EDNS version 1: BADVERS (RFC 6891 §6.1.3)`);
  add(
    { name: 'www.example.test', type: 'A', edns: { options: [{ code: 65001, data: Buffer.from('lab') }] } },
    'an unknown EDNS option is ignored (RFC 6891 §6.1.2)',
  );
  add(
    {
      name: 'mail.example.test',
      type: 'MX',
      edns: { do: true, options: [{ code: 65002, data: Buffer.alloc(0) }] },
    },
    'DO and an empty unknown option',
  );
  for (const name of ['version.bind', 'version.server', 'id.server', 'hostname.bind', 'authors.bind'])
    add({ name, type: 'TXT', class: 'CH' });
  add({ name: 'version.bind', type: 'A', class: 'CH' });
  add({ name: 'www.example.test', type: 'A', class: 'CH' }, 'an IN name in class CH (RFC 1035 §3.2.4)');
  add({ name: 'www.example.test', type: 'A', class: 'HS' }, 'an IN name in class HS');
  add({ name: 'www.example.test', type: 'A', class: 'ANY' }, 'QCLASS ANY (RFC 1035 §3.2.5)');
  for (const type of ['AXFR', 'IXFR'])
    for (const tcp of [false, true])
      add({ name: 'example.test', type, tcp }, `${type} over ${tcp ? 'TCP' : 'UDP'}`);
  // RFC 1034 §4.3.1: RD=0 after the walk: names both have asked (from the cache), names neither has
  for (const name of ['mail.example.test', 'cdn.example.test', 'tpyo.example.test', 'search.test'])
    add({ name, type: 'A', rd: false });
  for (const name of ['never-asked.example.test', 'never-asked.test'])
    add({ name, type: 'A', rd: false }, `${name} A RD=0: a referral from the cache`);
  return qs;
}

async function waitForDns(server: string) {
  for (let i = 0; i < 100; i++) {
    try {
      await ask(server, { name: 'version.bind', type: 'TXT', class: 'CH', what: 'ready?' }, 1);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${server} never answered`);
}

async function startUnbound() {
  unbound = spawn('unbound', ['-d', '-c', join(tmp, 'unbound.conf')], { stdio: 'ignore' });
  await waitForDns(UNBOUND);
}

async function stopUnbound() {
  const u = unbound;
  if (!u || u.exitCode !== null) return;
  const exited = new Promise((r) => u.once('exit', r));
  u.kill();
  await exited;
}

beforeAll(async () => {
  lab = await startTestLab({ block: B, hosts: ['ns-root', 'ns-tld', 'ns-example', 'resolver'] });
  // names the zone files do not have: loops inside and across zones, and a CNAME to nowhere
  const set = (name: string, type: string, value: string) =>
    lab.control('ns-example', 'dns.set', { name, type, value });
  await set('loop1.example.test', 'CNAME', 'loop2.example.test.');
  await set('loop2.example.test', 'CNAME', 'loop1.example.test.');
  await set('xloop.example.test', 'CNAME', 'xloop.ca.test.');
  await set('xloop.ca.test', 'CNAME', 'xloop.example.test.');
  await set('out.example.test', 'CNAME', 'gone.example.test.');
  writeFileSync(join(tmp, 'root.hints'), `. 3600000 NS ns-root.test.\nns-root.test. 3600000 A ${B}.2.11\n`);
  writeFileSync(
    join(tmp, 'unbound.conf'),
    `server:
  interface: ${UNBOUND}
  outgoing-interface: ${UNBOUND}
  do-ip6: no
  do-not-query-localhost: no
  # allow_snoop: RD=0 questions are answered from the cache (plain allow REFUSES them all)
  access-control: 127.0.0.0/8 allow_snoop
  root-hints: "${tmp}/root.hints"
  local-zone: "test." nodefault
  # RFC 6303: unbound serves 127.in-addr.arpa itself by default; here it is the lab's reverse zone
  local-zone: "127.in-addr.arpa." nodefault
  # RFC 6303 too: d.f.ip6.arpa (the ULA reverse space) is the lab's reverse6 zone here
  local-zone: "d.f.ip6.arpa." nodefault
  module-config: "iterator"
  username: ""
  chroot: ""
  directory: "${tmp}"
  pidfile: ""
  use-syslog: no
  logfile: ""
remote-control:
  control-enable: no
`,
  );
  await startUnbound();
  await waitForDns(RESOLVER);
}, 60_000);

afterAll(async () => {
  await stopUnbound();
  await lab?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Sends every question to both (ours first, then unbound's, one after the other) and lists differences. */
async function run(qs: Query[]): Promise<{ differences: string[]; asked: number }> {
  const t0 = Date.now();
  const differences: string[] = [];
  let id = 1;
  for (const q of qs) {
    const ours = viewOf(await ask(RESOLVER, q, id++));
    const theirs = viewOf(await ask(UNBOUND, q, id++));
    const ignored = new Set(INTENDED.filter((i) => i.when(q)).flatMap((i) => i.ignore));
    for (const field of ['rcode', 'flags', 'edns', 'question', 'answer', 'authority'] as const) {
      if (ignored.has(field)) continue;
      const a = JSON.stringify(ours[field]);
      const b = JSON.stringify(theirs[field]);
      if (a !== b) differences.push(`${q.what}: ${field} ${a} here, ${b} from unbound`);
    }
    // TTLs: both count down from what the authority gave; they may differ by the time the run took
    const slack = Math.ceil((Date.now() - t0) / 1000) + 1;
    if (!ignored.has('answer'))
      for (const [rr, ttl] of ours.ttls) {
        const other = theirs.ttls.get(rr);
        if (other !== undefined && Math.abs(other - ttl) > slack)
          differences.push(`${q.what}: TTL ${ttl} here, ${other} from unbound (${slack} s allowed): ${rr}`);
      }
  }
  return { differences, asked: qs.length };
}

describe('the lab resolver against unbound, through the lab root', () => {
  it('gives the answers unbound gives, targets asked before their aliases', async () => {
    const names = await zoneNames();
    const qs = questions(names, false);
    expect(qs.length).toBeGreaterThanOrEqual(300);
    const { differences } = await run(qs);
    expect(differences.join('\n')).toBe('');
  }, 240_000);

  it('gives the answers unbound gives on empty caches, aliases asked first and CNAME before other types', async () => {
    await stopUnbound();
    await startUnbound();
    await lab.control('resolver', 'dns.flush', {});
    const qs = questions(await zoneNames(), true);
    expect(qs.length).toBeGreaterThanOrEqual(300);
    const { differences } = await run(qs);
    expect(differences.join('\n')).toBe('');
  }, 240_000);
});
