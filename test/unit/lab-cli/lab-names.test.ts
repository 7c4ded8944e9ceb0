// Names and addresses at the CLI and in scenarios: absolute names, the most specific zone, one
// translation of addresses everywhere, and nothing outside the lab accepted.
import { describe, expect, it } from 'vitest';
import { absoluteRdata, labAddress, labNameProblem, labValue, zoneOf } from '../../../lab-cli/lab-names.js';
import type { Runtime } from '../../../lab-cli/runtime/types.js';
import { settingsFromEnv } from '../../../services/common/settings.js';

const local = settingsFromEnv({}, { runtime: 'local', block: '127.46', stateDir: '/tmp/x', ipv6: true });
const docker = settingsFromEnv({}, { runtime: 'docker', stateDir: '/tmp/x' });

describe('names typed at the CLI', () => {
  it('makes a CNAME target absolute, not relative to the zone', () => {
    expect(absoluteRdata('CNAME', 'search.test')).toBe('search.test.');
    expect(absoluteRdata('cname', 'search.test.')).toBe('search.test.');
    expect(absoluteRdata('MX', '10 mail.example.test')).toBe('10 mail.example.test.');
    expect(absoluteRdata('SRV', '0 5 443 www.example.test')).toBe('0 5 443 www.example.test.');
    expect(absoluteRdata('TXT', '"search.test"')).toBe('"search.test"');
  });
  it('refuses names outside the lab, with the reason', () => {
    expect(labNameProblem('www.google.com')).toMatch(/not a lab name.*\.test/);
    expect(labNameProblem('google.com.')).toMatch(/not a lab name/);
    expect(labNameProblem('www.example.test')).toBeUndefined();
    expect(labNameProblem('xn--sjsten-xxa.test.')).toBeUndefined();
    expect(() => labValue('CNAME', 'www.google.com', local)).toThrow(/not a lab name/);
  });
});

describe('addresses', () => {
  it('translates a plan address to this lab the same way for A records and the hosts file', () => {
    expect(labAddress('172.28.2.81', local)).toBe('127.46.2.81');
    expect(labValue('A', '172.28.2.81', local)).toBe('127.46.2.81');
    expect(labAddress('127.46.2.81', local)).toBe('127.46.2.81');
    expect(labAddress('fd28:2::81', local)).toBe('fd7f:46:2::81');
    expect(labAddress('fd7f:46:2::81', local)).toBe('fd7f:46:2::81');
    expect(labAddress('172.28.2.81', docker)).toBe('172.28.2.81');
  });
  it('refuses addresses outside the lab, or of another block', () => {
    expect(() => labAddress('8.8.8.8', local)).toThrow(/not a lab address/);
    expect(() => labAddress('127.41.2.81', local)).toThrow(/not a lab address/);
    expect(() => labAddress('not-an-ip', local)).toThrow(/not an IP address/);
  });
});

describe('the zone a name is written into', () => {
  const zones: Record<string, string[]> = {
    'ns-root': ['.'],
    'ns-tld': ['test', 'blocked.test'],
    'ns-example': ['example.test', 'search.test'],
  };
  const rt = {
    control: async (host: string) => {
      if (!zones[host]) throw new Error('not running');
      return zones[host];
    },
  } as unknown as Runtime;
  it('is the most specific one, whichever nameserver is asked first', async () => {
    expect(await zoneOf(rt, 'alias.example.test')).toEqual({ host: 'ns-example', zone: 'example.test' });
    expect(await zoneOf(rt, 'new.test')).toEqual({ host: 'ns-tld', zone: 'test' });
    expect(await zoneOf(rt, 'www.google.com')).toEqual({ host: 'ns-root', zone: '' });
  });
});
