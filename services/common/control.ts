// The control channel: one small typed protocol for every service, on a Unix socket in the host's
// state dir. A request is one JSON line {id, command, args}; the answer one line {id, ok, result|error}.
import { existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { basename, dirname } from 'node:path';

export interface ControlRequest {
  id: number;
  command: string;
  args?: Record<string, unknown>;
}

export type ControlResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string; code?: string };

/** A handler returns the result, or throws a ControlError (its message goes back to the caller). */
export type ControlHandler = (args: Record<string, unknown>) => unknown | Promise<unknown>;

/** One command: the arguments a caller sends, and the result it gets back. */
export interface CommandSpec {
  args: object;
  result: unknown;
}

/** A service's commands, command → {args, result}: one map (its commands.ts) for the service and the CLI. */
export type CommandMap = { [command: string]: CommandSpec };

/** Any command, for a host or a command named at run time (`lab ca <command>`, a scenario's `control`). */
export type AnyCommands = { [command: string]: { args: Record<string, unknown>; result: unknown } };

/** What a handler is given: the declared arguments, each still to be checked (they came off a socket). */
export type Untrusted<A> = { [K in keyof A]?: unknown };

/** The handler of command C of map M. */
export type CommandHandler<M extends CommandMap, C extends keyof M> = (
  args: Untrusted<M[C]['args']>,
) => M[C]['result'] | Promise<M[C]['result']>;

export class ControlError extends Error {
  constructor(
    message: string,
    readonly code = 'ERR_CONTROL',
  ) {
    super(message);
  }
}

const MAX_REQUEST_BYTES = 1 << 20;

export interface ControlServer<M extends CommandMap = AnyCommands> {
  register<C extends keyof M & string>(command: C, handler: CommandHandler<M, C>): void;
  commands(): string[];
  close(): Promise<void>;
}

export async function startControlServer<M extends CommandMap = AnyCommands>(
  path: string,
): Promise<ControlServer<M>> {
  const handlers = new Map<string, ControlHandler>();
  try {
    if (existsSync(path)) unlinkSync(path); // a socket file left by a killed process
  } catch (err) {
    throw stateDirProblem(err, path);
  }
  const server: Server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST_BYTES) {
        sock.end(`${JSON.stringify({ id: 0, ok: false, error: 'request too large' })}\n`);
        return;
      }
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void answer(line).then((res) => {
          if (!sock.destroyed) sock.write(`${JSON.stringify(res)}\n`);
        });
        nl = buf.indexOf('\n');
      }
    });
  });
  const answer = async (line: string): Promise<ControlResponse> => {
    let req: ControlRequest;
    try {
      req = JSON.parse(line);
      if (typeof req !== 'object' || req === null || typeof req.command !== 'string')
        throw new Error('shape');
    } catch {
      return { id: 0, ok: false, error: 'malformed control request: expected {"id","command","args"} JSON' };
    }
    const handler = handlers.get(req.command);
    if (!handler) {
      return {
        id: req.id,
        ok: false,
        error: `unknown command "${req.command}" (known: ${[...handlers.keys()].join(', ')})`,
      };
    }
    try {
      const result = await handler(req.args ?? {});
      return { id: req.id, ok: true, result: result ?? null };
    } catch (err) {
      const e = err as Error & { code?: string };
      return {
        id: req.id,
        ok: false,
        error: e.message,
        code: e instanceof ControlError ? e.code : undefined,
      };
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(stateDirProblem(err, path)));
    server.listen(path, () => resolve());
  });
  return {
    register(command, handler) {
      handlers.set(command, handler as ControlHandler);
    },
    commands: () => [...handlers.keys()],
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        try {
          unlinkSync(path);
        } catch {}
      }),
  };
}

/** An unwritable state directory, as the one line that says what is wrong and how to fix it. */
function stateDirProblem(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') return err;
  const dir = dirname(path);
  const who = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
  return new Error(
    `its state directory ${dir} is not writable (${code} on ${basename(path)}): chown -R ${who} ${dir}, then lab restart (docker: lab restart does the chown)`,
  );
}

/**
 * Sends one command and waits for its answer; rejects with the service's error message. R is the
 * result the command's handler is typed to return (its service's commands.ts): what comes off the
 * socket is taken as that, here and nowhere else.
 */
export function controlCall<R = unknown>(
  path: string,
  command: string,
  args: object = {},
  timeoutMs = 30_000,
): Promise<R> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer to "${command}" within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify({ id: 1, command, args })}\n`));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      try {
        const res = JSON.parse(buf.slice(0, nl)) as ControlResponse;
        if (res.ok) resolve(res.result as R);
        else reject(Object.assign(new Error(res.error), { code: res.code }));
      } catch {
        reject(new Error('malformed answer on the control channel'));
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
          ? Object.assign(new Error(`the host is not running (no control socket at ${path})`), {
              code: 'ERR_HOST_DOWN',
            })
          : err,
      );
    });
  });
}
