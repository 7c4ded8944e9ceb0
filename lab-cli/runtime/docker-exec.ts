// The control channel on docker: the CLI cannot reach a container's Unix socket, so it runs
// services/common/control-client.js inside the host's container (docker exec) and reads its answer.
import type Docker from 'dockerode';
import { demux } from './docker-engine.js';

const CONTROL_CLIENT = '/lab/dist/services/common/control-client.js';

export function controlArgv(
  host: string,
  command: string,
  args: Record<string, unknown>,
  timeoutMs: number,
): string[] {
  return ['node', CONTROL_CLIENT, host, command, JSON.stringify(args), String(timeoutMs)];
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function execIn(
  docker: Docker,
  id: string,
  cmd: string[],
  timeoutMs: number,
): Promise<ExecResult> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`no answer from ${cmd.slice(2, 4).join(' ')} within ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      clearTimeout(timer);
      stream.destroy(); // a hijacked socket can stay half-open and keep `lab run` from exiting
      resolve();
    });
    stream.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  const { stdout, stderr } = demux(Buffer.concat(chunks));
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, stdout, stderr };
}

/**
 * control-client prints one JSON line {ok, result} or {ok: false, error, code}. R is the result the
 * command's handler is typed to return (services/common/commands.ts), as in controlCall.
 */
export function parseControlAnswer<R = unknown>(r: ExecResult, command: string): R {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let answer: { ok: boolean; result?: unknown; error?: string; code?: string };
  try {
    answer = JSON.parse(line);
  } catch {
    throw new Error(
      `no answer to "${command}" from the container (exit ${r.exitCode}): ${r.stderr.trim().split('\n').pop() ?? ''}`,
    );
  }
  if (answer.ok) return answer.result as R;
  throw Object.assign(new Error(answer.error ?? `"${command}" failed`), { code: answer.code });
}
