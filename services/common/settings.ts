// How one running lab is placed on this machine: runtime, loopback block, port offset, state dir.
// Every service and the CLI derive addresses and ports from these settings and the topology.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_LOOPBACK_BLOCK,
  DOCKER_PREFIX,
  hostByPlanAddress,
  hostSpec,
  type NetworkName,
  networkOf,
  publicNetwork,
  type RuntimeName,
  ULA_PREFIX,
} from './topology.js';

export interface LabSettings {
  runtime: RuntimeName;
  /** first two octets replacing 172.28 on the local runtime, e.g. "127.28" */
  block: string;
  /** added to every well-known port: 0 as root, 10000 otherwise (local runtime) */
  portOffset: number;
  /** where pids, logs, control sockets and host state live */
  stateDir: string;
  /** whether the hosts have IPv6 addresses (local runtime: root only) */
  ipv6: boolean;
}

export const PROJECT_ROOT = findProjectRoot();

function findProjectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export function validateBlock(block: string): string {
  const m = /^127\.(\d{1,2})$/.exec(block);
  if (!m || Number(m[1]) < 1) {
    throw new Error(`loopback block "${block}" must look like 127.N with N from 1 to 99 (e.g. 127.28)`);
  }
  return block;
}

/** Settings from the environment (LAB_*), as every service process and the CLI read them. */
export function settingsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<LabSettings> = {},
): LabSettings {
  const runtime = (overrides.runtime ?? env.LAB_RUNTIME ?? 'local') as RuntimeName;
  if (runtime !== 'local' && runtime !== 'docker')
    throw new Error(`unknown runtime "${runtime}" (local or docker)`);
  const block = validateBlock(overrides.block ?? env.LAB_BLOCK ?? DEFAULT_LOOPBACK_BLOCK);
  const portOffset =
    overrides.portOffset ??
    (env.LAB_PORT_OFFSET !== undefined ? Number(env.LAB_PORT_OFFSET) : isRoot ? 0 : 10000);
  if (!Number.isInteger(portOffset) || portOffset < 0 || portOffset > 50000) {
    throw new Error(`LAB_PORT_OFFSET must be a whole number from 0 to 50000, not "${env.LAB_PORT_OFFSET}"`);
  }
  const stateDir = resolve(overrides.stateDir ?? env.LAB_STATE_DIR ?? defaultStateDir(block));
  const ipv6 =
    overrides.ipv6 ?? (env.LAB_IPV6 !== undefined ? env.LAB_IPV6 === '1' : runtime === 'docker' || isRoot);
  return { runtime, block, portOffset, stateDir, ipv6 };
}

/**
 * Each block has its own state: `.lab/` for the default block (the layout it always had), `.lab/<block>/`
 * for any other, so two labs from one checkout never read each other's pids.
 */
export function defaultStateDir(block: string): string {
  const root = join(PROJECT_ROOT, '.lab');
  return block === DEFAULT_LOOPBACK_BLOCK ? root : join(root, block);
}

export function settingsEnv(s: LabSettings): Record<string, string> {
  return {
    LAB_RUNTIME: s.runtime,
    LAB_BLOCK: s.block,
    LAB_PORT_OFFSET: String(s.portOffset),
    LAB_STATE_DIR: s.stateDir,
    LAB_IPV6: s.ipv6 ? '1' : '0',
  };
}

/** 172.28.N.M projected for the runtime: 127.28.N.M (or the lab's block) locally, as is in docker. */
export function project(planAddress: string, s: LabSettings): string {
  if (s.runtime === 'docker') return planAddress;
  if (planAddress.startsWith(`${DOCKER_PREFIX}.`))
    return `${s.block}.${planAddress.slice(DOCKER_PREFIX.length + 1)}`;
  const v6 = /^fd28:(\d+)::(\d+)$/.exec(planAddress);
  if (v6) return `${ula(s)}:${v6[1]}::${v6[2]}`;
  return planAddress;
}

