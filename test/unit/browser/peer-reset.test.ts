import { connect, createServer, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { closedByReset } from '../../../services/browser/peer-reset.js';

const servers: ReturnType<typeof createServer>[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

/** A client connected to a server that closes its side with `close`; resolves once the client saw it. */
async function closedBy(close: (peer: Socket) => void): Promise<{ local: number; remote: number }> {
  const server = createServer((peer) => close(peer));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const remote = (server.address() as { port: number }).port;
  const client = connect({ host: '127.0.0.1', port: remote, allowHalfOpen: true });
  client.on('error', () => undefined);
  let local = 0;
  client.once('connect', () => {
    local = client.localPort as number;
  });
  await new Promise((r) => {
    client.once('end', r);
    client.once('close', r);
  });
  return { local, remote };
}

describe.skipIf(process.platform !== 'linux')('closed by a reset or by a FIN', () => {
  it('a FIN leaves the socket listed by the kernel (CLOSE_WAIT): not a reset', async () => {
    const { local, remote } = await closedBy((peer) => setTimeout(() => peer.end(), 50));
    expect(closedByReset(local, remote)).toBe(false);
  });

  it('a RST removes it: a reset', async () => {
    const { local, remote } = await closedBy((peer) => setTimeout(() => peer.resetAndDestroy(), 50));
    expect(closedByReset(local, remote)).toBe(true);
  });
});
