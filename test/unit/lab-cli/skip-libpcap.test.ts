// Without libpcap the poisoning scenario is skipped (exit 77) like the other scenarios whose needs
// are not met, instead of failing at its dns.poison step.
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../../services/middlebox/tap.js', () => ({
  loadCap: () => ({ error: 'the cap module (libpcap) is not available: libpcap.so.0.8: cannot open' }),
}));

const { loadScenario, scenarioPath } = await import('../../../lab-cli/scenario/load.js');
const { loadActions } = await import('../../../lab-cli/scenario/registry.js');
const { skipReason } = await import('../../../lab-cli/scenario/runner.js');

describe('poisoning without libpcap', () => {
  it('is skipped, saying libpcap is missing', async () => {
    const sc = loadScenario(scenarioPath('poisoning'), await loadActions());
    const runtime = {
      name: 'local',
      status: async () =>
        ['ns-root', 'ns-tld', 'ns-example', 'resolver'].map((host) => ({ host, state: 'running' })),
    } as never;
    const uid = vi.spyOn(process, 'getuid').mockReturnValue(0);
    try {
      expect(await skipReason(sc, runtime)).toMatch(/^needs libpcap: .*libpcap/);
    } finally {
      uid.mockRestore();
    }
  });
});
