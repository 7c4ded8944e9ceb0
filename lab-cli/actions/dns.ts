// Scenario actions for DNS: ask a question with `dig` or with the lab's own DNS client (dns.query), flush the
// resolver, change a zone.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import { queryDns } from '../../services/common/dns/client.js';
import { type Packet, RCODE_NAME, rcodeOf } from '../../services/common/dns/codec.js';
import { recordText } from '../../services/common/dns/record-text.js';
import { addressOf, port } from '../../services/common/settings.js';
import { canonical, labNameProblem, labValue, zoneOf } from '../lab-names.js';
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
    name: 'dns.query',
    schema: z.union([z.string().transform((name) => queryArgs.parse({ name })), queryArgs]),
    describe: (a) => `ask ${a.server} for ${a.name} ${a.type}${a.tcp ? ' over TCP' : ''}`,
    needs: (a) => [a.server],
    run: async (a, ctx) => {
      const s = ctx.runtime.settings;
      let r: Packet;
      try {
        // from 127.0.0.1, as `dig` run on this machine asks; TCP when asked, or when the answer is truncated
        const reply = await queryDns(
          { name: a.name, type: a.type },
          {
            server: addressOf(a.server, s),
            port: port(53, s),
            source: '127.0.0.1',
            timeoutMs: 5000,
            rd: !a.norec,
            transport: a.tcp ? 'tcp' : 'udp',
          },
        );
        r = reply.response;
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
      const status = RCODE_NAME[rcodeOf(r)] ?? String(rcodeOf(r));
      const records = [...(r.answers ?? []), ...(r.authorities ?? [])].map((x) => recordText(x));
      ctx.vars.set('dns.query', { status, records });
      const ok = !a.status || a.status === status;
      return { ok, detail: `${status}${ok ? '' : ` (expected ${a.status})`}`, lines: records };
    },
  }),
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
      const r = await ctx.runtime.control('resolver', 'dns.flush', a);
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
      const problem = labNameProblem(a.name);
      if (problem) return { ok: false, detail: problem };
      // the most specific zone wins (example.test, not test), as a real delegation does
      const best = await zoneOf(ctx.runtime, a.name);
      if (best && best.zone !== '') {
        const value = labValue(a.type, a.value, ctx.runtime.settings);
        const rec = await ctx.runtime.control(best.host, 'dns.set', {
          ...a,
          name: `${canonical(a.name)}.`,
          value,
        });
        return { ok: true, detail: `${best.host}: ${rec}` };
      }
      return { ok: false, detail: `no nameserver serves ${a.name}` };
    },
  }),
];
