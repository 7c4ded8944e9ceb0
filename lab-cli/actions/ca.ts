// Scenario actions for certificates: revoke one, or make the proxy serve a bad one (JOURNEY 20–21).
import { z } from 'zod';
import { defineAction } from '../scenario/types.js';

export const actions = [
  defineAction({
    name: 'ca.revoke',
    // a name or serial, or `of: <host>`: the certificate that host serves now
    schema: z.union([
      z.string().transform((target) => ({ target, of: undefined, reason: 'unspecified' })),
      z
        .object({
          target: z.string().optional(),
          of: z.string().optional(),
          reason: z.string().default('unspecified'),
        })
        .strict(),
    ]),
    describe: (a) => `lab ca revoke ${a.target ?? `<the certificate ${a.of} serves>`} --reason ${a.reason}`,
    needs: (a) => ['ca', ...(a.of ? [a.of] : [])],
    run: async (a, ctx) => {
      const target = a.of
        ? ((await ctx.runtime.control(a.of, 'tls.info')) as { serial: string }).serial
        : a.target;
      if (!target) return { ok: false, detail: 'ca.revoke needs target or of' };
      const r = (await ctx.runtime.control('ca', 'ca.revoke', { target, reason: a.reason })) as {
        serial: string;
      }[];
      return { ok: true, detail: `revoked ${r.map((x) => x.serial.slice(0, 12)).join(', ')}` };
    },
  }),
  defineAction({
    name: 'badcert',
    schema: z
      .object({ kind: z.enum(['expired', 'wrongname', 'untrusted']), name: z.string().regex(/\.test$/) })
      .strict(),
    describe: (a) => `the CA makes a ${a.kind} certificate for ${a.name}, and the proxy serves it`,
    needs: () => ['ca', 'proxy'],
    run: async (a, ctx) => {
      const made = (await ctx.runtime.control('ca', 'ca.badcert', a)) as { key: string; chain: string };
      await ctx.runtime.control('proxy', 'tls.add', { name: a.name, key: made.key, chain: made.chain });
      return { ok: true };
    },
  }),
];
