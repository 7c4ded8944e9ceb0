// Picks the runtime named by the settings. The docker runtime is loaded only when asked for.
import type { LabSettings } from '../../services/common/settings.js';
import { LocalRuntime } from './local.js';
import type { Runtime } from './types.js';

export async function openRuntime(settings: LabSettings): Promise<Runtime> {
  if (settings.runtime === 'local') return new LocalRuntime(settings);
  const mod = (await import('./docker.js')) as {
    DockerRuntime: new (s: LabSettings) => Runtime;
  };
  return new mod.DockerRuntime(settings);
}
