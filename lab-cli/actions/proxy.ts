// Scenario actions for the proxy's cache: purge a URL, ban by regex, set a parameter, use a VCL file
// (over the control channel, as `lab cache` does), and an HTTP PURGE sent from an admin address or
// from outside them.
import { execFile } from 'node:child_process';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { addressOf, PROJECT_ROOT, port, project } from '../../services/common/settings.js';
import { type VclInfo, vclUseArgs } from '../../services/proxy/vcl-file.js';
import { defineAction } from '../scenario/types.js';

const run = promisify(execFile);

const purgeArgs = z.object({ url: z.string().url(), removed: z.number().int().optional() }).strict();
const paramArgs = z
  .object({ name: z.string().min(1), value: z.union([z.string(), z.number()]).transform(String) })
  .strict();
const vclArgs = z
  .object({
    /** a VCL file, relative to scenarios/ (e.g. vcl/misspelled-hook.mjs), or "default" */
    file: z.string().min(1),
    /** the load must be refused with a message containing this (the VCL in use stays) */
    refused: z.string().min(1).optional(),
  })
  .strict();
const banArgs = z.object({ regex: z.string().min(1), removed: z.number().int().optional() }).strict();
const httpPurgeArgs = z
  .object({
    url: z.string().url(),
    /** admin: from 127.0.0.1; outsider: from an address on no lab network (local runtime) */
    from: z.enum(['admin', 'outsider']).default('admin'),
    status: z.number().int().optional(),
  })
  .strict();

const removedOutcome = (removed: number, want?: number) => ({
  ok: want === undefined || want === removed,
  detail: `${removed} object(s) removed${want === undefined || want === removed ? '' : ` (expected ${want})`}`,
});

export const actions = [
  defineAction({
    name: 'cache.purge',
    schema: z.union([
      z
        .string()
        .url()
        .transform((url) => purgeArgs.parse({ url })),
      purgeArgs,
    ]),
    describe: (a) => `lab cache purge ${a.url}`,
    needs: () => ['proxy'],
    run: async (a, ctx) => {
      const r = await ctx.runtime.control('proxy', 'cache.purge', { url: a.url });
      return removedOutcome(r.removed, a.removed);
    },
  }),
  defineAction({
    name: 'cache.ban',
    schema: z.union([
      z
        .string()
        .min(1)
        .transform((regex) => banArgs.parse({ regex })),
      banArgs,
    ]),
    describe: (a) => `lab cache ban '${a.regex}'`,
    needs: () => ['proxy'],
    run: async (a, ctx) => {
      const r = await ctx.runtime.control('proxy', 'cache.ban', { regex: a.regex });
      return removedOutcome(r.removed, a.removed);
    },
  }),
  defineAction({
    // varnishadm param.set, as `lab cache param set NAME VALUE` (e.g. default_ttl 0 for a no-cache lesson)
    name: 'cache.param',
    schema: paramArgs,
    describe: (a) => `lab cache param set ${a.name} ${a.value}`,
    needs: () => ['proxy'],
    run: async (a, ctx) => {
      const r = await ctx.runtime.control('proxy', 'cache.param.set', { name: a.name, value: a.value });
      return { ok: true, detail: `${a.name} = ${String(r.value)}` };
    },
  }),
  defineAction({
    // varnishadm vcl.load + vcl.use, as `lab cache vcl use FILE`
    name: 'cache.vcl',
    schema: z.union([
      z
        .string()
        .min(1)
        .transform((file) => vclArgs.parse({ file })),
      vclArgs,
    ]),
    describe: (a) => `lab cache vcl use ${a.file}${a.refused ? ` (refused: "${a.refused}")` : ''}`,
    needs: () => ['proxy'],
    run: async (a, ctx) => {
      const file =
        a.file === 'default' || isAbsolute(a.file) ? a.file : join(PROJECT_ROOT, 'scenarios', a.file);
      let r: VclInfo;
      try {
        r = await ctx.runtime.control('proxy', 'cache.vcl.use', vclUseArgs(file));
      } catch (err) {
        const why = (err as Error).message;
        const ok = a.refused !== undefined && why.includes(a.refused);
        return { ok, detail: `refused: ${why}${ok || !a.refused ? '' : ` (expected "${a.refused}")`}` };
      }
      if (a.refused)
        return { ok: false, detail: `VCL ${r.name} loaded, expected a refusal ("${a.refused}")` };
      return {
        ok: true,
        detail: `VCL ${r.name} in use, over the default: ${r.overridden.join(', ') || 'nothing'}`,
      };
    },
  }),
  defineAction({
    name: 'purge.http',
    schema: z.union([
      z
        .string()
        .url()
        .transform((url) => httpPurgeArgs.parse({ url })),
      httpPurgeArgs,
    ]),
    describe: (a) =>
      `curl -X PURGE ${a.url} from ${a.from === 'admin' ? 'an admin address' : 'outside the admin addresses'}`,
    needs: () => ['proxy'],
    run: async (a, ctx) => {
      const s = ctx.runtime.settings;
      if (a.from === 'outsider' && s.runtime !== 'local')
        return { ok: false, detail: 'an outsider address exists only on the local runtime' };
      const u = new URL(a.url);
      const p = port(80, s);
      // PURGE goes to port 80: no TLS needed for an admin's request
      const source =
        a.from === 'admin'
          ? s.runtime === 'local'
            ? '127.0.0.1'
            : project('172.28.2.1', s)
          : project('172.28.99.1', s);
      const args = [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--max-time',
        '10',
        '-X',
        'PURGE',
        '--interface',
        source,
      ];
      args.push(
        '--resolve',
        `${u.hostname}:${p}:${addressOf('proxy', s)}`,
        `http://${u.hostname}:${p}${u.pathname}${u.search}`,
      );
      let code: number;
      try {
        code = Number((await run('curl', args, { timeout: 15_000 })).stdout);
      } catch (err) {
        return { ok: false, detail: `curl failed: ${(err as Error).message.split('\n')[0]}` };
      }
      const ok = a.status === undefined || a.status === code;
      return { ok, detail: `PURGE from ${source}: ${code}${ok ? '' : ` (expected ${a.status})`}` };
    },
  }),
];
