// A request with curl, the way a workshop pokes at a server: through the proxy (as the internet sees
// it, trusting the lab's root) or straight at the app's backend address (as the proxy does).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { addressOf, port } from '../../services/common/settings.js';
import { defineAction } from '../scenario/types.js';

const run = promisify(execFile);

const curlArgs = z
  .object({
    url: z.string().url(),
    /** proxy: to the proxy's internet address; app: straight to the app, from the proxy's backend address */
    via: z.enum(['proxy', 'app']).default('proxy'),
    method: z
      .string()
      .regex(/^[A-Z]+$/)
      .default('GET'),
    headers: z.record(z.string(), z.string()).default({}),
    /** the response must have this status */
    status: z.number().int().optional(),
    http2: z.boolean().default(false),
  })
  .strict();

export const actions = [
  defineAction({
    name: 'curl',
    schema: z.union([
      z
        .string()
        .url()
        .transform((url) => curlArgs.parse({ url })),
      curlArgs,
    ]),
    describe: (a) =>
      `curl ${a.method === 'GET' ? '' : `-X ${a.method} `}${Object.entries(a.headers)
        .map(([k, v]) => `-H '${k}: ${v}' `)
        .join('')}${a.url}${a.via === 'app' ? ' (straight to the app)' : ''}`,
    needs: (a) => [a.via],
    run: async (a, ctx) => {
      const s = ctx.runtime.settings;
      const u = new URL(a.url);
      const args = ['-s', '-o', '/dev/null', '-D', '-', '--max-time', '15', '-X', a.method];
      for (const [k, v] of Object.entries(a.headers)) args.push('-H', `${k}: ${v}`);
      if (a.http2) args.push('--http2');
      if (a.via === 'app') {
        // docker: this machine is on the backend bridge itself (172.28.3.1); locally it borrows the proxy's address
        if (s.runtime === 'local') args.push('--interface', addressOf('proxy', s, 'backend'));
        args.push(
          '-H',
          `Host: ${u.host}`,
          `http://${addressOf('app', s, 'backend')}:${port(80, s)}${u.pathname}${u.search}`,
        );
      } else {
        const p = port(u.protocol === 'https:' ? 443 : 80, s);
        args.push('--resolve', `${u.hostname}:${p}:${addressOf('proxy', s)}`);
        if (u.protocol === 'https:') {
          const root =
            (ctx.vars.get('root.pem') as string | undefined) ??
            (await ctx.runtime.control('ca', 'ca.trust')).pem;
          ctx.vars.set('root.pem', root);
          const file = join(mkdtempSync(join(tmpdir(), 'lab-curl-')), 'root.pem');
          writeFileSync(file, root);
          args.push('--cacert', file);
        }
        u.port = String(p === (u.protocol === 'https:' ? 443 : 80) ? '' : p);
        args.push(u.href);
      }
      let out: string;
      try {
        out = (await run('curl', args, { timeout: 20_000 })).stdout;
      } catch (err) {
        return { ok: false, detail: `curl failed: ${(err as Error).message.split('\n')[0]}` };
      }
      const status = Number(/^HTTP\/[\d.]+ (\d+)/.exec(out)?.[1] ?? 0);
      const lines = out.trim().split('\r\n').slice(0, 12);
      const ok = a.status === undefined || a.status === status;
      return { ok, detail: `${status}${ok ? '' : ` (expected ${a.status})`}`, lines };
    },
  }),
];
