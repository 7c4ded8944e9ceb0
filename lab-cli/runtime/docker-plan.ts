// Before and after a docker lab: the plan's subnets and bridge names must be free, the DOCKER-USER
// rules follow the lab (docker/bridge-rules.sh, the script the bridge-rules service runs too), and
// `lab down` leaves no lab container or network behind.
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { PROJECT_ROOT } from '../../services/common/settings.js';
import { DOCKER_PREFIX, networks, ULA_PREFIX } from '../../services/common/topology.js';
import { LAB_LABEL, PROJECT } from './compose.js';

export function planSubnets(): { network: string; v4: string; v6: string; bridge: string }[] {
  return networks.map((n) => ({
    network: n.name,
    v4: `${DOCKER_PREFIX}.${n.index}.0/24`,
    v6: `${ULA_PREFIX}:${n.index}::/64`,
    bridge: n.bridge,
  }));
}

function v4Range(cidr: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(cidr.trim());
  if (!m) return undefined;
  const ip = ((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0;
  const bits = m[5] === undefined ? 32 : +m[5];
  const size = 2 ** (32 - bits);
  const start = ip - (ip % size);
  return [start, start + size - 1];
}

export function overlaps(a: string, b: string): boolean {
  const ra = v4Range(a);
  const rb = v4Range(b);
  if (ra && rb) return ra[0] <= rb[1] && rb[0] <= ra[1];
  // IPv6: the lab's /64s collide with any subnet written with the same first four groups
  const head = (c: string) =>
    c.split('/')[0].toLowerCase().replace(/::.*$/, '').split(':').slice(0, 4).join(':');
  return !ra && !rb && head(a) === head(b);
}

/** A subnet or bridge name of the plan used by something else: one line saying what and how to free it. */
export async function checkPlanIsFree(docker: Docker): Promise<void> {
  const plan = planSubnets();
  for (const n of await docker.listNetworks()) {
    if (n.Labels?.['com.docker.compose.project'] === PROJECT) continue;
    const subnets = (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s);
    const bridge = n.Options?.['com.docker.network.bridge.name'];
    for (const p of plan) {
      const hit = subnets.find((s) => overlaps(s, p.v4) || overlaps(s, p.v6));
      if (hit || bridge === p.bridge)
        throw new Error(
          `the lab's ${p.network} network (${p.v4}, bridge ${p.bridge}) collides with docker network "${n.Name}" (${hit ?? `bridge ${bridge}`}): docker network rm ${n.Name}, or stop what uses it`,
        );
    }
  }
  let routes = '';
  try {
    routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  } catch {
    return; // no iproute2 on this machine: docker will say if the subnet is taken
  }
  for (const line of routes.split('\n')) {
    const [dst, , dev] = line.replace(/^(\S+) .*?dev (\S+).*$/, '$1 dev $2').split(' ');
    for (const p of plan) {
      if (!dst || dst === 'default' || dev === p.bridge || !overlaps(dst, p.v4)) continue;
      throw new Error(
        `the lab's ${p.network} subnet ${p.v4} is already routed on this machine (${line.trim()}): free it, or stop what uses it`,
      );
    }
  }
}

const RULES = join(PROJECT_ROOT, 'docker', 'bridge-rules.sh');
const run = promisify(execFile);

/**
 * Adds the DOCKER-USER rules on the machine, while compose starts (nothing routes before the
 * bridge-rules service is healthy); that service adds them too, so a non-root user loses nothing.
 */
export async function addBridgeRules(): Promise<void> {
  try {
    await run(RULES, ['add', ...networks.map((n) => n.bridge)]);
  } catch {
    // not root: the bridge-rules container (NET_ADMIN, host network) adds them
  }
}

export function removeBridgeRules(): void {
  try {
    execFileSync(RULES, ['remove', ...networks.map((n) => n.bridge)], { stdio: 'pipe' });
  } catch {
    // not root or no DOCKER-USER chain: the bridge-rules container removed them when it stopped
  }
}

/** What a `lab down` left behind: lab containers, networks (and volumes, when they were to go). */
export async function labResidue(docker: Docker, volumes = false): Promise<string[]> {
  const filters = { label: [LAB_LABEL] };
  const left = [
    ...(await docker.listContainers({ all: true, filters })).map((c) => `container ${c.Names[0]}`),
    ...(await docker.listNetworks({ filters })).map((n) => `network ${n.Name}`),
  ];
  if (volumes)
    left.push(...((await docker.listVolumes({ filters })).Volumes ?? []).map((v) => `volume ${v.Name}`));
  return left;
}
