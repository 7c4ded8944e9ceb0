// Actions every scenario can use: wait, stop/start/restart a host, and a raw control command.
import { z } from 'zod';
import { hostSpec } from '../../services/common/topology.js';
import { defineAction } from '../scenario/types.js';

const hostName = z.string().refine(
  (h) => {
    try {
      hostSpec(h);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not a lab host (see `lab status`)' },
);

export const actions = [
  defineAction({
    name: 'wait',
    schema: z.number().int().nonnegative().max(600_000),
    describe: (ms) => `wait ${ms} ms`,
    run: async (ms) => {
      await new Promise((r) => setTimeout(r, ms));
      return { ok: true };
    },
  }),
  defineAction({
    name: 'host.stop',
    schema: hostName,
    describe: (h) => `stop ${h}`,
    needs: (h) => [h],
    run: async (h, ctx) => {
      await ctx.runtime.stop(h);
      return { ok: true, detail: `${h} stopped` };
    },
  }),
  defineAction({
    name: 'host.start',
    schema: hostName,
    describe: (h) => `start ${h}`,
    needs: (h) => [h],
    run: async (h, ctx) => {
      await ctx.runtime.start(h);
      return { ok: true, detail: `${h} running` };
    },
  }),
  defineAction({
    name: 'host.restart',
    schema: hostName,
    describe: (h) => `restart ${h}`,
    needs: (h) => [h],
    run: async (h, ctx) => {
      await ctx.runtime.restart(h);
      return { ok: true, detail: `${h} restarted` };
    },
  }),
  defineAction({
    name: 'control',
    schema: z
      .object({
        host: hostName,
        command: z.string().min(1),
        args: z.record(z.string(), z.unknown()).optional(),
        /** the command is expected to fail with an error matching this text */
        fails: z.string().optional(),
      })
      .strict(),
    describe: (a) => `tell ${a.host}: ${a.command}`,
    needs: (a) => [a.host],
    run: async (a, ctx) => {
      try {
        const result = await ctx.runtime.control(a.host, a.command, a.args ?? {});
        if (a.fails) return { ok: false, detail: `expected an error like "${a.fails}", got success` };
        ctx.vars.set(`control:${a.host}:${a.command}`, result);
        return { ok: true, detail: typeof result === 'string' ? result : undefined };
      } catch (err) {
        const msg = (err as Error).message;
        if (a.fails && msg.includes(a.fails)) return { ok: true, detail: `refused as expected: ${msg}` };
        return { ok: false, detail: msg };
      }
    },
  }),
];
