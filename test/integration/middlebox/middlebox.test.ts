// The censor for real, as root on the local runtime (block 127.62): curl from the browser's address
// to a blocked name is reset while other names load; a capture of lo shows the forged RSTs with the
// fingerprint TTL and the exact sequence numbers; the pcap dry-run prints the same injections.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { port } from '../../../services/common/settings.js';
import { dryRun } from '../../../services/middlebox/dry-run.js';
import { startTestLab, type TestLab } from '../../support/lab.js';

const isRoot = process.getuid?.() === 0;
const BLOCK = '127.62';
const RULES = 'sni blocked.test\ndns blocked.test\n';

let lab: TestLab;
let rootPem: string;
let pcap: string;
let dumpcap: ChildProcess | undefined;

const curl = (name: string, path = '/') =>
  spawnSync(
    'curl',
    [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--max-time',
      '5',
      '--interface',
      lab.address('browser'),
      '--resolve',
      `${name}:${port(443, lab.settings)}:${lab.address('proxy')}`,
      '--cacert',
      rootPem,
      `https://${name}:${port(443, lab.settings)}${path}`,
    ],
    { encoding: 'utf8' },
  );

/** tshark's fields of the frames a display filter selects, one array per frame. */
const fields = (filter: string, names: string[]) =>
  execFileSync('tshark', ['-r', pcap, '-Y', filter, '-T', 'fields', ...names.flatMap((n) => ['-e', n])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));

