// Encrypted DNS on the resolver (DoT, RFC 7858, port 853; DoH, RFC 8484, port 443): the same handler,
// cache and events as UDP and TCP, with the transport named in each event. The certificate for
// resolver.test comes from the lab CA; without the CA the resolver still serves UDP and TCP.
import type { Http2SecureServer as HttpsServer } from 'node:http2';
import type { Server as TlsServer } from 'node:tls';
import { obtainCertificate } from '../common/certificate.js';
import type { ServiceContext } from '../common/service.js';
import { startDoh } from './doh.js';
import { listeningOf, startDot } from './dot.js';
import type { ResolverEvent } from './events.js';

export type EncryptedTransport = 'dot' | 'doh';
export type EncryptedHandler = (
  msg: Buffer,
  meta: { address: string; port: number; transport: EncryptedTransport },
) => Promise<Buffer | undefined> | Buffer | undefined;

/** the name the resolver's certificate carries (the zone's resolver.test. A record points at it) */
export const RESOLVER_TLS_NAME = 'resolver.test';

export interface EncryptedDns {
  close(): Promise<void>;
}

export function startEncryptedDns(
  ctx: ServiceContext<ResolverEvent>,
  addresses: string[],
  handle: EncryptedHandler,
): EncryptedDns {
  const servers: (TlsServer | HttpsServer)[] = [];
  let closed = false;
  const onError = (where: string, err: unknown) =>
    ctx.events.emit({
      kind: 'dns.tls.error',
      summary: `${where}: ${(err as Error).message}`,
      data: { where, code: (err as NodeJS.ErrnoException).code },
    });
  // in the background: the resolver is ready for UDP and TCP while it waits for the CA
  const started = (async () => {
    const cert = await obtainCertificate(
      ctx.settings,
      ctx.stateDir,
      ctx.address(),
      [RESOLVER_TLS_NAME],
      'dns',
    );
    const tls = { key: cert.key, cert: cert.chain };
    for (const a of addresses) {
      if (closed) return;
      servers.push(await startDot(a, ctx.port(853), tls, handle, onError));
      servers.push(await startDoh(a, ctx.port(443), tls, handle, onError));
    }
    ctx.events.emit({
      kind: 'dns.encrypted.ready',
      summary: `DNS over TLS and over HTTPS (${RESOLVER_TLS_NAME}, certificate ${cert.serial.slice(0, 12)}…): ${servers.map((s, i) => listeningOf(s as TlsServer, i % 2 ? 'doh' : 'dot')).join(', ')}`,
      data: {
        name: RESOLVER_TLS_NAME,
        serial: cert.serial,
        listening: servers.map((s, i) => listeningOf(s as TlsServer, i % 2 ? 'doh' : 'dot')),
      },
    });
  })().catch((err: Error) =>
    ctx.events.emit({
      kind: 'dns.encrypted.off',
      summary: `no DNS over TLS or HTTPS: ${err.message} (UDP and TCP still served)`,
      data: { reason: err.message },
    }),
  );
  return {
    close: async () => {
      closed = true;
      await started;
      // stop listening; open DoT connections and HTTP/2 sessions end with the process
      for (const s of servers) (s as TlsServer).close();
    },
  };
}
