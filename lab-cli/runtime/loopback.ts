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
  const added: string[] = [];
  for (const a of labIpv6Addresses(s)) {
    if (present.includes(` ${a}/`)) continue;
    execFileSync('ip', ['-6', 'addr', 'add', `${a}/128`, 'dev', 'lo', 'nodad'], { stdio: 'pipe' });
    added.push(a);
  }
  return added;
}

export function removeLoopbackIpv6(addresses: string[]): void {
  for (const a of addresses) {
    try {
      execFileSync('ip', ['-6', 'addr', 'del', `${a}/128`, 'dev', 'lo'], { stdio: 'pipe' });
    } catch {
      // already gone
    }
  }
}
