// Writes the README's table of scenario actions from the action schemas: npx tsx scripts/actions-doc.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { actionsDoc, withActionsDoc } from '../lab-cli/scenario/actions-doc.js';
import { loadActions } from '../lab-cli/scenario/registry.js';
import { PROJECT_ROOT } from '../services/common/settings.js';

const path = join(PROJECT_ROOT, 'README.md');
writeFileSync(path, withActionsDoc(readFileSync(path, 'utf8'), actionsDoc(await loadActions())));
console.log('README.md: actions table written');
