// Scenario actions for the censor on the path (JOURNEY 17, 38): add, remove or load its rules,
// and, on the docker runtime where it forwards, lose one segment.

import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { PROJECT_ROOT } from '../../services/common/settings.js';
import type { ShownRule } from '../../services/middlebox/events.js';
import { defineAction } from '../scenario/types.js';

const ruleList = z.union([
  z
    .string()
    .min(1)
    .transform((r) => [r]),
  z.array(z.string().min(1)).min(1),
]);
const shown = (r: ShownRule) => r.text;

export const actions = [
  defineAction({
    name: 'block.add',
    schema: ruleList,
    describe: (rules) => `tell the censor: ${rules.join('; ')}`,
    needs: () => ['middlebox'],
    run: async (rules, ctx) => {
      const added: string[] = [];
      for (const rule of rules)
        added.push(shown(await ctx.runtime.control('middlebox', 'block.add', { rule })));
      return { ok: true, detail: `blocking ${added.join(', ')}` };
    },
  }),
  defineAction({
    name: 'block.rm',
    schema: ruleList,
    describe: (rules) => `tell the censor to stop: ${rules.join('; ')}`,
    needs: () => ['middlebox'],
    run: async (rules, ctx) => {
      for (const rule of rules) await ctx.runtime.control('middlebox', 'block.rm', { rule });
      return { ok: true, detail: `no longer blocking ${rules.join(', ')}` };
    },
  }),
  defineAction({
    name: 'block.clear',
    schema: z.null().optional(),
    describe: () => 'remove every censor rule',
    needs: () => ['middlebox'],
    run: async (_a, ctx) => {
      await ctx.runtime.control('middlebox', 'block.clear');
      return { ok: true, detail: 'no rules' };
    },
  }),
  defineAction({
    name: 'block.load',
    /** a rule file, relative to scenarios/ (e.g. rules/censor.rules) */
    schema: z.string().min(1),
    describe: (file) => `load the censor's rules from ${file}`,
    needs: () => ['middlebox'],
    run: async (file, ctx) => {
      const path = isAbsolute(file) ? file : join(PROJECT_ROOT, 'scenarios', file);
      const rules = await ctx.runtime.control('middlebox', 'block.load', {
        text: readFileSync(path, 'utf8'),
      });
      return { ok: true, detail: `${rules.length} rules in force`, lines: rules.map(shown) };
    },
  }),
  defineAction({
    name: 'loss.drop',
    schema: z
      .object({
        /** the host whose segment is lost, and the one waiting for it */
        from: z.string().default('proxy'),
        to: z.string().default('browser'),
        fromPort: z.number().int().min(1).max(65535).optional(),
        toPort: z.number().int().min(1).max(65535).optional(),
        /** which of its data segments, counted from now (1: the next one) */
        nth: z.number().int().min(1).max(1000).default(2),
      })
      .strict(),
    describe: (a) => `the middlebox will lose data segment ${a.nth} that ${a.from} sends to ${a.to}`,
    needs: () => ['middlebox'],
    run: async (a, ctx) => {
      const r = await ctx.runtime.control('middlebox', 'loss.drop', a);
      return { ok: true, detail: `armed (${r.tag})` };
    },
  }),
];
