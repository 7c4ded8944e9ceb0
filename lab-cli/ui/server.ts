// `lab ui`'s web server: the page, its live stream (hub.ts), and the few actions it can take — each
// the same code the CLI runs (the browser host's `browse`, the scenario runner, the scenario actions).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../services/common/settings.js';
import type { Runtime } from '../runtime/types.js';
import { startHub } from './hub.js';
import { uiPage } from './page.js';
import { browseFromUi, runControl, runFromUi, scenarioList, type UiContext } from './workshop.js';

export interface UiServer {
  url: string;
  token: string;
  close(): Promise<void>;
}

const RUN_FILE_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  json: 'application/json',
  jsonl: 'application/x-ndjson',
  har: 'application/json',
  mmd: 'text/plain; charset=utf-8',
  pcapng: 'application/vnd.tcpdump.pcap',
};
const MAX_BODY = 64 * 1024;

/** the page's script: compiled by tsc next to this file's JavaScript in dist/ */
const clientScript = () => readFileSync(join(PROJECT_ROOT, 'dist/lab-cli/ui/client/app.js'));

export async function startUi(
  runtime: Runtime,
  o: { host: string; port: number; runsDir: string; token?: string },
): Promise<UiServer> {
  const token = o.token ?? randomBytes(18).toString('base64url');
  const hub = await startHub(runtime);
  const ctx: UiContext = { runtime, hub, runsDir: o.runsDir, busy: false };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent)
        json(res, (err as Error & { status?: number }).status ?? 500, { error: err.message });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    // a token in the URL: only people given the link can see or drive the lab
    if (!sameToken(url.searchParams.get('token') ?? '', token)) {
      res
        .writeHead(403, { 'content-type': 'text/plain' })
        .end('lab ui: open the link `lab ui` printed (it carries the token)\n');
      return;
    }
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /') return send(res, 200, 'text/html; charset=utf-8', uiPage(token));
    if (route === 'GET /app.js') return send(res, 200, 'text/javascript; charset=utf-8', clientScript());
    if (route === 'GET /events') return hub.attach(res);
    if (route === 'GET /api/scenarios') return json(res, 200, await scenarioList());
    if (route === 'POST /api/browse') return json(res, 200, await browseFromUi(ctx, await body(req)));
    if (route === 'POST /api/run') return runRoute(res, await body(req));
    if (route === 'POST /api/control') {
      const b = await body(req);
      const r = await runControl(ctx, String(b.control ?? ''), b.args);
      return json(res, r.ok ? 200 : 400, r);
    }
    if (req.method === 'GET' && url.pathname.startsWith('/runs/')) return runFile(res, url.pathname);
    json(res, 404, { error: `no ${route}` });
  }

  async function runRoute(res: ServerResponse, b: Record<string, unknown>) {
    if (ctx.busy) return json(res, 409, { error: 'a scenario is running; wait for its verdict' });
    ctx.busy = true;
    try {
      json(res, 200, await runFromUi(ctx, String(b.name ?? ''), b.capture === true));
    } finally {
      ctx.busy = false;
    }
  }

  /** /runs/<run>/<file>: a run's own files by exact name, as `lab show --open` serves them */
  function runFile(res: ServerResponse, path: string) {
    const [, , run, name, ...rest] = path.split('/').map(decodeURIComponent);
    const dir = join(o.runsDir, run ?? '');
    const ok =
      run &&
      name &&
      rest.length === 0 &&
      readdirSafe(o.runsDir).includes(run) &&
      readdirSafe(dir).includes(name);
    if (!ok) return json(res, 404, { error: `no such run file ${path}` });
    send(
      res,
      200,
      RUN_FILE_TYPES[name.split('.').pop() ?? ''] ?? 'application/octet-stream',
      readFileSync(join(dir, name)),
    );
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    token,
    close: async () => {
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const readdirSafe = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

function send(res: ServerResponse, status: number, type: string, body: string | Buffer) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

function json(res: ServerResponse, status: number, data: unknown) {
  send(res, status, 'application/json', JSON.stringify(data));
}

/** a JSON object body of at most 64 KiB; anything else is a 400 */
async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(c as Buffer);
  }
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw Object.assign(new Error('the body must be a JSON object'), { status: 400 });
}
