// The CLI's commands and the scenario actions are static lists (so the CLI bundles into one file):
// a module added to either folder but not to its list would be silently missing.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTION_MODULES } from '../../../lab-cli/actions/index.js';
import { COMMANDS } from '../../../lab-cli/commands/index.js';
import { PROJECT_ROOT } from '../../../services/common/settings.js';

const modulesIn = (dir: string, skip: string[]) =>
  readdirSync(join(PROJECT_ROOT, dir))
    .filter((f) => f.endsWith('.ts') && !skip.includes(f))
    .map((f) => f.replace(/\.ts$/, ''))
    .sort();

describe('static module lists', () => {
  it('lists every module of lab-cli/actions', () => {
    expect(Object.keys(ACTION_MODULES).sort()).toEqual(modulesIn('lab-cli/actions', ['index.ts']));
    for (const mod of Object.values(ACTION_MODULES)) expect(mod.actions?.length).toBeGreaterThan(0);
  });

  it('lists every module of lab-cli/commands, each with its register function', () => {
    expect(COMMANDS).toHaveLength(modulesIn('lab-cli/commands', ['index.ts', 'types.ts']).length);
    expect(new Set(COMMANDS).size).toBe(COMMANDS.length);
    for (const mod of COMMANDS) expect(typeof mod.register).toBe('function');
  });
});
