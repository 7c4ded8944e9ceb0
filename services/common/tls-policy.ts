// The lab's TLS server policy, one for every TLS listener (the proxy, web2): Mozilla's
// "intermediate" configuration (https://wiki.mozilla.org/Security/Server_Side_TLS, version 5.7),
// without its DHE suites, so that only the elliptic-curve groups below are offered.
import type { SecureContextOptions, TlsOptions, Server as TlsServer } from 'node:tls';

/** TLS 1.3 suites (RFC 8446 §9.1) then TLS 1.2: ECDHE with an AEAD only (no CBC: LUCKY13, RFC 7457 §2.8). */
export const CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** RFC 8422 §5.1.1 / RFC 8446 §4.2.7: the key-exchange groups offered, in preference order (no ffdhe). */
export const GROUPS = 'X25519:P-256:P-384';

/** A ClientHello must arrive and the handshake finish within this (Node's default is 120 s). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** How long a session can be resumed, by ticket or by ID (RFC 8446 §4.6.1 allows up to 7 days). */
export const SESSION_TIMEOUT_S = 300;

/** Options for every secure context: the server's own and each SNI name's. */
export const CONTEXT_POLICY: SecureContextOptions = {
  minVersion: 'TLSv1.2',
  ciphers: CIPHERS,
  ecdhCurve: GROUPS,
  // Mozilla intermediate: every suite offered is strong, so the client's order is respected
  honorCipherOrder: false,
  sessionTimeout: SESSION_TIMEOUT_S,
};

/** Options for a TLS server (tls, https, http2): the context policy and the handshake deadline. */
export const SERVER_POLICY: TlsOptions = {
  ...CONTEXT_POLICY,
  handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
};

const MAX_SESSIONS = 1000;
const caches = new WeakMap<TlsServer, Map<string, { data: Buffer; until: number }>>();

/**
 * Session resumption by session ID (RFC 5246 §7.3): Node keeps no server-side session cache of its
 * own (it leaves that to the newSession/resumeSession events), so this is a small bounded one.
 * Resumption by ticket (RFC 5077) needs nothing: Node issues tickets by default.
 */
export function enableSessionIdResumption(server: TlsServer): void {
  const sessions = new Map<string, { data: Buffer; until: number }>();
  caches.set(server, sessions);
  server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
    if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
    sessions.set(id.toString('hex'), { data, until: Date.now() + SESSION_TIMEOUT_S * 1000 });
    done();
  });
  server.on('resumeSession', (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => {
    const s = sessions.get(id.toString('hex'));
    if (s && s.until > Date.now()) return done(null, s.data);
    sessions.delete(id.toString('hex'));
    done(null, null);
  });
}

/** Forgets the sessions of a certificate no longer served (after a renewal). */
export function forgetSessions(server: TlsServer): void {
  caches.get(server)?.clear();
}
