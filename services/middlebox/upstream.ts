// On the docker runtime the middlebox is a router with two interfaces, and a forgery for the server
// leaves by the internet one, from the middlebox's own MAC to the server's, as a routed packet would.
// Sent out of the home interface instead, with the client's MAC as its source, it would teach the
// home bridge that the client lives behind the middlebox (FDB poisoning): every frame for the client,
// the forged RSTs and the real answers alike, would go back to the middlebox until the client spoke.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type CapModule, openTap } from './tap.js';

export interface Upstream {
  device: string;
  /** re-frames a forged packet for the server's link; false while the server's MAC is unknown */
  send(frame: Buffer, dst: string): boolean;
  close(): void;
}

/** The MAC the kernel's neighbour table holds for an address on a device (ARP or NDP), if any. */
export function neighbourMac(address: string, device: string): Buffer | undefined {
  try {
    const out = execFileSync('ip', ['neigh', 'show', 'to', address, 'dev', device], { encoding: 'utf8' });
    return macBytes(/lladdr ([0-9a-f:]{17})/.exec(out)?.[1]);
  } catch {
    return undefined;
  }
}

export function macBytes(text: string | undefined): Buffer | undefined {
  if (!text || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(text)) return undefined;
  return Buffer.from(text.split(':').map((h) => Number.parseInt(h, 16)));
}

export function openUpstream(cap: CapModule, device: string): Upstream {
  // a handle for sending only: the filter matches no frame of the lab (an unassigned ethertype)
  const tap = openTap(cap, device, 'ether proto 0x88b5', () => undefined);
  const own = macBytes(readFileSync(`/sys/class/net/${device}/address`, 'utf8').trim());
  const macs = new Map<string, Buffer>();
  return {
    device,
    send(frame, dst) {
      let mac = macs.get(dst);
      if (!mac) {
        // the middlebox has just forwarded the flow's packets, so its kernel knows the server's MAC
        mac = neighbourMac(dst, device);
        if (mac) macs.set(dst, mac);
      }
      if (!mac || !own) return false;
      const out = Buffer.from(frame);
      mac.copy(out, 0);
      own.copy(out, 6);
      tap.send(out);
      return true;
    },
    close: () => tap.close(),
  };
}
