#!/usr/bin/env node
// `lab` as npm and npx link it: the built CLI in dist/, or, in a fresh clone before `npm install`
// has built it, one clear line saying what to do (a bin that exists, so npx caches nothing broken).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/lab-cli/main.js', import.meta.url);
if (!existsSync(main)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(
    `lab: enterlab is not built yet: run \`npm install\` in ${root} first (it installs the dependencies and builds dist/), then \`npx lab …\` again\n`,
  );
  process.exit(1);
}
await import(main.href);
