// The lab image (Dockerfile), built through compose when it is missing or was built from other
// sources: from NODE_IMAGE if set, else from the offline base image (scripts/docker-base.sh) when
// this machine has one, else node:20. The image carries a fingerprint of what the Dockerfile copies.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { PROJECT_ROOT } from '../../services/common/settings.js';
import { buildArgs, type ComposeCli } from './compose.js';

export const LAB_IMAGE = 'enterlab:latest';
const BASE_REPO = 'enterlab-base';
export const SOURCE_LABEL = 'org.enterlab.source';
/** what the Dockerfile copies into the image (.dockerignore keeps the rest out) */
const IMAGE_SOURCES = [
  'Dockerfile',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'scripts/post-build.mjs',
  'services',
  'lab-cli',
  'bench',
  'scenarios',
  'docker',
];

/** sha256 over the image's sources, path and bytes, in a stable order. */
export function sourceFingerprint(root = PROJECT_ROOT): string {
  const hash = createHash('sha256');
  for (const entry of IMAGE_SOURCES) {
    const path = join(root, entry);
    if (!existsSync(path)) continue;
    const files = statSync(path).isDirectory()
      ? readdirSync(path, { recursive: true, encoding: 'utf8' })
          .map((f) => join(entry, f))
          .filter((f) => statSync(join(root, f)).isFile())
          .sort()
      : [entry];
    for (const f of files)
      hash
        .update(`${f}\0`)
        .update(readFileSync(join(root, f)))
        .update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

export async function baseImage(docker: Docker): Promise<string | undefined> {
  if (process.env.NODE_IMAGE) return process.env.NODE_IMAGE;
  const local = await docker.listImages({ filters: { reference: [`${BASE_REPO}:*`] } });
  const want = `${BASE_REPO}:bookworm-node${process.versions.node}`;
  const tags = local.flatMap((i) => i.RepoTags ?? []);
  return tags.includes(want) ? want : tags[0];
}

export async function ensureImage(docker: Docker, cli: ComposeCli, quiet = false): Promise<void> {
  const source = sourceFingerprint();
  const have = await docker.listImages({ filters: { reference: [LAB_IMAGE] } });
  // an image built from other sources would run old code: build again (Docker's cache keeps it quick)
  if (have.some((i) => i.Labels?.[SOURCE_LABEL] === source)) return;
  const base = await baseImage(docker);
  const say = (t: string) => quiet || process.stderr.write(`${t}\n`);
  say(
    `building ${LAB_IMAGE} from ${base ?? 'node:20-bookworm-slim'} (${have.length ? 'the sources changed' : 'first time: a few minutes'})…`,
  );
  const tail: string[] = [];
  const code = await new Promise<number>((resolve) => {
    const child = spawn(cli.command, buildArgs(cli), {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...(base ? { NODE_IMAGE: base } : {}), LAB_SOURCE: source },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (b: Buffer) => {
      for (const line of b.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        // progress: the Dockerfile's steps, not every npm line
        if (/^Step \d+\/\d+/.test(line)) say(`  ${line.slice(0, 100)}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (c) => resolve(c ?? 1));
  });
  // the cause is the line before compose's own "failed to build"
  const cause = tail.filter((l) => !/failed to build/i.test(l)).pop() ?? `exit ${code}`;
  if (code !== 0)
    throw new Error(
      `the lab image did not build (${cause.trim()}); with no registry, run scripts/docker-base.sh first, then lab up --runtime docker again`,
    );
}
