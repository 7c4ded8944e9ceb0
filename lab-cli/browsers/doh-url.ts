// The lab resolver's DoH URI template (RFC 8484 §3): a name its certificate carries, on the lab's HTTPS port.
import { type LabSettings, port } from '../../services/common/settings.js';

export const RESOLVER_TLS_NAME = 'resolver.test';

export function labDohUrl(s: LabSettings): string {
  const p = port(443, s);
  return `https://${RESOLVER_TLS_NAME}${p === 443 ? '' : `:${p}`}/dns-query`;
}
