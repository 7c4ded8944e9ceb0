// Scenario actions for DNS: ask a question the way `dig` would, flush the resolver, change a zone.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import { addressOf, port } from '../../services/common/settings.js';
import { hostsOfService } from '../../services/common/topology.js';
import { defineAction } from '../scenario/types.js';

const run = promisify(execFile);

const queryArgs = z
  .object({
    name: z.string().min(1),
    type: z
      .string()
      .regex(/^[A-Za-z]+$/)
      .default('A'),
    /** the lab host asked (default: the resolver) */
    server: z.string().default('resolver'),
    /** +norec: ask an authoritative server directly, as a resolver does */
    norec: z.boolean().default(false),
    tcp: z.boolean().default(false),
    /** the answer must have this status */
    status: z.enum(['NOERROR', 'NXDOMAIN', 'SERVFAIL', 'REFUSED']).optional(),
  })
  .strict();

export const actions = [
  defineAction({
    name: 'dig',
    schema: z.union([z.string().transform((name) => queryArgs.parse({ name })), queryArgs]),
    describe: (a) => `dig @${a.server} ${a.name} ${a.type}${a.norec ? ' +norec' : ''}${a.tcp ? ' +tcp' : ''}`,
    needs: (a) => [a.server],
    run: async (a, ctx) => {
      const s = ctx.runtime.settings;
      const args = [
        `@${addressOf(a.server, s)}`,
        '-p',
        String(port(53, s)),
        a.name,
        a.type,
        '+nocookie',
        '+time=3',
        '+tries=1',
      ];
      if (a.norec) args.push('+norec');
      if (a.tcp) args.push('+tcp');
      let out: string;
      try {
        out = (await run('dig', args, { timeout: 10_000 })).stdout;
      } catch (err) {
        return {
          ok: false,
          detail: `dig failed: ${(err as Error).message.split('\n')[0]} (is bind9-dnsutils installed?)`,
        };
      }
      const status = /status: (\w+)/.exec(out)?.[1] ?? 'no answer';
      const flags = /;; flags: ([a-z ]+);/.exec(out)?.[1] ?? '';
      const sections = ['ANSWER', 'AUTHORITY', 'ADDITIONAL'].flatMap((sec) => {
        const m = new RegExp(`;; ${sec} SECTION:\\n([\\s\\S]*?)\\n\\n`).exec(out);
        return m ? [`${sec}:`, ...m[1].split('\n').map((l) => `  ${l.replace(/\s+/g, ' ')}`)] : [];
      });
      ctx.vars.set('dig', { status, flags, out });
      const ok = !a.status || a.status === status;
      return {
        ok,
        detail: `${status}, flags: ${flags}${ok ? '' : ` (expected ${a.status})`}`,
        lines: sections,
      };
    },
  }),
  defineAction({
    name: 'dns.flush',
    schema: z.union([
      z.null().transform((): { name?: string } => ({})),
      z.object({ name: z.string().optional() }).strict(),
    ]),
    describe: (a) => `flush the resolver's cache${a.name ? ` for ${a.name}` : ''}`,
    needs: () => ['resolver'],
    run: async (a, ctx) => {
      const r = (await ctx.runtime.control('resolver', 'dns.flush', a)) as { removed: number };
      return { ok: true, detail: `${r.removed} entries forgotten` };
    },
  }),
  defineAction({
    name: 'dns.set',
    schema: z
      .object({
        name: z.string(),
        type: z.string(),
        value: z.string(),
        ttl: z.number().int().nonnegative().optional(),
      })
      .strict(),
    describe: (a) => `set ${a.name} ${a.type} ${a.value}${a.ttl !== undefined ? ` (TTL ${a.ttl})` : ''}`,
    needs: () => ['ns-example'],
    run: async (a, ctx) => {
      for (const h of hostsOfService('nameserver')) {
        const zones = (await ctx.runtime.control(h.name, 'dns.zones').catch(() => [])) as string[];
        const n = a.name.toLowerCase().replace(/\.$/, '');
        if (zones.some((zz) => zz !== '.' && (n === zz || n.endsWith(`.${zz}`)))) {
          const rec = await ctx.runtime.control(h.name, 'dns.set', a);
          return { ok: true, detail: `${h.name}: ${rec}` };
        }
      }
      return { ok: false, detail: `no nameserver serves ${a.name}` };
    },
  }),
];
