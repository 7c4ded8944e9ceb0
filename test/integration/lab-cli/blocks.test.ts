// Two labs from one checkout on two blocks (127.86, 127.87): each block has its own state, a
// command for one block never touches the other's processes, and a state file that names another
// lab or a pid that is not ours is said, never acted on.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../services/common/settings.js';

const A = '127.86';
const B = '127.87';
const stateOf = (block: string) => join(PROJECT_ROOT, '.lab', block);
const built = existsSync(join(PROJECT_ROOT, 'dist/services/nameserver/main.js'));
const baseEnv = { ...process.env, LAB_IPV6: '0', NO_COLOR: '1' };
delete baseEnv.LAB_STATE_DIR;
delete baseEnv.LAB_BLOCK;

function lab(block: string, ...args: string[]) {
  return spawnSync(
    process.execPath,
    [join(PROJECT_ROOT, 'dist/lab-cli/main.js'), '--block', block, ...args],
    {
      env: baseEnv,
      encoding: 'utf8',
    },
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Status {
  host: string;
  state: string;
  pid?: number;
  reason?: string;
}
const status = (block: string) => JSON.parse(lab(block, 'status', '--json').stdout) as Status[];

describe.skipIf(!built)('labs on two blocks from one checkout', () => {
  let pidA: number;
  beforeAll(async () => {
    for (const b of [A, B]) rmSync(stateOf(b), { recursive: true, force: true });
    // the runtime class is what `lab up` calls; one host is enough to own a pid
    const { LocalRuntime } = await import('../../../lab-cli/runtime/local.js');
    const { settingsFromEnv } = await import('../../../services/common/settings.js');
    await new LocalRuntime(settingsFromEnv(baseEnv, { block: A })).up({ hosts: ['ns-root'] });
    pidA = status(A).find((h) => h.host === 'ns-root')?.pid as number;
  });
  afterAll(() => {
    lab(A, 'down');
    for (const b of [A, B]) rmSync(stateOf(b), { recursive: true, force: true });
  });

  it('keeps each block state in its own directory, the default block in .lab/', async () => {
    const { settingsFromEnv } = await import('../../../services/common/settings.js');
    expect(settingsFromEnv(baseEnv, { block: A }).stateDir).toBe(stateOf(A));
    expect(settingsFromEnv(baseEnv, { block: '127.28' }).stateDir).toBe(join(PROJECT_ROOT, '.lab'));
    expect(existsSync(join(stateOf(A), 'lab.json'))).toBe(true);
    expect(alive(pidA)).toBe(true);
  });

  it("shows none of another block's processes and stops none of them", () => {
    expect(status(B).find((h) => h.host === 'ns-root')?.state).toBe('stopped');
    expect(lab(B, 'down').status).toBe(0);
    expect(alive(pidA)).toBe(true);
    expect(status(A).find((h) => h.host === 'ns-root')?.state).toBe('running');
  });

  it('says so when a state file names another block, and never signals its pids', () => {
    // a copied checkout: block A's state file lying where block B looks
    mkdirSync(stateOf(B), { recursive: true });
    copyFileSync(join(stateOf(A), 'lab.json'), join(stateOf(B), 'lab.json'));
    const st = lab(B, 'status');
    expect(st.stderr).toContain(`names the lab of block ${A}`);
    expect(st.stderr).toContain(String(pidA));
    const down = lab(B, 'down');
    expect(down.stderr).toContain('Nothing in it is stopped');
    expect(alive(pidA)).toBe(true);
    expect(existsSync(join(stateOf(B), 'lab.json'))).toBe(true);
  });

  it('reports a recorded pid that is another program as dead, and leaves it alone at down', async () => {
    // a process of someone else's that even has "--host ns-tld" in its command line
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', '--', '--host', 'ns-tld'], {
      stdio: 'ignore',
    });
    try {
      const stateFile = join(stateOf(A), 'lab.json');
      const state = JSON.parse(readFileSync(stateFile, 'utf8'));
      state.hosts['ns-tld'] = { pid: other.pid, startedAt: Date.now(), service: 'nameserver' };
      writeFileSync(stateFile, JSON.stringify(state));
      const tld = status(A).find((h) => h.host === 'ns-tld');
      expect(tld?.state).toBe('dead');
      expect(tld?.reason).toMatch(/not signalled/);
      lab(A, 'stop', 'ns-tld');
      expect(alive(other.pid as number)).toBe(true);
      expect(alive(pidA)).toBe(true);
    } finally {
      other.kill();
    }
  });

  it('stops its own processes at down', async () => {
    expect(lab(A, 'down').status).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(pidA)).toBe(false);
  });
});
