// The docker runtime end to end on this machine: the image built from the offline base, the lab up
// on three internal networks, the browser routed through the middlebox, ARP on the home bridge,
// the scenarios, bad input, and a teardown that leaves nothing behind.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DockerRuntime } from '../../lab-cli/runtime/docker.js';
import { nowMicros } from '../../services/common/events.js';
import { PROJECT_ROOT, settingsFromEnv } from '../../services/common/settings.js';
import { networks, planAddress, planAddress6 } from '../../services/common/topology.js';
import { opensslCsr } from '../support/csr.js';
import {
  composeFiles,
  composeLogs,
  containerOf,
  dockerSkipReason,
  dockerUserRules,
  env,
  eventsSince,
  inHost,
  isolationRules,
  LAB,
  lab,
  labResidue,
  latestRun,
  machineAddresses,
  sh,
  sha256,
  tsharkFields,
} from './support.js';

const skip = await dockerSkipReason();
if (skip) console.warn(`docker suite skipped: ${skip}`);
const machineFiles = ['/etc/hosts', '/etc/resolv.conf'];
const before = new Map(machineFiles.map((f) => [f, sha256(f)]));

/** Scenarios run with --capture: their packet checks count, and the file is checked for honesty. */
const CAPTURED = ['press-enter', 'packet-loss'];
const MACHINE_PORT = 47_601;

/**
 * No frame Wireshark flags as retransmitted is a router's copy: each flagged segment was sent again
 * by its sender, on the same network with the same TTL / hop limit. And frames are in time order.
 */
function expectHonestCapture(pcap: string): void {
  const fields = [
    'frame.number',
    'frame.interface_id',
    'ip.src',
    'ipv6.src',
    'tcp.srcport',
    'ip.ttl',
    'ipv6.hlim',
    'tcp.seq',
    'tcp.len',
  ];
  const all = tsharkFields(pcap, 'tcp', fields);
  const flagged = tsharkFields(pcap, 'tcp.analysis.retransmission', fields);
  // same network, sender and TTL; the resend may be cut differently (a GSO segment resent in MSS pieces)
  const sender = (f: string[]) => f.slice(1, 7).join('|');
  const covers = (a: string[], f: string[]) =>
    Number(a[7]) <= Number(f[7]) && Number(f[7]) < Number(a[7]) + Math.max(Number(a[8]), 1);
  for (const f of flagged) {
    const earlier = all.filter((a) => Number(a[0]) < Number(f[0]) && sender(a) === sender(f) && covers(a, f));
    expect(earlier.length, `frame ${f[0]} is flagged but its sender sent it once`).toBeGreaterThan(0);
  }
  const times = tsharkFields(pcap, 'frame', ['frame.time_epoch']).map((t) => Number(t[0]));
  expect(times.filter((t, i) => i > 0 && t < times[i - 1])).toEqual([]);
}

/** Scenarios that fail on the local runtime as well, for reasons outside the docker runtime. */
const FAILING_EVERYWHERE: Record<string, string> = {};

function buildImage(): void {
  const base = sh(join(PROJECT_ROOT, 'scripts/docker-base.sh'), [], 600_000).trim().split('\n').pop() ?? '';
  const v2 = spawnSync('docker', ['compose', 'version']).status === 0;
  const [cmd, pre] = v2 ? ['docker', ['compose']] : ['docker-compose', []];
  const files = composeFiles();
  const r = spawnSync(cmd, [...pre, '-p', 'enterlab', 'build', 'browser'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NODE_IMAGE: base, ...(files ? { COMPOSE_FILE: files } : {}) },
    encoding: 'utf8',
    timeout: 900_000,
  });
  if (r.status !== 0) throw new Error(`image build failed: ${r.stderr.trim().split('\n').pop()}`);
}

