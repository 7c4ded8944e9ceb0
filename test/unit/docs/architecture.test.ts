// docs/ARCHITECTURE.md names every folder of the repository, and none that is not there.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../services/common/settings.js';

const DOC = 'docs/ARCHITECTURE.md';
const doc = readFileSync(join(PROJECT_ROOT, DOC), 'utf8');

/** Folders git ignores (`dist/`, `node_modules/`…): made by a build or a run, named but not required. */
const generated = new Set(
  readFileSync(join(PROJECT_ROOT, '.gitignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^[\w.-]+\/$/.test(l)),
);

function foldersIn(dir: string): string[] {
  return readdirSync(join(PROJECT_ROOT, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== '.git')
    .map((e) => (dir ? `${dir}/${e.name}/` : `${e.name}/`))
    .filter((f) => !generated.has(f));
}

/** Every folder the page must name: the top level, and each folder directly under services/ and lab-cli/. */
const required = [...foldersIn(''), ...foldersIn('services'), ...foldersIn('lab-cli')].sort();

/** Every folder path the page names, written as `path/` in backticks. */
const named = [...doc.matchAll(/`([\w.-]+(?:\/[\w.-]+)*\/)`/g)].map((m) => m[1]);

describe(DOC, () => {
  it('names every top-level folder and every folder under services/ and lab-cli/', () => {
    const missing = required.filter((f) => !named.includes(f));
    expect(
      missing,
      `${DOC} does not name ${missing.map((f) => `\`${f}\``).join(', ')}: add a row for each to the Layout table ` +
        `(| \`${missing[0]}\` | what it holds |)`,
    ).toEqual([]);
  });

  it('names no folder that does not exist (folders a build or a run makes excepted)', () => {
    const existing = new Set<string>();
    const walk = (dir: string) => {
      for (const f of foldersIn(dir)) {
        existing.add(f);
        if (f.split('/').length <= 4) walk(f.slice(0, -1));
      }
    };
    walk('');
    const stale = [...new Set(named)].filter((f) => !existing.has(f) && !generated.has(f));
    expect(
      stale,
      `${DOC} names ${stale.map((f) => `\`${f}\``).join(', ')}, which the repository does not have: remove it from the page, or fix its path`,
    ).toEqual([]);
  });
});
