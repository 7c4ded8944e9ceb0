// The events every host emits, whatever its service (services/common/service.ts). Each service's
// own union (services/<service>/events.ts) includes these.
import type { ServiceName } from './topology.js';

export type ServiceEvent =
  | {
      /** the host is up: what listens, or why it runs but is off */
      kind: 'service.ready';
      data: { service: ServiceName; pid: number; listening: string[]; off?: string };
    }
  | {
      /** the host stopped on a signal */
      kind: 'service.stop';
      data: { signal: string };
    }
  | {
      /** a socket handler failed; the host goes on (guard) */
      kind: 'service.error';
      data: { where: string; stack?: string };
    }
  | {
      /** something the host cannot do here, said once at start */
      kind: 'service.note';
      data: { tls: boolean };
    }
  | {
      /** written by the CLI for the host (docker runtime): its container exited with an error */
      kind: 'service.died';
      data: { exitCode: number; container: string };
    };

/** A certificate renewed by a host that serves TLS (services/common/tls-identity.ts). */
export type TlsRenewEvent = {
  /** a new certificate from the CA is served */
  kind: 'tls.renew';
  data: { serial: string; names: string[]; notAfter: string };
};

/** An OCSP answer fetched by a host that staples it (services/proxy/staple.ts). */
export type OcspStapleEvent = {
  /** a stapled OCSP response fetched (status error: the CA did not answer) */
  kind: 'ocsp.staple';
  data: { status: string; nextUpdate?: string };
};
