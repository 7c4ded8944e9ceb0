// The events every host emits, whatever its service (services/common/service.ts). Each service's
// own union (services/<service>/events.ts) includes these.
import type { ServiceName } from './topology.js';

export type ServiceEvent =
  /** the host is up: what listens, or why it runs but is off */
  | {
      kind: 'service.ready';
      data: { service: ServiceName; pid: number; listening: string[]; off?: string };
    }
  /** the host stopped on a signal */
  | { kind: 'service.stop'; data: { signal: string } }
  /** a socket handler failed; the host goes on (guard) */
  | { kind: 'service.error'; data: { where: string; stack?: string } }
  /** something the host cannot do here, said once at start */
  | { kind: 'service.note'; data: { tls: boolean } };

/** A host that serves TLS took a new certificate from the CA (services/common/tls-identity.ts). */
export type TlsRenewEvent = {
  kind: 'tls.renew';
  data: { serial: string; names: string[]; notAfter: string };
};

/** A host that staples OCSP fetched a new answer for its certificate (services/proxy/staple.ts). */
export type OcspStapleEvent = {
  kind: 'ocsp.staple';
  data: { status: string; nextUpdate?: string };
};
