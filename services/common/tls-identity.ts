// A lab host's TLS identity (the proxy's, web2's): its certificate from the lab CA, the SNI contexts
// built from it, and the OCSP answer it staples. `renew` asks the CA for a fresh certificate while the
// listeners keep running (JOURNEY 21: after a revocation, a new certificate brings the site back).
// Both come through the CA's ACME server: the first one before the host's web server starts (a
// standalone port-80 server answers the challenges meanwhile), a renewal while it runs (its own
// port-80 server answers them).
import { randomBytes } from 'node:crypto';
import { createSecureContext, type SecureContext, type Server as TlsServer } from 'node:tls';
import { keepStapled } from '../proxy/staple.js';
import type { ChallengeRelay } from './acme-challenges.js';
import { type Certificate, obtainCertificate } from './certificate.js';
import type { Emitter } from './events.js';
import type { LabSettings } from './settings.js';
import { CONTEXT_POLICY, forgetSessions } from './tls-policy.js';

export interface TlsIdentity {
  /** SNI name → context; the host's own names follow renewals, names added by tls.add stay */
  contexts: Map<string, SecureContext>;
  defaultContext(): SecureContext;
  key(): string;
  chain(): string;
  /** the DER OCSP response to staple now, if the CA gave one */
  staple(): Buffer | undefined;
  /** the servers whose default certificate and session tickets follow renewals */
  attach(server: TlsServer): void;
  info(): { serial: string; names: string[]; notAfter: string; staple: string };
  renew(): Promise<{ serial: string; notAfter: string; staple: string }>;
  refreshStaple(): Promise<{ status: string; nextUpdate?: string }>;
  stop(): void;
}

export async function loadTlsIdentity(
  settings: LabSettings,
  stateDir: string,
  source: string,
  names: string[],
  events: Emitter,
  /** where this host relays the challenges it has no answer for (the proxy's, to web2) */
  opts: { relay?: ChallengeRelay } = {},
): Promise<TlsIdentity> {
  const own = [...names];
  let cert: Certificate = await obtainCertificate(settings, stateDir, source, own, 'server', {
    http01: 'standalone',
    relay: opts.relay,
  });
  let context = createSecureContext({ ...CONTEXT_POLICY, key: cert.key, cert: cert.chain });
  const contexts = new Map<string, SecureContext>(own.map((n) => [n, context]));
  let stapler = await keepStapled(settings, source, cert.chain, events);
  const servers: TlsServer[] = [];

  return {
    contexts,
    defaultContext: () => context,
    key: () => cert.key,
    chain: () => cert.chain,
    staple: () => stapler.current(),
    attach: (server) => {
      servers.push(server);
    },
    info: () => ({
      serial: cert.serial,
      names: own,
      notAfter: cert.notAfter.toISOString(),
      staple: stapler.status(),
    }),
    async renew() {
      // a renewal while the host runs: it answers on its own port 80, and the CA is up (no waiting)
      const fresh = await obtainCertificate(settings, stateDir, source, own, 'server', {
        force: true,
        http01: 'served',
        waitMs: 0,
      });
      const next = await keepStapled(settings, source, fresh.chain, events);
      stapler.stop();
      stapler = next;
      cert = fresh;
      context = createSecureContext({ ...CONTEXT_POLICY, key: cert.key, cert: cert.chain });
      for (const n of own) contexts.set(n, context);
      for (const server of servers) {
        // setSecureContext replaces every context option: the policy goes in again
        server.setSecureContext({ ...CONTEXT_POLICY, key: cert.key, cert: cert.chain });
        // sessions from the old certificate must not be resumed without showing the new one
        server.setTicketKeys(randomBytes(48));
        forgetSessions(server);
      }
      events.emit({
        kind: 'tls.renew',
        summary: `serves a new certificate from the CA (serial ${cert.serial.slice(0, 12)}…, until ${cert.notAfter.toISOString()})`,
        data: { serial: cert.serial, names: own, notAfter: cert.notAfter.toISOString() },
      });
      return { serial: cert.serial, notAfter: cert.notAfter.toISOString(), staple: stapler.status() };
    },
    refreshStaple: () => stapler.refreshNow(),
    stop: () => stapler.stop(),
  };
}
