// Which hosts can run: a host whose service is not compiled into dist/ is off, on either runtime
// (the docker image is built from the same tree, so a service missing here is missing there too).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { allAddressesOf, type LabSettings, PROJECT_ROOT } from '../../services/common/settings.js';
import { hosts } from '../../services/common/topology.js';
import type { HostStatus } from './types.js';

export function serviceEntry(service: string): string {
  return join(PROJECT_ROOT, 'dist', 'services', service, 'main.js');
}

export function builtHosts(settings: LabSettings): HostStatus[] {
  return hosts.map((h) => {
    const built = existsSync(serviceEntry(h.service));
    return {
      host: h.name,
      service: h.service,
      addresses: allAddressesOf(h.name, settings),
      ports: [],
      state: built ? 'stopped' : 'off',
      reason: built
        ? undefined
        : `the ${h.service} service is not built (dist/services/${h.service}/main.js)`,
    };
  });
}