/** The inverse of project(): which plan address (and host) a runtime address stands for. */
export function unproject(address: string, s: LabSettings): string {
  const a = address.replace(/^::ffff:/, '');
  if (s.runtime === 'docker') return a;
  if (a.startsWith(`${s.block}.`)) return `${DOCKER_PREFIX}.${a.slice(s.block.length + 1)}`;
  const m = new RegExp(`^${ula(s)}:(\\d+)::(\\d+)$`).exec(a);
  if (m) return `fd28:${m[1]}::${m[2]}`;
  return a;
}

/**
 * The ULA prefix of a lab (RFC 4193): the docker plan's own fd28 in docker; locally fd7f:N for block
 * 127.N (7f is 127), so a local lab never takes the docker plan's addresses, nor another block's.
 */
export function ula(s: LabSettings): string {
  return s.runtime === 'docker' ? ULA_PREFIX : `fd7f:${s.block.split('.')[1]}`;
}

/** Every IPv6 address of a lab as one prefix: fd28::/16 in docker, fd7f:N::/32 for local block 127.N. */
export function ulaNet(s: LabSettings): string {
  return s.runtime === 'docker' ? `${ULA_PREFIX}::/16` : `${ula(s)}::/32`;
}

export function addressOf(host: string, s: LabSettings, network?: NetworkName): string {
  const spec = hostSpec(host);
  const net = network ?? publicNetwork(host);
  const last = spec.on[net];
  if (last === undefined) throw new Error(`host ${host} is not on network ${net}`);
  return project(`${DOCKER_PREFIX}.${networkOf(net).index}.${last}`, s);
}

export function address6Of(host: string, s: LabSettings, network?: NetworkName): string {
  const spec = hostSpec(host);
  const net = network ?? publicNetwork(host);
  const last = spec.on[net];
  if (last === undefined) throw new Error(`host ${host} is not on network ${net}`);
  return `${ula(s)}:${networkOf(net).index}::${last}`;
}

/** Every runtime address of a host (v4 on each network, and v6 when the lab has IPv6). */
export function allAddressesOf(host: string, s: LabSettings): string[] {
  const spec = hostSpec(host);
  const out: string[] = [];
  for (const net of Object.keys(spec.on) as NetworkName[]) {
    out.push(addressOf(host, s, net));
    if (s.ipv6) out.push(address6Of(host, s, net));
  }
  return out;
}

/** The lab host name behind a runtime address, or undefined (e.g. 127.0.0.1, a test client). */
export function hostAt(address: string, s: LabSettings): string | undefined {
  return hostByPlanAddress(unproject(address, s))?.host;
}

/**
 * Names peers as events show them: the lab host behind an address, else the address itself
 * (IPv4-mapped IPv6 unwrapped). Remembered, since services ask for every packet or request.
 */
export function peerNamer(s: LabSettings): (address: string) => string {
  const known = new Map<string, string>();
  return (address) => {
    let name = known.get(address);
    if (name === undefined) {
      const plain = address.replace(/^::ffff:/, '');
      name = hostAt(plain, s) ?? plain;
      if (known.size < 4096) known.set(address, name);
    }
    return name;
  };
}

export function port(wellKnown: number, s: LabSettings): number {
  return wellKnown + s.portOffset;
}

export function hostStateDir(host: string, s: LabSettings): string {
  return join(s.stateDir, 'hosts', host);
}

export function controlSocketPath(host: string, s: LabSettings): string {
  return join(hostStateDir(host, s), 'control.sock');
}

/** "172.28.2.12:53" as written in events' `peer`, with the runtime's address. */
export function peerString(address: string, p: number): string {
  return address.includes(':') ? `[${address}]:${p}` : `${address}:${p}`;
}

/** The inverse of peerString: "127.28.2.53:53", "[fd28:2::53]:53" (or unbracketed) → address and port. */
export function parsePeer(peer: unknown): { address: string; port: number } | undefined {
  if (typeof peer !== 'string') return undefined;
  const m = /^\[(.+)\]:(\d+)$/.exec(peer) ?? /^(.+):(\d+)$/.exec(peer);
  return m ? { address: m[1].replace(/^::ffff:/, ''), port: Number(m[2]) } : undefined;
}
