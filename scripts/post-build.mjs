// After tsc: bundle each service's entry point and the CLI's, and make the `lab` bin executable (tsc
// keeps the shebang but not the mode).
//
// Why bundle: a lab host is its own Node process, and `lab up` starts ten of them on however many
// cores the machine has. Unbundled, each one spends most of its start in Node's ESM loader, resolving
// and reading the hundreds of files of express, pkijs, asn1js, @peculiar/x509… A single file per
// service (esbuild, from the TypeScript sources) halves each host's CPU time to ready and the whole
// lab's start. dist/services/<service>/main.js is then that bundle; every other file tsc wrote stays
// as it is (the CLI, the tests and the benchmarks import them). Native addons (better-sqlite3, cap)
// stay outside, loaded from node_modules as before. Source maps chain back to the .ts sources.
import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const bin = new URL('../dist/lab-cli/main.js', import.meta.url);

const services = readdirSync(new URL('../services', import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(`${root}services/${d.name}/main.ts`))
  .map((d) => d.name);

/** One entry point bundled over its tsc output, native addons left outside. */
const bundle = (entry, outfile) =>
  build({
    entryPoints: [`${root}${entry}`],
    outfile: `${root}${outfile}`,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    // native addons, and dockerode (its ssh2 has one), are loaded from node_modules at run time
    external: ['better-sqlite3', 'cap', 'dockerode'],
    // CommonJS packages inside an ES module bundle still call require() for Node's built-ins
    banner: {
      js: "import { createRequire as __labRequire } from 'node:module'; const require = __labRequire(import.meta.url);",
    },
    logLevel: 'warning',
    legalComments: 'none',
    minifyWhitespace: true,
    minifySyntax: true,
  });

await Promise.all([
  ...services.map((service) => bundle(`services/${service}/main.ts`, `dist/services/${service}/main.js`)),
  // the CLI too: `lab up` and every scenario step start it (its commands and actions are static lists)
  bundle('lab-cli/main.ts', 'dist/lab-cli/main.js'),
]);
if (existsSync(bin)) chmodSync(bin, 0o755);
