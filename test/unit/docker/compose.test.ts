// docker-compose.yml is the one place docker addresses are written: it must match the plan in
// services/common/topology.ts, so the two cannot drift.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { STARTS_AFTER } from '../../../lab-cli/runtime/local.js';
import { PROJECT_ROOT } from '../../../services/common/settings.js';
import {
  hosts,
  type NetworkName,
  networks,
  planAddress,
  planAddress6,
} from '../../../services/common/topology.js';

interface Service {
  command?: string | string[];
  environment?: Record<string, string>;
  networks?: Record<string, { ipv4_address: string; ipv6_address: string }>;
  network_mode?: string;
  cap_add?: string[];
  sysctls?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  mem_limit?: string;
  pids_limit?: number;
}
const file = parse(readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  networks: Record<string, Record<string, unknown>>;
  volumes: Record<string, unknown>;
};
const svc = (name: string) => file.services[name];

describe('docker-compose.yml against the address plan', () => {
  it('caps every container’s memory and processes, so a runaway host cannot take the machine down', () => {
    const bytes = (m: string) => Number.parseInt(m, 10) * 1024 ** ('kmg'.indexOf(m.slice(-1)) + 1);
    for (const [name, s] of Object.entries(file.services)) {
      expect(s.mem_limit, `${name} mem_limit`).toMatch(/^\d+[kmg]$/);
      expect(bytes(s.mem_limit ?? '0'), name).toBeLessThanOrEqual(1024 ** 3);
      expect(s.pids_limit, `${name} pids_limit`).toBeGreaterThan(0);
      expect(s.pids_limit, name).toBeLessThanOrEqual(512);
    }
  });

  it('starts the hosts that get their first certificate through ACME in the local runtime’s order', () => {
    for (const [host, after] of Object.entries(STARTS_AFTER)) {
      const deps = Object.entries(svc(host).depends_on ?? {});
      for (const dep of after)
        expect(deps.find(([d]) => d === dep)?.[1].condition, `${host} waits for ${dep} to be healthy`).toBe(
          'service_healthy',
        );
    }
    // web2's https answers only once its certificate came: healthy means both ports listen
    expect(svc('web2').healthcheck?.test.join(' ')).toMatch(/tcp:80 tcp:443/);
  });

  it('has one service per lab host, running that host with its service', () => {
    for (const h of hosts) {
      expect(svc(h.name), h.name).toBeDefined();
      expect(svc(h.name).environment?.LAB_HOST).toBe(h.name);
      expect(svc(h.name).command).toBe(h.service);
    }
  });

  it('gives every host its plan addresses, v4 and the fd28 twin, on exactly its networks', () => {
    for (const h of hosts) {
      const nets = svc(h.name).networks ?? {};
      expect(Object.keys(nets).sort(), h.name).toEqual(Object.keys(h.on).sort());
      for (const net of Object.keys(h.on) as NetworkName[]) {
        expect(nets[net].ipv4_address, `${h.name} on ${net}`).toBe(planAddress(h.name, net));
        expect(nets[net].ipv6_address, `${h.name} on ${net}`).toBe(planAddress6(h.name, net));
      }
    }
  });

  it('makes every network internal, with the plan subnets and the topology bridge name', () => {
    expect(Object.keys(file.networks).sort()).toEqual(networks.map((n) => n.name).sort());
    for (const n of networks) {
      const net = file.networks[n.name] as {
        internal: boolean;
        enable_ipv6: boolean;
        driver_opts: Record<string, string>;
        ipam: { config: { subnet: string }[] };
      };
      expect(net.internal, n.name).toBe(true);
      expect(net.enable_ipv6).toBe(true);
      expect(net.driver_opts['com.docker.network.bridge.name']).toBe(n.bridge);
      expect(net.ipam.config.map((c) => c.subnet)).toEqual([
        `172.28.${n.index}.0/24`,
        `fd28:${n.index}::/64`,
      ]);
    }
  });

  it('routes the browser through the middlebox, and the internet hosts back through it', () => {
    const mbHome = planAddress('middlebox', 'home');
    const mbNet = planAddress('middlebox', 'internet');
    expect(svc('browser').environment?.LAB_ROUTES).toBe(
      `default via ${mbHome}; -6 default via ${planAddress6('middlebox', 'home')}`,
    );
    for (const h of hosts.filter((x) => x.on.internet !== undefined && x.name !== 'middlebox')) {
      expect(svc(h.name).environment?.LAB_ROUTES, h.name).toBe(
        `172.28.1.0/24 via ${mbNet}; -6 fd28:1::/64 via ${planAddress6('middlebox', 'internet')}`,
      );
    }
    expect(svc('middlebox').sysctls?.['net.ipv4.ip_forward']).toBe('1');
    expect(svc('middlebox').sysctls?.['net.ipv6.conf.all.forwarding']).toBe('1');
  });

  it('adds capabilities only where routes, packets or the firewall need them', () => {
    for (const [name, s] of Object.entries(file.services)) {
      const caps = s.cap_add ?? [];
      const routes = !!s.environment?.LAB_ROUTES;
      const raw = name === 'middlebox' || name === 'bridge-rules';
      expect(caps.sort(), name).toEqual(raw ? ['NET_ADMIN', 'NET_RAW'] : routes ? ['NET_ADMIN'] : []);
    }
    expect(svc('app').cap_add).toBeUndefined();
  });

  it('checks every host health and starts hosts only after the ones they need are healthy', () => {
    for (const [name, s] of Object.entries(file.services)) {
      expect(s.healthcheck?.test.length, name).toBeGreaterThan(1);
      for (const [dep, d] of Object.entries(s.depends_on ?? {})) {
        expect(file.services[dep], `${name} depends on ${dep}`).toBeDefined();
        expect(d.condition).toBe('service_healthy');
      }
    }
    expect(Object.keys(svc('browser').depends_on ?? {})).toEqual(['bridge-rules', 'middlebox']);
    // the proxy needs its certificate to start, not the app: its backend probe follows the app
    expect(Object.keys(svc('proxy').depends_on ?? {}).sort()).toEqual([...STARTS_AFTER.proxy].sort());
    expect(Object.keys(svc('web2').depends_on ?? {})).toEqual([...STARTS_AFTER.web2]);
  });

  it('mounts the events folder in every lab host, where the CLI reads their events (.lab/docker)', () => {
    for (const h of hosts) expect(svc(h.name).volumes, h.name).toContain('./.lab/docker:/lab/events');
    expect(svc('bridge-rules').volumes).toBeUndefined();
  });

  it("keeps the CA's state in a named volume and the bridge rules on the machine's network", () => {
    expect(svc('ca').volumes).toEqual(['./.lab/docker:/lab/events', 'ca-state:/lab/state/hosts/ca']);
    expect(Object.keys(file.volumes)).toEqual(['ca-state']);
    expect(svc('bridge-rules').network_mode).toBe('host');
    expect(svc('bridge-rules').command).toEqual([
      'exec',
      '/lab/docker/bridge-rules.sh',
      'run',
      ...networks.map((n) => n.bridge),
    ]);
  });
});
