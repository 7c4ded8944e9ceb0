// Was a connection closed by the peer's RST or by its FIN? Node's TLS layer reports a RST that
// arrives after the handshake as a plain end of stream: the kernel's ECONNRESET goes to the write of
// the client's Finished, and the next read sees EOF. Chrome would say ERR_CONNECTION_RESET, so at
// EOF the browser asks the kernel: a FIN leaves the socket listed (CLOSE_WAIT, or LAST_ACK once it
// answers with its own FIN); a RST removes it at once (RFC 9293 §3.10.7.4: "enter the CLOSED state").
import { readFileSync } from 'node:fs';

/** The sockets of /proc/net/tcp and tcp6 as "localPort remotePort" (ports are enough on one host). */
function listedPorts(): Set<string> {
  const out = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, remote] = line.trim().split(/\s+/);
      if (!local || !remote) continue;
      const lp = Number.parseInt(local.split(':')[1], 16);
      const rp = Number.parseInt(remote.split(':')[1], 16);
      out.add(`${lp} ${rp}`);
    }
  }
  return out;
}

/**
 * Asked when a connection ended before its response, with the ports read when it connected (a reset
 * socket has no peer name): a FIN, or our own close, leaves the socket listed (CLOSE_WAIT, FIN_WAIT,
 * TIME_WAIT); a RST does not.
 */
export function closedByReset(localPort: number | undefined, remotePort: number | undefined): boolean {
  if (!localPort || !remotePort || process.platform !== 'linux') return false;
  return !listedPorts().has(`${localPort} ${remotePort}`);
}
