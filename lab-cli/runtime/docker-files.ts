// A run's files written by a host (the browser's HAR and TLS key log): on docker the host writes
// them in its container, and the runtime copies them into the run's directory on this machine.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';

/** Where a host writes a run's files inside its container (its own state dir, which it owns). */
export function containerRunDir(host: string, runDir: string): string {
  return `/lab/state/hosts/${host}/runs/${basename(runDir)}`;
}

/** Copies a directory out of a container into `hostDir` (docker cp, through tar). */
export async function copyOut(docker: Docker, id: string, from: string, hostDir: string): Promise<void> {
  let archive: Readable;
  try {
    archive = (await docker.getContainer(id).getArchive({ path: `${from}/.` })) as unknown as Readable;
  } catch {
    return; // the host wrote nothing for this run
  }
  mkdirSync(hostDir, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    const tar = spawn('tar', ['-x', '-C', hostDir, '--no-same-owner'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    tar.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    tar.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`copying ${from} out failed: ${err.trim()}`)),
    );
    archive.pipe(tar.stdin);
  });
}
