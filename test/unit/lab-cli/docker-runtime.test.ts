// The docker runtime's pure parts: compose command lines (v1 and v2), Docker's log frames,
// container states, the control channel's answers, and busy-subnet detection.
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { downArgs, upArgs } from '../../../lab-cli/runtime/compose.js';
import { composeProblem, hostState } from '../../../lab-cli/runtime/docker.js';
import { demux, FrameSplitter } from '../../../lab-cli/runtime/docker-engine.js';
import { controlArgv, parseControlAnswer } from '../../../lab-cli/runtime/docker-exec.js';
import { containerRunDir } from '../../../lab-cli/runtime/docker-files.js';
import { overlaps, planSubnets } from '../../../lab-cli/runtime/docker-plan.js';

const v1 = { command: 'docker-compose', prefix: [], version: 1 as const };
const v2 = { command: 'docker', prefix: ['compose'], version: 2 as const };

function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

function inspect(state: Partial<Docker.ContainerInspectInfo['State']>): Docker.ContainerInspectInfo {
  return {
    State: { Running: false, Status: 'exited', ExitCode: 0, OOMKilled: false, ...state },
  } as Docker.ContainerInspectInfo;
}

describe('compose command lines', () => {
  it('runs the same subcommands through docker compose (v2) and docker-compose (v1)', () => {
    expect(upArgs(v2, ['browser'])).toEqual([
      'compose',
      '-p',
      'enterlab',
      'up',
      '-d',
      '--no-build',
      '--remove-orphans',
      'browser',
    ]);
    expect(upArgs(v1)).toEqual(['-p', 'enterlab', 'up', '-d', '--no-build', '--remove-orphans']);
  });

  it('keeps the volumes on down unless asked', () => {
    expect(downArgs(v1)).not.toContain('--volumes');
    expect(downArgs(v2, true)).toEqual([
      'compose',
      '-p',
      'enterlab',
      'down',
      '--remove-orphans',
      '--timeout',
      '6',
      '--volumes',
    ]);
  });
});

describe("Docker's multiplexed streams", () => {
  it('splits stdout from stderr by the frame header', () => {
    const r = demux(Buffer.concat([frame(1, '{"a":1}\n'), frame(2, 'oops\n'), frame(1, '{"b":2}\n')]));
    expect(r).toEqual({ stdout: '{"a":1}\n{"b":2}\n', stderr: 'oops\n' });
  });

  it('joins a line split across frames and chunks, per stream', () => {
    const s = new FrameSplitter();
    const all = Buffer.concat([frame(1, '{"ts":1,'), frame(2, 'warn\n'), frame(1, '"x":2}\nnext')]);
    expect(s.push(all.subarray(0, 5))).toEqual([]);
    expect(s.push(all.subarray(5))).toEqual([
      { stream: 'stderr', line: 'warn' },
      { stream: 'stdout', line: '{"ts":1,"x":2}' },
    ]);
    expect(s.push(frame(1, '\n'))).toEqual([{ stream: 'stdout', line: 'next' }]);
  });
});

describe('container states as lab host states', () => {
  it('reads running, starting, stopped (exit 0) and dead (anything else)', () => {
    expect(
      hostState(inspect({ Running: true, Status: 'running', Health: { Status: 'healthy' } as never })).state,
    ).toBe('running');
    expect(
      hostState(inspect({ Running: true, Status: 'running', Health: { Status: 'starting' } as never })).state,
    ).toBe('starting');
    expect(hostState(inspect({ ExitCode: 0 })).state).toBe('stopped');
    expect(hostState(inspect({ ExitCode: 137 }))).toEqual({ state: 'dead', reason: 'exited with code 137' });
    expect(hostState(inspect({ ExitCode: 137, OOMKilled: true })).reason).toBe('killed: out of memory');
    expect(hostState(undefined).state).toBe('stopped');
  });

  it('reads a docker-paused container (Running and Paused) as paused, not running or dead', () => {
    const paused = {
      ...inspect({ Running: true, Paused: true, Status: 'paused' }),
      Name: '/enterlab_ns-tld_1',
    };
    expect(hostState(paused)).toEqual({
      state: 'paused',
      reason: 'frozen: docker unpause enterlab_ns-tld_1',
    });
  });
});

describe('the control channel through docker exec', () => {
  it('passes host, command, JSON args and timeout to control-client', () => {
    expect(controlArgv('browser', 'hosts.add', { name: 'a.test', address: '172.28.2.81' }, 5000)).toEqual([
      'node',
      '/lab/dist/services/common/control-client.js',
      'browser',
      'hosts.add',
      '{"name":"a.test","address":"172.28.2.81"}',
      '5000',
    ]);
  });

  it("returns the result, or throws the service's error with its code", () => {
    expect(
      parseControlAnswer({ exitCode: 0, stdout: '{"ok":true,"result":{"n":1}}\n', stderr: '' }, 'x'),
    ).toEqual({ n: 1 });
    expect(() =>
      parseControlAnswer(
        { exitCode: 1, stdout: '{"ok":false,"error":"no such cert","code":"ERR_X"}\n', stderr: '' },
        'x',
      ),
    ).toThrow(expect.objectContaining({ message: 'no such cert', code: 'ERR_X' }));
    expect(() => parseControlAnswer({ exitCode: 126, stdout: '', stderr: 'exec failed\n' }, 'ping')).toThrow(
      /no answer to "ping" from the container \(exit 126\): exec failed/,
    );
  });

  it("writes a run's files in the host's own state dir, by the run's name", () => {
    expect(containerRunDir('browser', '/work/runs/20261201-1200-press-enter')).toBe(
      '/lab/state/hosts/browser/runs/20261201-1200-press-enter',
    );
  });
});

describe('busy subnets', () => {
  it('finds overlaps between IPv4 networks of any size, and the same IPv6 /64', () => {
    expect(overlaps('172.28.0.0/16', '172.28.2.0/24')).toBe(true);
    expect(overlaps('172.28.2.128/25', '172.28.2.0/24')).toBe(true);
    expect(overlaps('172.28.4.0/24', '172.28.2.0/24')).toBe(false);
    expect(overlaps('172.17.0.0/16', '172.28.1.0/24')).toBe(false);
    expect(overlaps('fd28:2::/64', 'fd28:2::/64')).toBe(true);
    expect(overlaps('fd28:2::/64', '172.28.2.0/24')).toBe(false);
  });

  it('derives the plan subnets and bridges from the topology', () => {
    expect(planSubnets().map((p) => `${p.network} ${p.v4} ${p.v6} ${p.bridge}`)).toEqual([
      'home 172.28.1.0/24 fd28:1::/64 lab-home',
      'internet 172.28.2.0/24 fd28:2::/64 lab-internet',
      'backend 172.28.3.0/24 fd28:3::/64 lab-backend',
    ]);
  });

  it("turns compose's pool overlap error into what to do", () => {
    const err = Object.assign(new Error('Command failed'), {
      stderr: 'ERROR: Pool overlaps with other one on this address space',
    });
    expect(composeProblem(err)).toMatch(/used by another docker network: docker network ls/);
  });
});
