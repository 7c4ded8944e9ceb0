// The README documents every scenario action with its parameters, generated from the schemas
// (scripts/actions-doc.ts): this fails when an action or a parameter changes and the README does not.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actionsDoc, DOC_END, DOC_START } from '../../../lab-cli/scenario/actions-doc.js';
import { loadScenario } from '../../../lab-cli/scenario/load.js';
import { loadActions } from '../../../lab-cli/scenario/registry.js';
import { PROJECT_ROOT } from '../../../services/common/settings.js';

const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('has the actions table as the schemas generate it (npx tsx scripts/actions-doc.ts)', async () => {
    const section = readme.slice(readme.indexOf(DOC_START), readme.indexOf(DOC_END) + DOC_END.length);
    expect(section).toBe(actionsDoc(await loadActions()));
  });

  it('names every action and every parameter of dns.set', async () => {
    for (const name of (await loadActions()).keys()) expect(readme).toContain(`| \`${name}\` |`);
    expect(readme).toMatch(/`dns\.set` \| `\{ name: string, type: string, value: string, ttl\?: integer \}`/);
  });

  it('shows a scenario example that loads as written', async () => {
    const yaml = /```yaml\n(title: Cache hit[\s\S]*?)```/.exec(readme)?.[1] as string;
    const file = join(mkdtempSync(join(tmpdir(), 'readme-example-')), 'cache-hit.yaml');
    writeFileSync(file, yaml);
    const sc = loadScenario(file, await loadActions());
    expect(sc.steps.at(-1)?.kind).toBe('expect');
  });
});
