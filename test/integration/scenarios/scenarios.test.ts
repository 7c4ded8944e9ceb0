// Every scenario in scenarios/ as an end-to-end test: one real lab on the local runtime (block
// 127.52), each scenario run by the `lab` CLI exactly as a workshop runs it. A scenario that cannot
// run here (root, middlebox, docker) must say so with exit 77, never pass silently.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listScenarioFiles } from '../../../lab-cli/scenario/load.js';
import { PROJECT_ROOT } from '../../../services/common/settings.js';

const tmp = mkdtempSync(join(tmpdir(), 'enterlab-scenarios-'));
const env = {
  ...process.env,
  LAB_BLOCK: '127.52',
  LAB_STATE_DIR: join(tmp, 'state'),
  LAB_RUNS_DIR: join(tmp, 'runs'),
  NO_COLOR: '1',
};
const lab = (...args: string[]) =>
  spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist/lab-cli/main.js'), ...args], {
    env,
    encoding: 'utf8',
    timeout: 180_000,
  });
const runDir = (name: string) =>
  join(
    tmp,
    'runs',
    readdirSync(join(tmp, 'runs'))
      .filter((d) => d.endsWith(`-${name}`))
      .sort()
      .pop() as string,
  );

beforeAll(() => {
  const up = lab('up');
  expect(up.status, up.stderr).toBe(0);
}, 60_000);
afterAll(() => {
  lab('down');
  rmSync(tmp, { recursive: true, force: true });
});

// every event a run wrote is one the services' events.ts unions declare, with that data's shape
const validEvent = new Ajv({ allErrors: true, strict: false }).compile(
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'docs/events.schema.json'), 'utf8')),
);
function invalidEvents(dir: string): string[] {
  return readFileSync(join(dir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .filter((line) => !validEvent(JSON.parse(line)))
    .map((line) => line.slice(0, 300));
}

// press-enter first: it expects a cold lab
const names = listScenarioFiles()
  .map((f) => f.replace(/^.*\//, '').replace(/\.ya?ml$/, ''))
  .sort((a, b) => (a === 'press-enter' ? -1 : b === 'press-enter' ? 1 : a.localeCompare(b)));

// a scenario that asserts on packets runs with --capture, so its packet expectations really run
const withPackets = new Set(
  listScenarioFiles()
    .filter((f) => /^\s+packets:/m.test(readFileSync(f, 'utf8')))
    .map((f) => f.replace(/^.*\//, '').replace(/\.ya?ml$/, '')),
);

describe('scenarios on the local runtime', () => {
  for (const name of names) {
    const capture = withPackets.has(name);
    it(`${name} passes (or says why it cannot run here)${capture ? ', packets checked in its capture' : ''}`, () => {
      const r = capture ? lab('run', name, '--capture') : lab('run', name);
      if (r.status === 77) {
        expect(r.stdout).toMatch(/SKIPPED (needs|runs on)/);
        return;
      }
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/PASSED/);
      expect(invalidEvents(runDir(name)), 'events that docs/events.schema.json refuses').toEqual([]);
      if (capture) {
        expect(r.stdout).toMatch(/• packets in the capture/);
        expect(r.stdout).not.toMatch(/not checked: run with --capture/);
      }
    }, 180_000);
  }

  it('checks packets in at least press-enter and hosts-override', () => {
    expect([...withPackets]).toEqual(expect.arrayContaining(['press-enter', 'hosts-override']));
  });

  it('press-enter leaves a HAR 1.2 that validates, with the page and its subresources', () => {
    const har = JSON.parse(readFileSync(join(runDir('press-enter'), 'browser.har'), 'utf8'));
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(
      JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/support/har-1.2.schema.json'), 'utf8')),
    );
    expect(validate(har), JSON.stringify(validate.errors)).toBe(true);
    const urls = har.log.entries.map((e: { request: { url: string } }) => e.request.url);
    expect(urls[0]).toBe('https://www.example.test/hej');
    expect(
      urls.filter((u: string) => u.startsWith('https://cdn.example.test/')).length,
    ).toBeGreaterThanOrEqual(10);
    expect(har.log.entries[0].timings.dns).toBeGreaterThan(0);
    expect(har.log.entries[0].connection).toBeDefined();
  });

  it('press-enter leaves a key log with TLS 1.3 secrets and a readable timeline', () => {
    const dir = runDir('press-enter');
    expect(readFileSync(join(dir, 'tls-keys.log'), 'utf8')).toMatch(
      /^CLIENT_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]{64} [0-9a-f]+$/m,
    );
    const timeline = readFileSync(join(dir, 'timeline.txt'), 'utf8');
    for (const host of ['browser', 'resolver', 'ns-root', 'ns-tld', 'ns-example', 'proxy', 'app'])
      expect(timeline).toMatch(new RegExp(` ${host} `));
    const shown = lab('show', dir);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/scenario press-enter: passed/);
  });
});
