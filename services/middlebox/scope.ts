// Where the censor stands: the home network's router. It sees (and may forge) only packets between a
// home host and a host elsewhere in the lab; on the local runtime `lo` carries every lab on this
// machine, so the capture filter keeps to this lab's block and the code checks every address again.
import { address6Of, addressOf, type LabSettings, port, ula, ulaNet, unproject } from '../common/settings.js';
import { hostByPlanAddress, networkOf } from '../common/topology.js';
import type { CensorScope } from './censor.js';

/** The lab host and network behind a runtime address, or undefined outside the lab. */
function placeOf(address: string, s: LabSettings) {
  return hostByPlanAddress(unproject(address, s));
}

export function censorScope(s: LabSettings): CensorScope {
  const forged: Record<string, string | undefined> = {
    A: addressOf('middlebox', s, 'home'),
    AAAA: s.ipv6 ? address6Of('middlebox', s, 'home') : undefined,
  };
  // every frame asks twice: remember the answers (lab addresses and a few strangers)
  const places = new Map<string, ReturnType<typeof placeOf> | null>();
  const place = (a: string) => {
    let p = places.get(a);
    if (p === undefined) {
      if (places.size > 4096) places.clear();
      p = placeOf(a, s) ?? null;
      places.set(a, p);
    }
    return p ?? undefined;
  };
  return {
    onPath(a, b) {
      const x = place(a);
      const y = place(b);
      if (!x || !y || x.host === 'middlebox' || y.host === 'middlebox') return false;
      return (x.network === 'home') !== (y.network === 'home');
    },
    dnsPort: port(53, s),
    forgedAddress: (type) => forged[type],
  };
}

/** The BPF filter (pcap-filter(7)) for this lab's traffic through the home network. */
export function captureFilter(s: LabSettings): string {
  const home = networkOf('home').index;
  if (s.runtime === 'docker') return `(tcp or udp) and (net 172.28.${home}.0/24 or net fd28:${home}::/64)`;
  const v4 = `(tcp or udp) and src net ${s.block}.0.0/16 and dst net ${s.block}.0.0/16 and net ${s.block}.${home}.0/24`;
  if (!s.ipv6) return v4;
  const p = ula(s);
  return `(${v4}) or ((tcp or udp) and src net ${ulaNet(s)} and dst net ${ulaNet(s)} and net ${p}:${home}::/64)`;
}
