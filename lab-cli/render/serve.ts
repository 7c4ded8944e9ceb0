// `lab show RUN --open`: serves one run's folder on 127.0.0.1 (ladder.html at /, and the run's files
// beside it, e.g. /capture.pcapng), so a workshop opens the ladder in a browser on this machine.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  mmd: 'text/plain; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  json: 'application/json',
  jsonl: 'application/x-ndjson',
  har: 'application/json',
  log: 'text/plain; charset=utf-8',
  pcapng: 'application/vnd.tcpdump.pcap',
};

export async function serveRun(dir: string, port = 0): Promise<{ url: string; close(): Promise<void> }> {
  if (!existsSync(join(dir, 'ladder.html')))
    throw new Error(`${dir} has no ladder.html (re-render it: lab show ${dir})`);
  const server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').split('?')[0].slice(1)) || 'ladder.html';
    // only the run's own files, by exact name: no paths, no traversal
    if (!readdirSync(dir).includes(name) || name.includes('/')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no ${name} in this run\n`);
      return;
    }
    const ext = name.split('.').pop() ?? '';
    res
      .writeHead(200, { 'content-type': TYPES[ext] ?? 'application/octet-stream' })
      .end(readFileSync(join(dir, name)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