describe.skipIf(!isRoot)('the middlebox on lo (root)', () => {
  beforeAll(async () => {
    lab = await startTestLab({
      block: BLOCK,
      hosts: ['ns-root', 'ns-tld', 'ns-example', 'resolver', 'ca', 'app', 'proxy', 'middlebox'],
    });
    rootPem = join(lab.settings.stateDir, 'root.pem');
    writeFileSync(
      rootPem,
      execFileSync('curl', [
        '-sf',
        '--max-time',
        '5',
        `http://${lab.address('ca')}:${port(80, lab.settings)}/root.pem`,
      ]),
    );
    pcap = join(lab.settings.stateDir, 'lo.pcapng');
    dumpcap = spawn('dumpcap', ['-q', '-i', 'lo', '-f', `net ${BLOCK}.0.0/16`, '-w', pcap], {
      stdio: 'ignore',
    });
    // dumpcap writes the section header once it captures
    for (let i = 0; i < 100 && !(existsSync(pcap) && statSync(pcap).size > 0); i++)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
  }, 60_000);
  afterAll(async () => {
    dumpcap?.kill('SIGTERM');
    await lab?.close();
  });

  it('says in its ready event that it captures on lo', () => {
    const ready = lab.events('middlebox').find((e) => e.kind === 'service.ready');
    expect(ready?.data?.off).toBeUndefined();
    expect(ready?.data?.listening).toEqual(['pcap lo (ETHERNET)']);
  });

  it('refuses rules outside the lab and leaves the rule set unchanged', async () => {
    await expect(lab.control('middlebox', 'block.add', { rule: 'sni www.example.com' })).rejects.toThrow(
      /not a lab name.*unchanged/,
    );
    await expect(
      lab.control('middlebox', 'block.load', { text: 'sni blocked.test\nip 8.8.8.8' }),
    ).rejects.toThrow(/line 2/);
    expect(await lab.control('middlebox', 'block.list')).toEqual([]);
  });

  it('curl to a blocked name is reset; other names load', async () => {
    expect(await lab.control('middlebox', 'block.load', { text: RULES })).toHaveLength(2);
    const blocked = curl('blocked.test');
    expect(blocked.status).not.toBe(0);
    expect(blocked.stderr).toMatch(/reset by peer/i);
    const fine = curl('www.example.test', '/hej');
    expect(fine.stderr).toBe('');
    expect(fine.stdout).toBe('200');
    const match = await lab.waitFor((e) => e.kind === 'censor.match' && e.data?.trigger === 'sni');
    expect(match.data).toMatchObject({ value: 'blocked.test', rule: { text: 'sni blocked.test' } });
  });

  it("DNS injection: dig from the browser's address gets the forged answer first", async () => {
    const out = execFileSync(
      'dig',
      [
        '+short',
        '+tries=1',
        '-b',
        lab.address('browser'),
        `@${lab.address('resolver')}`,
        '-p',
        String(port(53, lab.settings)),
        'www.blocked.test',
        'A',
      ],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe(`${BLOCK}.1.254`);
    const ev = await lab.waitFor((e) => e.kind === 'dns.injected');
    expect(ev.data).toMatchObject({
      name: 'www.blocked.test',
      type: 'A',
      answer: `${BLOCK}.1.254`,
      ttl: 47,
      ipId: 0xbeef,
    });
  });

  it('the capture shows the forged RSTs with TTL 47 and the exact sequence numbers, as the events say', async () => {
    await new Promise((r) => setTimeout(r, 500));
    dumpcap?.kill('SIGTERM');
    await new Promise((r) => dumpcap?.once('exit', r));
    dumpcap = undefined;
    const forged = fields('tcp.flags.reset == 1 && ip.ttl == 47', [
      'ip.dst',
      'tcp.dstport',
      'tcp.seq_raw',
      'ip.id',
    ]);
    expect(forged.length).toBeGreaterThanOrEqual(2);
    for (const f of forged) expect(f[3]).toBe('0xbeef');
    // the real hosts send TTL 64: nothing else in the capture has 47
    expect(fields('ip.ttl == 47 && !(tcp.flags.reset == 1) && !dns', ['frame.number'])).toEqual([]);
    // RFC 5961: the first RST each end gets carries exactly what it expects next after the ClientHello
    const [hello] = fields('tls.handshake.extensions_server_name == "blocked.test"', [
      'tcp.srcport',
      'tcp.seq_raw',
      'tcp.ack_raw',
      'tcp.len',
    ]);
    const [sport, seq, ack, len] = hello.map(Number);
    const seqs = (dst: string, dport: number) =>
      forged.filter((f) => f[0] === dst && Number(f[1]) === dport).map((f) => Number(f[2]));
    expect(seqs(lab.address('proxy'), port(443, lab.settings))).toContain((seq + len) >>> 0);
    expect(seqs(lab.address('browser'), sport)).toContain(ack);
    // the events name the same packets
    const injected = lab
      .events('middlebox')
      .filter((e) => e.kind === 'rst.injected')
      .flatMap((e) =>
        ((e.data?.packets ?? []) as { dst: string; dport: number; seq: number }[]).map(
          (p) => `${p.dst} ${p.dport} ${p.seq}`,
        ),
      );
    expect(injected.sort()).toEqual(forged.map((f) => `${f[0]} ${f[1]} ${f[2]}`).sort());
    // the forged DNS answer is in the capture too
    expect(fields('dns.flags.response == 1 && ip.ttl == 47', ['dns.a'])).toEqual([[`${BLOCK}.1.254`]]);
  });

  it('the dry-run over that capture prints the same injections', () => {
    const r = dryRun(readFileSync(pcap), RULES, lab.settings);
    const live = fields('tcp.flags.reset == 1 && ip.ttl == 47', ['ip.dst', 'tcp.dstport', 'tcp.seq_raw']).map(
      (f) => f.join(' '),
    );
    const dry = r.outcomes.flatMap(({ outcome }) =>
      outcome.kind === 'rst' ? outcome.packets.map((p) => `${p.dst} ${p.dport} ${p.seq}`) : [],
    );
    expect(dry.sort()).toEqual(live.sort());
    expect(r.stats.injectedDns).toBe(1);
    expect(r.lines.some((l) => /inject RST +to client/.test(l))).toBe(true);
    // and the CLI says the same
    const cli = spawnSync(
      process.execPath,
      [
        'dist/services/middlebox/main.js',
        '--dry-run',
        pcap,
        '--rule',
        'sni blocked.test',
        '--rule',
        'dns blocked.test',
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          LAB_BLOCK: BLOCK,
          LAB_PORT_OFFSET: String(lab.settings.portOffset),
          LAB_IPV6: '0',
        },
      },
    );
    expect(cli.status).toBe(0);
    expect(cli.stdout.split('\n').filter((l) => / inject (RST|DNS) /.test(l)).length).toBe(dry.length + 1);
  });
});
