// npm's `prepare`: after `npm install`, build dist/. npx also runs it when it links this checkout
// into its cache (`npx lab` typed before `npm install`): with no dependencies yet there is nothing to
// build, so say so and succeed; a failing prepare there would leave npx's cache entry broken for
// every later `npx lab` (ENOENT …/_npx/<hash>/package.json).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
if (!existsSync(`${root}node_modules/typescript`)) {
  process.stderr.write('enterlab: dependencies are not installed yet; `npm install` builds dist/\n');
  process.exit(0);
}
const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
