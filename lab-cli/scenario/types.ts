// Scenario actions: each service's issue adds its own in lab-cli/actions/<name>.ts, exporting
// `actions: ActionDef[]`. The runner loads every module in that folder; nothing else to register.
import type { z } from 'zod';
import type { LabEvent } from '../../services/common/events.js';
import type { Runtime } from '../runtime/types.js';

export interface StepContext {
  runtime: Runtime;
  /** runs/<time>-<name>/ of this run */
  runDir: string;
  /** the scenario's name */
  scenario: string;
  /** prints one line of narration under the current step */
  note(text: string): void;
  /** values an action leaves for later steps (e.g. the last browse result) */
  vars: Map<string, unknown>;
  /** events since the start of the run, read so far */
  events(): Promise<LabEvent[]>;
}

export interface ActionOutcome {
  ok: boolean;
  /** one line shown after the step */
  detail?: string;
  /** more lines (e.g. the page as painted), indented under the step */
  lines?: string[];
}

export interface ActionDef<A = unknown> {
  /** the YAML key, e.g. "browse", "dns.flush", "ca.revoke" */
  name: string;
  /** the arguments' schema; a string shorthand may be accepted by the schema itself */
  schema: z.ZodType<A>;
  /** what the step does, for the story as printed */
  describe(args: A): string;
  /** hosts or privileges this action needs; a missing one skips the scenario with the reason */
  needs?: (args: A) => string[];
  run(args: A, ctx: StepContext): Promise<ActionOutcome>;
}

export function defineAction<A>(def: ActionDef<A>): ActionDef<unknown> {
  return def as ActionDef<unknown>;
}
