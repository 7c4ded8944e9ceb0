// Every scenario action, from every module in lab-cli/actions/ (each exports `actions`), as
// lab-cli/actions/index.ts lists them.
import { ACTION_MODULES } from '../actions/index.js';
import type { ActionDef } from './types.js';

let cached: Map<string, ActionDef> | undefined;

export async function loadActions(): Promise<Map<string, ActionDef>> {
  if (cached) return cached;
  const map = new Map<string, ActionDef>();
  for (const [file, mod] of Object.entries(ACTION_MODULES)) {
    for (const a of mod.actions ?? []) {
      if (map.has(a.name))
        throw new Error(`scenario action "${a.name}" is defined twice (second in ${file})`);
      map.set(a.name, a);
    }
  }
  cached = map;
  return map;
}
