// The typed control contract (services/common/commands.ts) names every lab host, and only those;
// its run-time guards agree with the address plan.
import { describe, expect, it } from 'vitest';
import {
  HOSTS_WITH_COMMANDS,
  isNameserverHost,
  servesTls,
  TLS_HOSTS,
} from '../../../services/common/commands.js';
import { hosts, hostsOfService } from '../../../services/common/topology.js';

describe('the control commands by host', () => {
  it('has a map for every host of topology.ts, and for nothing else', () => {
    expect(Object.keys(HOSTS_WITH_COMMANDS).sort()).toEqual(hosts.map((h) => h.name).sort());
  });

  it('knows the nameservers and the hosts that serve TLS from the plan', () => {
    expect(hosts.filter((h) => isNameserverHost(h.name)).map((h) => h.name)).toEqual(
      hostsOfService('nameserver').map((h) => h.name),
    );
    expect(isNameserverHost('resolver')).toBe(false);
    expect(hosts.filter((h) => servesTls(h.name)).map((h) => h.name)).toEqual([...TLS_HOSTS]);
  });
});
