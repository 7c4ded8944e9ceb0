// After tsc: make the `lab` bin executable (tsc keeps the shebang but not the mode).
import { chmodSync, existsSync } from 'node:fs';

const bin = new URL('../dist/lab-cli/main.js', import.meta.url);
if (existsSync(bin)) chmodSync(bin, 0o755);
