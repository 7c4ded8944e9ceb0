// The lab's IPv6 addresses on `lo` (root only): added at `lab up`, removed at `lab down`.
import { execFileSync } from 'node:child_process';
import type { LabSettings } from '../../services/common/settings.js';
import { address6Of } from '../../services/common/settings.js';
import { hosts, type NetworkName } from '../../services/common/topology.js';

export function labIpv6Addresses(s: LabSettings): string[] {
  const out: string[] = [];
  for (const h of hosts)
    for (const net of Object.keys(h.on) as NetworkName[]) out.push(address6Of(h.name, s, net));
  return out;
}

/** Adds every host's ULA address to lo; returns those it added (already present ones are left alone). */
export function addLoopbackIpv6(s: LabSettings): string[] {
  const present = execFileSync('ip', ['-6', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' });
  const added = labIpv6Addresses(s).filter((a) => !present.includes(` ${a}/`));
  // one `ip -batch` for them all: a process per address was a tenth of `lab up`
  if (added.length)
    execFileSync('ip', ['-6', '-batch', '-'], {
      input: added.map((a) => `addr add ${a}/128 dev lo nodad\n`).join(''),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  return added;
}

export function removeLoopbackIpv6(addresses: string[]): void {
  if (!addresses.length) return;
  try {
    // -force: an address already gone does not stop the others
    execFileSync('ip', ['-6', '-force', '-batch', '-'], {
      input: addresses.map((a) => `addr del ${a}/128 dev lo\n`).join(''),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch {
    // the ones that were gone already; the rest are removed
  }
}
