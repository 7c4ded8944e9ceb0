// Talking to the Docker engine with dockerode: a connection that fails with what to do next,
// log frames split into lines, and the lab's containers found by their compose labels.
import type Docker from 'dockerode';
import { PROJECT } from './compose.js';

/** Connects and pings; a missing or stopped engine is one line saying what to do. */
export async function connectEngine(): Promise<Docker> {
  // loaded when a command needs the engine: dockerode (with ssh2 and grpc) is half of the CLI's start
  const { default: Dockerode } = await import('dockerode');
  const docker = new Dockerode();
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(engineProblem(err as NodeJS.ErrnoException));
  }
  return docker;
}

export function engineProblem(err: NodeJS.ErrnoException): string {
  const fix = 'scripts/docker-base.sh --engine-only installs Docker from Debian and starts dockerd';
  if (err.code === 'ENOENT') return `Docker is not running here (no ${socketPath()}): ${fix}`;
  if (err.code === 'ECONNREFUSED') return `dockerd is not running (${socketPath()} refuses): ${fix}`;
  if (err.code === 'EACCES') return `no permission on ${socketPath()}: run as root or join the docker group`;
  return `cannot reach Docker: ${err.message}`;
}

function socketPath(): string {
  return process.env.DOCKER_HOST ?? '/var/run/docker.sock';
}

/**
 * Splits Docker's multiplexed log/exec stream (8-byte header: stream, 0, 0, 0, big-endian length)
 * into stdout and stderr text; a TTY stream has no headers and is all stdout.
 */
export function demux(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let i = 0;
  if (buf.length >= 8 && (buf[0] > 2 || buf[1] !== 0 || buf[2] !== 0 || buf[3] !== 0))
    return { stdout: buf.toString('utf8'), stderr: '' };
  while (i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    const chunk = buf.subarray(i + 8, i + 8 + len);
    (buf[i] === 2 ? err : out).push(chunk);
    i += 8 + len;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** Frames arriving in pieces: feed chunks, get complete lines of each stream. */
export class FrameSplitter {
  private buf = Buffer.alloc(0);
  private partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };

  push(chunk: Buffer): { stream: 'stdout' | 'stderr'; line: string }[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const lines: { stream: 'stdout' | 'stderr'; line: string }[] = [];
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) break;
      const stream = this.buf[0] === 2 ? 'stderr' : 'stdout';
      const text = this.partial[stream] + this.buf.subarray(8, 8 + len).toString('utf8');
      this.buf = this.buf.subarray(8 + len);
      const parts = text.split('\n');
      this.partial[stream] = parts.pop() ?? '';
      for (const line of parts) if (line.length) lines.push({ stream, line });
    }
    return lines;
  }
}

/** The lab's containers by host name (compose service), this project only. */
export async function labContainers(docker: Docker): Promise<Map<string, Docker.ContainerInfo>> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`com.docker.compose.project=${PROJECT}`] },
  });
  return new Map(list.map((c) => [c.Labels['com.docker.compose.service'], c]));
}
