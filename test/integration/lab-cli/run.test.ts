// `lab run` end to end on real hosts (block 127.39): the story printed, expectations judged,
// the run directory written, exit codes a script can trust.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../../lab-cli/runtime/local.js';
import { PROJECT_ROOT, settingsFromEnv } from '../../../services/common/settings.js';

const BLOCK = '127.39';
const tmp = mkdtempSync(join(tmpdir(), 'enterlab-run-'));
const env = {
  ...process.env,
  LAB_BLOCK: BLOCK,
  LAB_STATE_DIR: join(tmp, 'state'),
  LAB_RUNS_DIR: join(tmp, 'runs'),
  LAB_IPV6: '0',
  NO_COLOR: '1',
};
const rt = new LocalRuntime(settingsFromEnv(env));
const built = existsSync(join(PROJECT_ROOT, 'dist/services/nameserver/main.js'));

function scenario(name: string, body: string): string {
  const p = join(tmp, `${name}.yaml`);
  writeFileSync(p, `title: ${name}\nstory: >\n  A test of the runner.\njourney: [13]\n${body}`);
  return p;
}

function run(file: string) {
  return spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist/lab-cli/main.js'), 'run', file], {
    env,
    encoding: 'utf8',
  });
}

describe.skipIf(!built)('lab run', () => {
  beforeAll(async () => {
    await rt.up({ hosts: ['ns-root', 'ns-tld'] });
  });
  afterAll(async () => {
    await rt.down();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('passes when the expected events appear, printing the story and each step', () => {
    const r = run(
      scenario(
        'restart',
        `steps:
  - say: The root server goes away and comes back.
  - host.restart: ns-root
  - expect:
      events:
        - { host: ns-root, kind: service.stop }
        - { host: ns-root, kind: service.ready, count: 1 }
      ordered: true
      absent:
        - { host: ns-tld, kind: service.ready }
`,
      ),
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/A test of the runner/);
    expect(r.stdout).toMatch(/» The root server goes away/);
    expect(r.stdout).toMatch(/2\. restart ns-root\n\s+ok/);
    expect(r.stdout).toMatch(/✓ ns-root service.ready ×1: seen 1/);
    expect(r.stdout).toMatch(/PASSED/);
    const runs = readdirSync(join(tmp, 'runs'));
    const dir = join(tmp, 'runs', runs.find((d) => d.endsWith('-restart')) as string);
    const events = readFileSync(join(dir, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.some((e) => e.host === 'ns-root' && e.kind === 'service.ready')).toBe(true);
    expect(readFileSync(join(dir, 'timeline.txt'), 'utf8')).toMatch(/ms {2}ns-root/);
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).verdict).toBe('passed');
  });

  it('fails with exit 1 and names the failed expectation', () => {
    const r = run(
      scenario(
        'unmet',
        `steps:
  - wait: 10
  - expect:
      within: 200
      events:
        - { host: ns-tld, kind: dns.answer, data: { name: never.test } }
`,
      ),
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/✗ ns-tld dns.answer .*seen 0/);
    expect(r.stdout).toMatch(/FAILED/);
  });

  it('skips with exit 77 and the reason when a needed host is missing', () => {
    const r = run(scenario('needs', `needs: [nobody]\nsteps:\n  - wait: 1\n`));
    expect(r.status).toBe(77);
    expect(r.stdout).toMatch(/SKIPPED needs "nobody"/);
  });

  it('refuses a bad scenario file with file:line:column and exit 2, running nothing', () => {
    const p = scenario('bad', `steps:\n  - wait: soon\n`);
    const r = run(p);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${p}:6:\\d+: wait`));
  });
});
