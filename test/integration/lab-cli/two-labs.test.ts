// Issue 19's check: two labs from one checkout on two blocks (127.88, 127.89) at the same time,
// browsed and running press-enter at once; one taken down, the other still passes press-enter, and
// nothing of one appears in the other's state or runs.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../services/common/settings.js';

const A = '127.88';
const B = '127.89';
const runs = mkdtempSync(join(tmpdir(), 'enterlab-two-labs-'));
const stateOf = (block: string) => join(PROJECT_ROOT, '.lab', block);
const built = existsSync(join(PROJECT_ROOT, 'dist/lab-cli/main.js'));
const env: NodeJS.ProcessEnv = { ...process.env, LAB_RUNS_DIR: runs, NO_COLOR: '1' };
delete env.LAB_STATE_DIR;
delete env.LAB_BLOCK;

function lab(
  block: string,
  ...args: string[]
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [join(PROJECT_ROOT, 'dist/lab-cli/main.js'), '--block', block, ...args],
      {
        env,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe.skipIf(!built)('two labs from one checkout', () => {
  afterAll(async () => {
    await Promise.all([lab(A, 'down'), lab(B, 'down')]);
    for (const b of [A, B]) rmSync(stateOf(b), { recursive: true, force: true });
    rmSync(runs, { recursive: true, force: true });
  });

  it('start side by side, each with its own state', async () => {
    for (const b of [A, B]) rmSync(stateOf(b), { recursive: true, force: true });
    const [ua, ub] = await Promise.all([lab(A, 'up'), lab(B, 'up')]);
    expect(ua.status, ua.stderr).toBe(0);
    expect(ub.status, ub.stderr).toBe(0);
    const stateA = JSON.parse(readFileSync(join(stateOf(A), 'lab.json'), 'utf8'));
    const stateB = JSON.parse(readFileSync(join(stateOf(B), 'lab.json'), 'utf8'));
    const pids = (s: { hosts: Record<string, { pid: number }> }) => Object.values(s.hosts).map((h) => h.pid);
    expect(pids(stateA).filter((p) => pids(stateB).includes(p))).toEqual([]);
    expect(JSON.stringify(stateB)).not.toContain(A);
  }, 120_000);

  it('browse and run press-enter on both at the same time, into separate run directories', async () => {
    const [ba, bb] = await Promise.all([
      lab(A, 'browse', 'https://www.example.test/hej'),
      lab(B, 'browse', 'https://www.example.test/hej'),
    ]);
    expect(ba.stdout, ba.stderr).toMatch(/^200 https:\/\/www\.example\.test\/hej/);
    expect(bb.stdout, bb.stderr).toMatch(/^200 https:\/\/www\.example\.test\/hej/);
    const [ra, rb] = await Promise.all([lab(A, 'run', 'press-enter'), lab(B, 'run', 'press-enter')]);
    expect(ra.status, ra.stdout + ra.stderr).toBe(0);
    expect(rb.status, rb.stdout + rb.stderr).toBe(0);
    const dirs = readdirSync(runs);
    expect(dirs.filter((d) => d.endsWith(`${A}-press-enter`))).toHaveLength(1);
    expect(dirs.filter((d) => d.endsWith(`${B}-press-enter`))).toHaveLength(1);
    const runB = dirs.find((d) => d.endsWith(`${B}-press-enter`)) as string;
    expect(readFileSync(join(runs, runB, 'events.jsonl'), 'utf8')).not.toContain(`${A}.`);
  }, 240_000);

  it('with one taken down, the other still passes press-enter', async () => {
    const down = await lab(A, 'down');
    expect(down.status).toBe(0);
    const status = JSON.parse((await lab(B, 'status', '--json')).stdout) as { state: string }[];
    expect(status.filter((h) => h.state === 'dead')).toEqual([]);
    const r = await lab(B, 'run', 'press-enter');
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 240_000);
});
