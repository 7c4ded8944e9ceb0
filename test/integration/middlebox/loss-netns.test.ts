// JOURNEY 38 without docker: three network namespaces made for this test (client, router, server,
// joined by veth pairs; the router forwards with ip_forward, as the docker middlebox does), the
// middlebox's loss rule in the router's FORWARD chain, a capture at the sender (the server) showing
// the dropped segment sent twice. The response is one segment, so nothing after it can be SACKed:
// the sender recovers by its retransmission timeout, which Wireshark names a retransmission (a fast
// retransmit within the lab's microsecond RTT looks "out of order" to it). Root only; the namespaces are removed afterwards.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArmedLoss, armLoss, runner } from '../../../services/middlebox/loss.js';

const isRoot = process.getuid?.() === 0;
const NS = { client: 'mb62c', router: 'mb62r', server: 'mb62s' };
const CLIENT = '10.62.1.10';
const SERVER = '10.62.2.80';
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
const inNs = (ns: string, ...argv: string[]) => ['ip', 'netns', 'exec', ns, ...argv];

let made = false;
let server: ChildProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), 'enterlab-loss-'));

function setUp(): void {
  for (const ns of Object.values(NS)) ip('netns', 'add', ns);
  made = true;
  ip('link', 'add', 'mb62c0', 'type', 'veth', 'peer', 'name', 'mb62r0');
  ip('link', 'add', 'mb62r1', 'type', 'veth', 'peer', 'name', 'mb62s0');
  for (const [dev, ns] of [
    ['mb62c0', NS.client],
    ['mb62r0', NS.router],
    ['mb62r1', NS.router],
    ['mb62s0', NS.server],
  ])
    ip('link', 'set', dev, 'netns', ns);
  for (const [ns, addr, dev] of [
    [NS.client, `${CLIENT}/24`, 'mb62c0'],
    [NS.router, '10.62.1.254/24', 'mb62r0'],
    [NS.router, '10.62.2.254/24', 'mb62r1'],
    [NS.server, `${SERVER}/24`, 'mb62s0'],
  ]) {
    ip('-n', ns, 'addr', 'add', addr, 'dev', dev);
    ip('-n', ns, 'link', 'set', dev, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  ip('-n', NS.client, 'route', 'add', 'default', 'via', '10.62.1.254');
  ip('-n', NS.server, 'route', 'add', 'default', 'via', '10.62.2.254');
  execFileSync('ip', ['netns', 'exec', NS.router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
}

const fetch = () => {
  const [bin, ...args] = inNs(
    NS.client,
    'curl',
    '-sS',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '--max-time',
    '10',
    `http://${SERVER}:8080/`,
  );
  return spawnSync(bin, args, { encoding: 'utf8' });
};

async function capture<T>(file: string, during: () => Promise<T>): Promise<T> {
  const d = spawn('ip', ['netns', 'exec', NS.server, 'dumpcap', '-q', '-i', 'mb62s0', '-w', file], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100 && !(existsSync(file) && statSync(file).size > 0); i++)
    await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1000));
  try {
    return await during();
  } finally {
    await new Promise((r) => setTimeout(r, 500));
    d.kill('SIGTERM');
    await new Promise((r) => d.once('exit', r));
  }
}

const retransmissions = (file: string) =>
  execFileSync(
    'tshark',
    [
      '-r',
      file,
      '-Y',
      `tcp.analysis.retransmission && ip.src == ${SERVER}`,
      '-T',
      'fields',
      '-e',
      'frame.number',
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  )
    .trim()
    .split('\n')
    .filter(Boolean).length;

const summary = (file: string) =>
  execFileSync('tshark', ['-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

const canMakeNamespaces = isRoot && spawnSync('ip', ['netns', 'list']).status === 0;

describe.skipIf(!canMakeNamespaces)('packet loss in a router namespace (root)', () => {
  beforeAll(async () => {
    setUp();
    server = spawn(
      'ip',
      [
        'netns',
        'exec',
        NS.server,
        process.execPath,
        '-e',
        `require('node:http').createServer((q, r) => r.end(Buffer.alloc(1000, 97))).listen(8080, '${SERVER}')`,
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 50 && fetch().stdout !== '200'; i++) await new Promise((r) => setTimeout(r, 100));
  }, 30_000);
  afterAll(() => {
    server?.kill('SIGTERM');
    if (made) for (const ns of Object.values(NS)) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('without the rule, nothing is retransmitted (the check can fail)', async () => {
    const file = join(dir, 'clean.pcapng');
    const r = await capture(file, async () => fetch());
    expect(r.stdout).toBe('200');
    expect(summary(file)).toMatch(/HTTP\/1\.1 200 OK/); // the capture saw the exchange
    expect(retransmissions(file)).toBe(0);
  });

  it("drops the server's one data segment once: it is sent again after the RTO (a retransmission in the capture), the page still loads", async () => {
    const run = runner(inNs(NS.router));
    let armed: ArmedLoss | undefined;
    try {
      armed = await armLoss({ from: SERVER, to: CLIENT, fromPort: 8080, nth: 1 }, 'enterlab-loss-test', run);
      const file = join(dir, 'loss.pcapng');
      const r = await capture(file, async () => fetch());
      expect(r.stdout).toBe('200');
      expect(await armed.dropped()).toBe(1);
      expect(retransmissions(file), summary(file)).toBeGreaterThanOrEqual(1);
      // the burst of one is spent: a second connection loses nothing
      const again = join(dir, 'again.pcapng');
      await capture(again, async () => fetch());
      expect(summary(again)).toMatch(/HTTP\/1\.1 200 OK/);
      expect(await armed.dropped()).toBe(1);
      expect(retransmissions(again)).toBe(0);
    } finally {
      await armed?.disarm();
    }
    expect(await run(['iptables', '-w', '-L', 'FORWARD', '-n'])).not.toContain('enterlab-loss-test');
  }, 30_000);
});
