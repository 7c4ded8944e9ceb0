// Starts real lab hosts for an integration test on the local runtime, in the test's own loopback
// block (never 127.28: a lab may be running), and stops them afterwards.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addLoopbackIpv6, removeLoopbackIpv6 } from '../../lab-cli/runtime/loopback.js';
import { controlCall } from '../../services/common/control.js';
import { parseEventLine } from '../../services/common/event-schema.js';
import type { LabEvent } from '../../services/common/events.js';
import {
  addressOf,
  controlSocketPath,
  type LabSettings,
  PROJECT_ROOT,
  settingsEnv,
  settingsFromEnv,
} from '../../services/common/settings.js';
import { hostSpec } from '../../services/common/topology.js';

export interface TestLab {
  settings: LabSettings;
  /** events each host printed so far */
  events(host?: string): LabEvent[];
  /** waits until an event matching the predicate has been printed */
  waitFor(pred: (e: LabEvent) => boolean, timeoutMs?: number): Promise<LabEvent>;
  control(host: string, command: string, args?: Record<string, unknown>): Promise<unknown>;
  address(host: string): string;
  start(host: string): Promise<void>;
  stop(host: string): Promise<void>;
  close(): Promise<void>;
}

export async function startTestLab(opts: {
  block: string;
  hosts: string[];
  ipv6?: boolean;
  env?: Record<string, string>;
}): Promise<TestLab> {
  const stateDir = mkdtempSync(join(tmpdir(), `enterlab-${opts.block}-`));
  const settings = settingsFromEnv(
    {},
    { runtime: 'local', block: opts.block, stateDir, ipv6: opts.ipv6 ?? false },
  );
  const children = new Map<string, ChildProcess>();
  const ipv6Added = settings.ipv6 ? addLoopbackIpv6(settings) : [];
  const events: LabEvent[] = [];
  const stderr = new Map<string, string>();

  const start = (host: string) =>
    new Promise<void>((resolve, reject) => {
      const spec = hostSpec(host);
      const child = spawn(
        process.execPath,
        [join(PROJECT_ROOT, 'dist/services', spec.service, 'main.js'), '--host', host],
        {
          env: { ...process.env, ...settingsEnv(settings), ...opts.env },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      children.set(host, child);
      let buf = '';
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        buf += chunk;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const ev = parseEventLine(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          if (ev) {
            events.push(ev);
            if (ev.kind === 'service.ready' && ev.host === host) resolve();
          }
          nl = buf.indexOf('\n');
        }
      });
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (c: string) => stderr.set(host, (stderr.get(host) ?? '') + c));
      child.on('exit', (code) => {
        children.delete(host);
        reject(new Error(`${host} exited with ${code}: ${stderr.get(host) ?? ''}`));
      });
    });

  const stop = async (host: string) => {
    const child = children.get(host);
    if (!child) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };

  const lab: TestLab = {
    settings,
    events: (host) => (host ? events.filter((e) => e.host === host) : [...events]),
    waitFor: (pred, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const t0 = Date.now();
        const tick = () => {
          const hit = events.find(pred);
          if (hit) return resolve(hit);
          if (Date.now() - t0 > timeoutMs) return reject(new Error('no matching event in time'));
          setTimeout(tick, 20);
        };
        tick();
      }),
    control: (host, command, args) => controlCall(controlSocketPath(host, settings), command, args),
    address: (host) => addressOf(host, settings),
    start,
    stop,
    close: async () => {
      await Promise.all([...children.keys()].map(stop));
      removeLoopbackIpv6(ipv6Added);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  try {
    for (const host of opts.hosts) await start(host);
  } catch (err) {
    await lab.close();
    throw err;
  }
  return lab;
}
