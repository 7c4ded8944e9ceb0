// What the lab saw of a real browser's visit, from the hosts' events: its DNS questions, its TLS
// handshakes (or the alert it sent to refuse one), its HTTP requests. A browser outside the lab's
// browser host talks from 127.0.0.1 on the local runtime, so its events are told apart by that.
import type { LabEvent } from '../../services/common/events.js';

export interface Seen {
  dnsQueries: number;
  /** of which over DNS over HTTPS (the resolver's dns.query transport) */
  dohQueries: number;
  handshakes: string[];
  /** TLS alerts the browser sent (the proxy's tls.error), e.g. ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED */
  refusals: string[];
  requests: string[];
}

export function seenOf(events: LabEvent[]): Seen {
  const d = (e: LabEvent) => (e.data ?? {}) as Record<string, unknown>;
  const notLabBrowser = (e: LabEvent) => e.host !== 'browser';
  return {
    dnsQueries: events.filter((e) => e.host === 'resolver' && e.kind === 'dns.query').length,
    dohQueries: events.filter(
      (e) => e.host === 'resolver' && e.kind === 'dns.query' && d(e).transport === 'doh',
    ).length,
    handshakes: events
      .filter((e) => notLabBrowser(e) && e.kind === 'tls.handshake')
      .map((e) => `${e.host}: SNI ${d(e).sni ?? '-'} ALPN ${d(e).alpn ?? '-'}`),
    refusals: events.filter((e) => e.kind === 'tls.error').map((e) => `${e.host}: ${d(e).code}`),
    requests: events
      .filter((e) => e.host === 'proxy' && e.kind === 'http.request')
      .map((e) => `${d(e).method} ${d(e).scheme}://${d(e).host}${d(e).url}`),
  };
}

/** Chrome's and Firefox's names for a refusal the lab saw as a TLS alert from the browser (RFC 8446 §6.2) */
export function refusalName(code: string): string | undefined {
  if (/CERTIFICATE_REVOKED/.test(code))
    return 'certificate_revoked (ERR_CERT_REVOKED / SEC_ERROR_REVOKED_CERTIFICATE)';
  if (/UNKNOWN_CA/.test(code)) return 'unknown_ca (ERR_CERT_AUTHORITY_INVALID / SEC_ERROR_UNKNOWN_ISSUER)';
  if (/BAD_CERTIFICATE/.test(code)) return 'bad_certificate';
  return undefined;
}
