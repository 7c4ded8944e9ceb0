import { describe, expect, it } from 'vitest';
import {
  address6Of,
  addressOf,
  allAddressesOf,
  hostAt,
  port,
  project,
  settingsFromEnv,
  unproject,
  validateBlock,
} from '../../../services/common/settings.js';
import {
  hostByPlanAddress,
  hosts,
  ipv6Twin,
  planAddress,
  planAddress6,
} from '../../../services/common/topology.js';

const local = settingsFromEnv(
  {},
  { runtime: 'local', block: '127.40', stateDir: '/tmp/x', portOffset: 0, ipv6: true },
);
const docker = settingsFromEnv({}, { runtime: 'docker', stateDir: '/tmp/x', portOffset: 0 });

describe('the address plan', () => {
  it('places the hosts of docs/ARCHITECTURE.md at their addresses', () => {
    expect(planAddress('browser')).toBe('172.28.1.10');
    expect(planAddress('middlebox', 'home')).toBe('172.28.1.254');
    expect(planAddress('middlebox', 'internet')).toBe('172.28.2.254');
    expect(planAddress('ns-root')).toBe('172.28.2.11');
    expect(planAddress('ns-tld')).toBe('172.28.2.12');
    expect(planAddress('ns-example')).toBe('172.28.2.13');
    expect(planAddress('ca')).toBe('172.28.2.20');
    expect(planAddress('resolver')).toBe('172.28.2.53');
    expect(planAddress('proxy', 'internet')).toBe('172.28.2.80');
    expect(planAddress('proxy', 'backend')).toBe('172.28.3.80');
    expect(planAddress('app')).toBe('172.28.3.10');
  });

  it('mirrors every IPv4 address as fd28:N::M', () => {
    expect(ipv6Twin('172.28.2.53')).toBe('fd28:2::53');
    expect(planAddress6('proxy', 'backend')).toBe('fd28:3::80');
  });

  it('gives no two hosts the same address on a network', () => {
    const seen = new Set<string>();
    for (const h of hosts)
      for (const [net, last] of Object.entries(h.on)) {
        const key = `${net}/${last}`;
        expect(seen.has(key), key).toBe(false);
        seen.add(key);
      }
  });

  it('finds the host behind a plan address, v4 or v6', () => {
    expect(hostByPlanAddress('172.28.2.12')?.host).toBe('ns-tld');
    expect(hostByPlanAddress('fd28:3::10')?.host).toBe('app');
    expect(hostByPlanAddress('172.28.9.9')).toBeUndefined();
  });

  it('refuses a host that is not in the plan', () => {
    expect(() => planAddress('nobody')).toThrow(/unknown lab host "nobody"/);
    expect(() => planAddress('app', 'home')).toThrow(/not on network home/);
  });
});

describe('runtime projection', () => {
  it('projects 172.28.N.M to the local block and back', () => {
    expect(project('172.28.2.53', local)).toBe('127.40.2.53');
    expect(unproject('127.40.2.53', local)).toBe('172.28.2.53');
    expect(unproject('::ffff:127.40.2.53', local)).toBe('172.28.2.53');
    expect(addressOf('resolver', local)).toBe('127.40.2.53');
    expect(addressOf('proxy', local, 'backend')).toBe('127.40.3.80');
  });

  it('gives each local lab its own IPv6 prefix from its block', () => {
    expect(address6Of('resolver', local)).toBe('fd7f:40:2::53');
    expect(project('fd28:2::53', local)).toBe('fd7f:40:2::53');
    expect(unproject('fd7f:40:2::53', local)).toBe('fd28:2::53');
  });

  it('keeps the plan addresses in docker', () => {
    expect(addressOf('resolver', docker)).toBe('172.28.2.53');
    expect(address6Of('resolver', docker)).toBe('fd28:2::53');
  });

  it('lists every address of a multi-homed host', () => {
    expect(allAddressesOf('proxy', local)).toEqual([
      '127.40.2.80',
      'fd7f:40:2::80',
      '127.40.3.80',
      'fd7f:40:3::80',
    ]);
  });

  it('names the host behind a runtime address, and nothing for outsiders', () => {
    expect(hostAt('127.40.2.12', local)).toBe('ns-tld');
    expect(hostAt('127.0.0.1', local)).toBeUndefined();
    expect(hostAt('127.99.0.1', local)).toBeUndefined();
  });

  it('offsets every port by the same amount', () => {
    expect(port(53, { ...local, portOffset: 10000 })).toBe(10053);
    expect(port(443, local)).toBe(443);
  });

  it('refuses a block outside 127.1–127.99', () => {
    expect(() => validateBlock('10.0')).toThrow(/127\.N/);
    expect(() => validateBlock('127.0')).toThrow();
    expect(validateBlock('127.28')).toBe('127.28');
  });

  it('reads its settings from LAB_* variables', () => {
    const s = settingsFromEnv({
      LAB_BLOCK: '127.41',
      LAB_PORT_OFFSET: '10000',
      LAB_STATE_DIR: '/tmp/s',
      LAB_IPV6: '0',
    });
    expect(s).toMatchObject({
      runtime: 'local',
      block: '127.41',
      portOffset: 10000,
      stateDir: '/tmp/s',
      ipv6: false,
    });
    expect(() => settingsFromEnv({ LAB_RUNTIME: 'vagrant' })).toThrow(/unknown runtime/);
    expect(() => settingsFromEnv({ LAB_PORT_OFFSET: 'ten' })).toThrow(/LAB_PORT_OFFSET/);
  });
});