describe.skipIf(!!skip)(`docker runtime${skip ? ` (skipped: ${skip})` : ''}`, () => {
  beforeAll(() => {
    buildImage();
    lab(['down']);
    const up = lab(['up']);
    if (up.status !== 0) throw new Error(`lab up --runtime docker failed: ${up.stderr}`);
  }, 1_200_000);

  afterAll(() => {
    lab(['down']);
  }, 120_000);

  it('brings every built host up healthy at its plan addresses', () => {
    const r = lab(['status', '--json']);
    const list = JSON.parse(r.stdout) as {
      host: string;
      state: string;
      addresses: string[];
      reason?: string;
    }[];
    for (const h of list.filter((x) => x.state !== 'off')) {
      expect(h.state, `${h.host}: ${h.reason ?? ''}`).toBe('running');
    }
    const proxy = list.find((h) => h.host === 'proxy');
    expect(proxy?.addresses).toEqual([
      planAddress('proxy', 'internet'),
      planAddress6('proxy', 'internet'),
      planAddress('proxy', 'backend'),
      planAddress6('proxy', 'backend'),
    ]);
  });

  it('puts the lab on internal networks with the fixed bridge names and DOCKER-USER rules', () => {
    for (const n of networks) {
      const [info] = JSON.parse(sh('docker', ['network', 'inspect', `enterlab_${n.name}`]));
      expect(info.Internal, n.name).toBe(true);
      expect(info.Options['com.docker.network.bridge.name']).toBe(n.bridge);
      expect(info.IPAM.Config.map((c: { Subnet: string }) => c.Subnet)).toEqual([
        `172.28.${n.index}.0/24`,
        `fd28:${n.index}::/64`,
      ]);
    }
    expect(dockerUserRules()).toHaveLength(networks.length);
  });

  it('routes the browser through the middlebox, and the proxy sees its real address (no NAT)', () => {
    const route = inHost('browser', ['ip', 'route', 'get', planAddress('proxy')]).stdout;
    expect(route).toContain(`via ${planAddress('middlebox', 'home')}`);
    const from = nowMicros();
    const r = lab(['browse', '--json', '--http1', 'https://www.example.test/hej']);
    expect(r.status, r.stderr).toBe(0);
    const peers = eventsSince('proxy', from).map((e) => /^\[?([0-9a-f.:]+?)\]?:\d+$/.exec(e.peer ?? '')?.[1]);
    expect(peers.some((p) => p === planAddress('browser') || p === planAddress6('browser'))).toBe(true);
  });

  it('cannot reach anything outside the lab networks', () => {
    const probe = (host: string) =>
      inHost(host, [
        'node',
        '-e',
        "require('net').connect(443, '1.1.1.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1)); setTimeout(() => process.exit(2), 3000)",
      ]).status;
    expect(probe('browser')).not.toBe(0);
    expect(probe('proxy')).not.toBe(0);
  });

  it('shows ARP on the home bridge (JOURNEY 12)', async () => {
    inHost('browser', ['ip', 'neigh', 'flush', 'all']);
    const tshark = spawn(
      'tshark',
      ['-i', networks[0].bridge, '-f', 'arp', '-a', 'duration:15', '-c', '2', '-l'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    tshark.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    // tshark says when it captures (its start takes seconds on a busy machine)
    await new Promise<void>((r) => {
      let err = '';
      tshark.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        if (/Capturing on/.test(err)) r();
      });
      setTimeout(r, 10_000);
    });
    await new Promise((r) => setTimeout(r, 300));
    // IPv4 to the resolver through the router: the browser must ARP for 172.28.1.254 first
    const resolver = planAddress('resolver');
    inHost('browser', [
      'node',
      '-e',
      `require('net').connect(53, '${resolver}').on('connect', () => process.exit(0))`,
    ]);
    await new Promise((r) => tshark.on('close', r));
    expect(out).toMatch(new RegExp(`Who has ${planAddress('middlebox', 'home').replace(/\./g, '\\.')}\\?`));
  }, 30_000);

  it('opens no TCP connection from any container to any address of the machine', async () => {
    // a listener on every address of the machine, as anything bound on 0.0.0.0 / :: would be
    const accepted: string[] = [];
    const servers = ['0.0.0.0', '::'].map((host) =>
      createServer((s) => {
        accepted.push(`${s.remoteAddress}`);
        s.destroy();
      }).listen({ host, port: MACHINE_PORT, ipv6Only: host === '::' }),
    );
    try {
      await Promise.all(servers.map((s) => new Promise((r) => s.once('listening', r))));
      // the bridges' gateways and link-local fe80::1, docker0, the machine's own network
      const targets = [...machineAddresses(), 'fe80::1%eth0'];
      const tryAll = `const net = require('net'); Promise.all(${JSON.stringify(targets)}.map((host) => new Promise((r) => {
        const s = net.connect({ host, port: ${MACHINE_PORT} });
        const t = setTimeout(() => { s.destroy(); r(null); }, 2000);
        s.on('connect', () => { clearTimeout(t); s.destroy(); r(host); });
        s.on('error', () => { clearTimeout(t); r(null); });
      }))).then((ok) => console.log(JSON.stringify(ok.filter(Boolean))));`;
      const hostsUp = (JSON.parse(lab(['status', '--json']).stdout) as { host: string; state: string }[])
        .filter((h) => h.state === 'running' && h.host !== 'bridge-rules')
        .map((h) => h.host);
      const reached = await Promise.all(
        hostsUp.map(
          (host) =>
            new Promise<string>((resolve) => {
              const p = spawn('docker', ['exec', containerOf(host), 'node', '-e', tryAll]);
              let out = '';
              p.stdout.on('data', (b: Buffer) => {
                out += b.toString();
              });
              p.on('close', () => resolve(`${host}: ${out.trim()}`));
            }),
        ),
      );
      expect(targets.length).toBeGreaterThan(3);
      expect(reached).toEqual(hostsUp.map((h) => `${h}: []`));
      expect(accepted).toEqual([]);
      expect(isolationRules().length).toBeGreaterThanOrEqual(networks.length);
    } finally {
      for (const s of servers) s.close();
    }
  }, 60_000);

  it('answers on every IPv6 address a host has, on each TCP port it listens on with IPv4', () => {
    const list = JSON.parse(lab(['status', '--json']).stdout) as { host: string; ports: string[] }[];
    const checked: string[] = [];
    for (const h of list.filter((x) => x.host !== 'bridge-rules')) {
      for (const p of h.ports) {
        const m = /^(http|https|tcp) (\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(p);
        if (!m) continue;
        const network = networks.find((n) => m[2].startsWith(`172.28.${n.index}.`));
        if (!network) continue;
        const v6 = planAddress6(h.host, network.name);
        const r = inHost(h.host, [
          'node',
          '-e',
          `require('net').connect(${m[3]}, '${v6}').on('connect', () => process.exit(0)).on('error', (e) => { console.log(e.code); process.exit(1); })`,
        ]);
        expect(r.status, `${h.host} [${v6}]:${m[3]} ${r.stdout}`).toBe(0);
        checked.push(`${h.host}:${m[3]}`);
      }
    }
    // ca.test's AAAA, web2's and app's (docker's DNS) among them
    expect(checked).toEqual(expect.arrayContaining(['ca:80', 'web2:80', 'app:80', 'proxy:443']));
  });

  it('acme: containers get their certificates through ACME only; POST /issue answers the machine alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enterlab-issue-'));
    try {
      const csrFile = opensslCsr(dir, 'www.example.test', 'DNS:www.example.test');
      const csr = readFileSync(csrFile, 'utf8');
      const post = `const b = ${JSON.stringify(csr)}; require('http').request({ host: '${planAddress('ca')}', path: '/issue', method: 'POST', headers: { host: 'ca.test', 'content-type': 'application/pkcs10', 'content-length': Buffer.byteLength(b) } }, (r) => { let t = ''; r.on('data', (c) => { t += c; }); r.on('end', () => console.log(r.statusCode + ' ' + t)); }).on('error', (e) => console.log('error ' + e.code)).end(b)`;
      for (const host of ['browser', 'proxy', 'web2']) {
        const r = inHost(host, ['node', '-e', post]);
        expect(r.stdout, host).toMatch(
          new RegExp(
            `^403 POST /issue is for the lab's CLI on this machine only, not ${host}: .*/acme/directory`,
          ),
        );
      }
      // the machine (its side of the internet network, 172.28.2.1) still issues
      const issued = sh('curl', [
        '-s',
        '--max-time',
        '10',
        '--data-binary',
        `@${csrFile}`,
        `http://${planAddress('ca')}/issue`,
      ]);
      expect(issued).toMatch(/^-----BEGIN CERTIFICATE-----/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // what the CA signed since it started: the hosts' certificates after an ACME validation, the
    // machine's over /issue
    const started =
      Date.parse(sh('docker', ['inspect', '-f', '{{.State.StartedAt}}', containerOf('ca')]).trim()) * 1000;
    const issues = eventsSince('ca', started)
      .filter((e) => e.kind === 'ca.issue')
      .map((e) => ({ data: e.data as { requester: string; kind?: string } }));
    const byHost = issues.filter((e) => ['proxy', 'web2', 'resolver'].includes(e.data.requester));
    expect(byHost.map((e) => e.data.requester)).toEqual(expect.arrayContaining(['proxy', 'web2']));
    for (const e of byHost) expect(e.data.kind, e.data.requester).toBe('acme');
    expect(issues.filter((e) => e.data.kind === undefined).map((e) => e.data.requester)).toEqual([
      `172.28.${networks.find((n) => n.name === 'internet')?.index}.1`,
    ]);
  });

  it('records lab capture start/stop on docker into a file Wireshark decrypts, with comments', () => {
    rmSync(join(PROJECT_ROOT, '.lab', 'capture.json'), { force: true });
    const start = lab(['capture', 'start', '--json']);
    expect(start.status, start.stderr).toBe(0);
    const { pid } = JSON.parse(start.stdout) as { pid: number };
    expect(lab(['browse', '--no-cache', 'https://www.example.test/hej']).status).toBe(0);
    const stop = lab(['capture', 'stop', '--json']);
    expect(stop.status, stop.stderr).toBe(0);
    const done = JSON.parse(stop.stdout) as { pcap: string; secrets: boolean; comments: number };
    expect(done.secrets).toBe(true);
    expect(done.comments).toBeGreaterThan(0);
    // dumpcap is gone with the capture: no such process, or one that has exited and waits only for
    // init to reap it (a zombie keeps its /proc entry for a moment, state Z, and no command line)
    let stat = '';
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {}
    expect(stat === '' || stat.slice(stat.lastIndexOf(')')).startsWith(') Z '), stat).toBe(true);
    expect(tsharkFields(done.pcap, 'http2.header', ['frame.number']).length).toBeGreaterThan(0);
  }, 120_000);

  it('gives lab capture --live a key log file that exists on this machine', async () => {
    const live = spawn(process.execPath, [LAB, 'capture', '--live', '--runtime', 'docker'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.stdout.resume();
    const said = await new Promise<string>((resolve) => {
      let err = '';
      live.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        if (/keylog_file:\S+\n/.test(err)) resolve(err);
      });
      setTimeout(() => resolve(err), 20_000);
    });
    const keys = /keylog_file:(\S+)/.exec(said)?.[1] ?? '';
    try {
      expect(keys.startsWith('/')).toBe(true);
      expect(existsSync(keys)).toBe(true);
    } finally {
      live.kill('SIGINT');
      await new Promise((r) => live.once('close', r));
    }
  }, 60_000);

  it('shows a paused container as paused, and running again once unpaused', () => {
    // the cgroup freezer can refuse while a healthcheck's `runc exec` is joining the container
    // ("unable to freeze"): that is the engine, not the lab, so the pause is tried again
    for (let attempt = 1; ; attempt++) {
      try {
        sh('docker', ['pause', containerOf('ns-tld')]);
        break;
      } catch (err) {
        if (attempt === 5 || !/unable to freeze/.test(String(err))) throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
      }
    }
    try {
      const list = JSON.parse(lab(['status', '--json']).stdout) as { host: string; state: string }[];
      expect(list.find((h) => h.host === 'ns-tld')?.state).toBe('paused');
    } finally {
      sh('docker', ['unpause', containerOf('ns-tld')]);
    }
    // its healthcheck timed out while it was frozen: running again once the next probe passes
    const t0 = Date.now();
    let state = '';
    while (state !== 'running' && Date.now() - t0 < 30_000) {
      const list = JSON.parse(lab(['status', '--json']).stdout) as { host: string; state: string }[];
      state = list.find((h) => h.host === 'ns-tld')?.state ?? '';
    }
    expect(state).toBe('running');
  }, 60_000);

  it('puts back a DOCKER-USER rule deleted by hand, and lab status lists the rules', async () => {
    const rule = dockerUserRules().find((r) => r.includes('lab-home')) ?? '';
    expect(rule).not.toBe('');
    sh('iptables', ['-w', ...rule.replace(/^-A /, '-D ').split(' ')]);
    expect(dockerUserRules()).toHaveLength(networks.length - 1);
    const t0 = Date.now();
    while (dockerUserRules().length < networks.length && Date.now() - t0 < 30_000)
      await new Promise((r) => setTimeout(r, 250));
    expect(dockerUserRules()).toHaveLength(networks.length);
    const row = (
      JSON.parse(lab(['status', '--json']).stdout) as { host: string; state: string; reason: string }[]
    ).find((h) => h.host === 'bridge-rules');
    // the row names the rules (or, on a machine too loaded to answer in 20 s, says they went unchecked)
    expect(row).toMatchObject({
      state: 'running',
      reason: expect.stringMatching(/accepts lab-home|not checked/),
    });
    expect(sh('docker', ['logs', containerOf('bridge-rules')])).toMatch(
      /added again: missing: \S+ DOCKER-USER rule for lab-home/,
    );
  }, 90_000);

  it("keeps compose's view of an idle lab quiet: readable lines, no raw JSON, nothing of the proxy's probe", async () => {
    const from = nowMicros();
    await new Promise((r) => setTimeout(r, 12_000)); // the probe asks the app every 2 s
    const all = composeLogs();
    const idle = all.filter((l) => l.at >= from).map((l) => `${l.service} | ${l.text}`);
    // the probe's requests are still events, marked as the probe's, in the app's events file
    const probed = eventsSince('app', from).filter((e) => e.probe);
    expect(probed.filter((e) => e.kind === 'http.access').length).toBeGreaterThanOrEqual(4);
    expect(
      idle.filter((l) => /proxy-probe|\/hej/.test(l)),
      'probe lines',
    ).toEqual([]);
    expect(idle.length, idle.join('\n')).toBeLessThanOrEqual(3);
    // the whole run so far: not one raw JSON line, and events as people read them
    expect(all.filter((l) => l.text.trimStart().startsWith('{')).length, 'raw JSON lines').toBe(0);
    const ready = all.filter((l) => / service\.ready +\S+ \(\w+\) is ready/.test(l.text));
    expect(ready.map((l) => l.text)).toContainEqual(
      expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} service\.ready/),
    );
  }, 60_000);

  it('says in one line that a state dir is unwritable, and lab restart heals it', () => {
    // the service started by hand as its user, on a state dir it cannot write
    const c = containerOf('web2');
    sh('docker', [
      'exec',
      c,
      'sh',
      '-c',
      'mkdir -p /tmp/ro/hosts/web2 && touch /tmp/ro/hosts/web2/control.sock && chmod 555 /tmp/ro/hosts/web2',
    ]);
    const r = spawnSync(
      'docker',
      [
        'exec',
        '-u',
        'node',
        '-e',
        'LAB_STATE_DIR=/tmp/ro',
        c,
        'node',
        '/lab/dist/services/app/main.js',
        '--host',
        'web2',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /state directory \/tmp\/ro\/hosts\/web2 is not writable \(EACCES .*\): chown -R \d+:\d+ \/tmp\/ro\/hosts\/web2/,
    );
    // the real one taken from it: a restart gives it back
    sh('docker', ['exec', c, 'chown', '-R', 'root:root', '/lab/state/hosts/web2']);
    expect(lab(['restart', 'web2']).status).toBe(0);
    const list = JSON.parse(lab(['status', '--json']).stdout) as { host: string; state: string }[];
    expect(list.find((h) => h.host === 'web2')?.state).toBe('running');
  }, 60_000);

  const scenarios = readdirSync(join(PROJECT_ROOT, 'scenarios'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({
      name: f.replace(/\.yaml$/, ''),
      runtime: parse(readFileSync(join(PROJECT_ROOT, 'scenarios', f), 'utf8')).runtime,
    }))
    .filter((s) => !s.runtime || s.runtime.includes('docker'));
  for (const sc of scenarios) {
    const known = FAILING_EVERYWHERE[sc.name];
    it.skipIf(!!known)(
      `passes scenario ${sc.name}${known ? ` (skipped: ${known})` : ''}`,
      () => {
        const capture = CAPTURED.includes(sc.name);
        const r = lab(['run', sc.name, ...(capture ? ['--capture'] : [])], 150_000);
        // 77: skipped, with its reason (e.g. a middlebox scenario while the middlebox is not built)
        expect([0, 77], `${r.stdout.slice(-1500)}\n${r.stderr}`).toContain(r.status);
        if (capture && r.status === 0) expectHonestCapture(join(latestRun(sc.name), 'capture.pcapng'));
      },
      160_000,
    );
  }

  it('shows a container that dies as dead, on the timeline too, and brings it back', async () => {
    const cursor = await new DockerRuntime(settingsFromEnv(env)).cursor();
    sh('docker', ['kill', containerOf('web2')]);
    await new Promise((r) => setTimeout(r, 1000));
    const died = (await cursor.read()).find((e) => e.kind === 'service.died');
    cursor.close?.();
    expect(died).toMatchObject({ host: 'web2', data: { exitCode: 137 } });
    const list = JSON.parse(lab(['status', '--json']).stdout) as {
      host: string;
      state: string;
      reason?: string;
    }[];
    expect(list.find((h) => h.host === 'web2')).toMatchObject({
      state: 'dead',
      reason: 'exited with code 137',
    });
    expect(lab(['status']).status).toBe(1);
    expect(lab(['start', 'web2']).status).toBe(0);
  }, 60_000);

  it('refuses a busy subnet with one line, leaving nothing half-started', () => {
    lab(['down']);
    sh('docker', ['network', 'create', '--subnet', '172.28.1.0/24', 'enterlab-test-busy']);
    try {
      const r = lab(['up']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /collides with docker network "enterlab-test-busy".*docker network rm enterlab-test-busy/,
      );
      expect(labResidue('container')).toEqual([]);
      expect(labResidue('network')).toEqual([]);
    } finally {
      sh('docker', ['network', 'rm', 'enterlab-test-busy']);
    }
  });

  it('says what to do when Docker is not running', () => {
    const r = spawnSync(
      process.execPath,
      [join(PROJECT_ROOT, 'dist/lab-cli/main.js'), 'up', '--runtime', 'docker'],
      {
        env: { ...process.env, DOCKER_HOST: 'unix:///tmp/enterlab-no-docker.sock' },
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Docker is not running here .*scripts\/docker-base\.sh --engine-only/);
  });

  it('tears down leaving no container, network or rule, keeps the CA volume, never touches /etc', () => {
    expect(lab(['up']).status).toBe(0);
    expect(lab(['down']).status).toBe(0);
    expect(labResidue('container')).toEqual([]);
    expect(labResidue('network')).toEqual([]);
    expect(dockerUserRules()).toEqual([]);
    expect(isolationRules()).toEqual([]);
    expect(labResidue('volume')).toEqual(['enterlab_ca-state']);
    for (const f of machineFiles) expect(sha256(f), f).toBe(before.get(f));
  }, 180_000);
});
