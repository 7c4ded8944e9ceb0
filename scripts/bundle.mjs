// The lab image runs each service as one file: dist/services/<service>/main.bundle.js, bundled by
// esbuild from the same compiled dist/ (Dockerfile). A Node start spent over half its CPU finding,
// reading and lexing a few hundred module files; ten hosts starting at once on two cores waited
// for it. The native addons stay outside (node_modules), loaded as before.
// Usage: node scripts/bundle.mjs   (after npm run build)
import { readdirSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('../dist/services/', import.meta.url);
const services = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && readdirSync(new URL(d.name, root)).includes('main.js'))
  .map((d) => d.name);

await Promise.all(
  services.map((service) =>
    build({
      entryPoints: [new URL(`${service}/main.js`, root).pathname],
      outfile: new URL(`${service}/main.bundle.js`, root).pathname,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['better-sqlite3', 'cap'],
      // the CommonJS packages inside require() Node's modules: give the ESM bundle a require
      banner: {
        js: "import { createRequire as labRequire } from 'node:module'; const require = labRequire(import.meta.url);",
      },
      logLevel: 'warning',
    }),
  ),
);
console.log(`bundled ${services.length} services: ${services.join(', ')}`);
