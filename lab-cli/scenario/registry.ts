// Every scenario action, from every module in lab-cli/actions/ (each exports `actions`).
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ActionDef } from './types.js';

const ACTIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'actions');
// compiled: load .js; from source (vitest, tsx): load .ts
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

let cached: Map<string, ActionDef> | undefined;

export async function loadActions(): Promise<Map<string, ActionDef>> {
  if (cached) return cached;
  const map = new Map<string, ActionDef>();
  const files = readdirSync(ACTIONS_DIR)
    .filter((f) => f.endsWith(EXT) && !f.endsWith('.d.ts'))
    .sort();
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(ACTIONS_DIR, f)).href)) as { actions?: ActionDef[] };
    for (const a of mod.actions ?? []) {
      if (map.has(a.name)) throw new Error(`scenario action "${a.name}" is defined twice (second in ${f})`);
      map.set(a.name, a);
    }
  }
  cached = map;
  return map;
}
