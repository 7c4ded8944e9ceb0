// The local runtime for real: hosts as processes in this test's own loopback block (127.40).
import { execFileSync, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../../lab-cli/runtime/local.js';
import { PROJECT_ROOT, settingsFromEnv } from '../../../services/common/settings.js';

const BLOCK = '127.40';
const stateDir = mkdtempSync(join(tmpdir(), 'enterlab-runtime-'));
const env = { ...process.env, LAB_BLOCK: BLOCK, LAB_STATE_DIR: stateDir, LAB_IPV6: '0', NO_COLOR: '1' };
const settings = settingsFromEnv(env);
const rt = new LocalRuntime(settings);
const HOSTS = ['ns-root', 'ns-tld'];
const built = existsSync(join(PROJECT_ROOT, 'dist/services/nameserver/main.js'));

function lab(...args: string[]) {
  return spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist/lab-cli/main.js'), ...args], {
    env,
    encoding: 'utf8',
  });
}

/** pids whose environment names this test's state dir: every process the runtime started */
function labProcesses(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/environ`, 'utf8').includes(`LAB_STATE_DIR=${stateDir}\0`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function listenersInBlock(): string[] {
  const out = execFileSync('ss', ['-ltnupH'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(` ${BLOCK}.`));
}

describe.skipIf(!built)('local runtime', () => {
  beforeAll(async () => {
    await rt.up({ hosts: HOSTS });
  });
  afterAll(async () => {
    await rt.down();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('starts each host bound to its projected address and shows it running', () => {
    const r = lab('status', '--json');
    const status = JSON.parse(r.stdout) as { host: string; state: string; pid?: number; ports: string[] }[];
    for (const h of HOSTS) {
      const s = status.find((x) => x.host === h);
      expect(s?.state, h).toBe('running');
      expect(s?.ports.join(' ')).toContain(`${BLOCK}.2.1`);
    }
    expect(listenersInBlock().length).toBeGreaterThan(0);
  });

  it('says so when the lab is already up, and starts nothing', async () => {
    const again = await rt.up({ hosts: HOSTS });
    expect(again.alreadyUp).toBe(true);
    expect(again.started).toEqual([]);
  });

  it('shows a host killed with SIGKILL as dead, and exits non-zero', async () => {
    const pid = (await rt.status()).find((s) => s.host === 'ns-tld')?.pid as number;
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const r = lab('status');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/ns-tld\s.*\sdead/);
    await rt.start('ns-tld');
    expect((await rt.status()).find((s) => s.host === 'ns-tld')?.state).toBe('running');
  });

  it('refuses to start a host whose port is taken, naming host and port, leaving nothing running', async () => {
    await rt.stop('ns-tld');
    const squatter = createSocket('udp4');
    await new Promise<void>((r) => squatter.bind(settings.portOffset + 53, `${BLOCK}.2.12`, () => r()));
    try {
      await expect(rt.start('ns-tld')).rejects.toThrow(/port 53 on 127\.40\.2\.12 is in use/);
      expect((await rt.status()).find((s) => s.host === 'ns-tld')?.state).not.toBe('running');
    } finally {
      squatter.close();
    }
    await rt.start('ns-tld');
  });

  it('records every host event in its log, readable with lab logs', () => {
    const r = lab('logs', 'ns-root');
    expect(r.stdout).toMatch(/service\.ready/);
  });

  it('leaves no process and no listener after lab down', async () => {
    const r = lab('down');
    expect(r.status).toBe(0);
    expect(labProcesses()).toEqual([]);
    expect(listenersInBlock()).toEqual([]);
  });
});
