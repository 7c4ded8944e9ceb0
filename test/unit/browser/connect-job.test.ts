// The connect job without a network: a scripted connector stands for the sockets, so happy eyeballs
// (RFC 8305), the TLS step and the revocation verdict are checked with their events and errors.
import { EventEmitter } from 'node:events';
import type { DetailedPeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { CONNECTION_ATTEMPT_DELAY_MS, NetError, type TlsResult } from '../../../services/browser/connect.js';
import {
  type ConnectJobDeps,
  type Connector,
  connectJob,
  type JobSocket,
} from '../../../services/browser/connect-job.js';
import type { Revocation } from '../../../services/browser/revocation.js';
import { createEmitter, type LabEvent } from '../../../services/common/events.js';

/** A socket that connects, fails or stays silent when its script says. */
class FakeSocket extends EventEmitter implements JobSocket {
  destroyed = false;
  localAddress?: string;
  localPort?: number;
  remoteAddress?: string;
  remotePort?: number;
  constructor(
    readonly address: string,
    readonly port: number,
  ) {
    super();
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.emit('close', false);
    }
    return this;
  }
}

type Script = { after: number; does: 'connect' | 'ECONNREFUSED' | 'silence' };

/** A connector whose TCP attempts follow `script` per address, and whose TLS answers `tls`. */
function connector(
  script: Record<string, Script>,
  tls: (s: FakeSocket) => Promise<TlsResult<FakeSocket>> = async (s) => handshake(s),
) {
  const dialled: FakeSocket[] = [];
  let tlsCalls = 0;
  const c: Connector<FakeSocket> = {
    dial(address, port) {
      const s = new FakeSocket(address, port);
      dialled.push(s);
      const { after, does } = script[address];
      if (does !== 'silence')
        setTimeout(() => {
          if (s.destroyed) return;
          if (does === 'ECONNREFUSED')
            return void s.emit('error', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
          Object.assign(s, {
            localAddress: '192.0.2.10',
            localPort: 40000 + dialled.length,
            remoteAddress: address,
            remotePort: port,
          });
          s.emit('connect');
        }, after);
      return s;
    },
    tls: (s) => {
      tlsCalls++;
      return tls(s);
    },
  };
  return { c, dialled, tlsCalls: () => tlsCalls };
}

function handshake(s: FakeSocket, alpn = 'h2'): TlsResult<FakeSocket> {
  return {
    socket: s,
    alpn,
    version: 'TLSv1.3',
    cipher: 'TLS_AES_128_GCM_SHA256',
    peer: {
      subjectaltname: 'DNS:www.example.test',
      issuer: { CN: 'lab intermediate' },
      valid_to: 'Jan  1 00:00:00 2030 GMT',
      fingerprint256: 'AA:BB',
    } as DetailedPeerCertificate,
    ms: 2,
  };
}

function deps(
  c: Connector<FakeSocket>,
  addresses: string[],
  revocation: Revocation = { status: 'good', source: 'stapled', detail: 'good' },
  hardFailRevocation = false,
) {
  const events: LabEvent[] = [];
  let id = 0;
  const d: ConnectJobDeps<FakeSocket> = {
    events: createEmitter('browser', (line) => events.push(JSON.parse(line))),
    connector: c,
    resolve: async () => ({ addresses, source: 'dns', ms: 3 }),
    checkRevocation: async () => revocation,
    nextConnectionId: () => String(++id),
    hardFailRevocation,
  };
  return { d, events, kinds: () => events.map((e) => e.kind) };
}

const HTTPS = { scheme: 'https:' as const, host: 'www.example.test', port: 443 };
const V6 = '2001:db8::80';
const V4 = '192.0.2.80';

async function failure(p: Promise<unknown>): Promise<NetError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof NetError) return err;
    throw err;
  }
  throw new Error('it did not fail');
}

describe('connect job: happy eyeballs (RFC 8305)', () => {
  it('starts the IPv4 attempt 250 ms after a silent IPv6 one, and drops the loser', async () => {
    const k = connector({ [V6]: { after: 0, does: 'silence' }, [V4]: { after: 5, does: 'connect' } });
    const { d, events, kinds } = deps(k.c, [V6, V4]);
    const t0 = Date.now();
    const got = await connectJob(d, HTTPS, ['h2', 'http/1.1']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(CONNECTION_ATTEMPT_DELAY_MS - 5);
    expect(got.socket.address).toBe(V4);
    expect(k.dialled.map((s) => [s.address, s.destroyed])).toEqual([
      [V6, true],
      [V4, false],
    ]);
    const attempts = events.filter((e) => e.kind === 'happy-eyeballs.attempt').map((e) => e.data);
    expect(attempts).toEqual([
      expect.objectContaining({ address: V4, family: 4, outcome: 'won' }),
      expect.objectContaining({ address: V6, family: 6, outcome: 'abandoned' }),
    ]);
    expect(kinds().filter((x) => x !== 'happy-eyeballs.attempt')).toEqual([
      'tcp.connect',
      'tls.handshake',
      'ocsp.check',
    ]);
    expect(got.conn).toMatchObject({ id: '1', alpn: 'h2', remote: `${V4}:443`, dns: 3, used: false });
    expect(got.conn.ssl).toBeGreaterThanOrEqual(2);
    expect(got.conn.connect).toBeGreaterThanOrEqual(got.conn.ssl);
  });

  it('starts the next attempt at once when one is refused, not after 250 ms', async () => {
    const k = connector({ [V6]: { after: 5, does: 'ECONNREFUSED' }, [V4]: { after: 5, does: 'connect' } });
    const { d, events } = deps(k.c, [V6, V4]);
    const t0 = Date.now();
    await connectJob(d, HTTPS, ['h2']);
    expect(Date.now() - t0).toBeLessThan(CONNECTION_ATTEMPT_DELAY_MS - 50);
    const v6 = events.find((e) => e.kind === 'happy-eyeballs.attempt' && e.data?.address === V6);
    expect(v6?.data).toMatchObject({ outcome: 'failed', error: 'ECONNREFUSED' });
  });

  it('fails with ERR_CONNECTION_REFUSED when every address refuses, and opens nothing', async () => {
    const k = connector({
      [V6]: { after: 1, does: 'ECONNREFUSED' },
      [V4]: { after: 1, does: 'ECONNREFUSED' },
    });
    const { d, kinds } = deps(k.c, [V6, V4]);
    const e = await failure(connectJob(d, HTTPS, ['h2']));
    expect([e.code, e.step]).toEqual(['ERR_CONNECTION_REFUSED', 'tcp.connect']);
    expect(kinds()).not.toContain('tcp.connect');
    expect(k.tlsCalls()).toBe(0);
  });
});

describe('connect job: TCP, TLS, revocation', () => {
  it('plain http: no TLS and no revocation check; the close is told with the connection number', async () => {
    const k = connector({ [V4]: { after: 1, does: 'connect' } });
    const { d, events, kinds } = deps(k.c, [V4]);
    const got = await connectJob(d, { scheme: 'http:', host: 'www.example.test', port: 80 }, ['h2']);
    expect(k.tlsCalls()).toBe(0);
    expect(got.conn).toMatchObject({ alpn: 'http/1.1', ssl: -1 });
    got.socket.destroy();
    expect(kinds()).toEqual(['happy-eyeballs.attempt', 'tcp.connect', 'tcp.close']);
    expect(events.at(-1)?.data).toMatchObject({ connection: '1', dst: `${V4}:80`, error: false });
  });

  it('a failed handshake is told, its socket dropped, and its error kept', async () => {
    const k = connector({ [V4]: { after: 1, does: 'connect' } }, async () => {
      throw new NetError('ERR_CERT_AUTHORITY_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'tls.handshake');
    });
    const { d, events } = deps(k.c, [V4]);
    const e = await failure(connectJob(d, HTTPS, ['h2']));
    expect(e.code).toBe('ERR_CERT_AUTHORITY_INVALID');
    expect(k.dialled[0].destroyed).toBe(true);
    expect(events.find((x) => x.kind === 'tls.handshake')?.data).toMatchObject({
      sni: 'www.example.test',
      error: 'ERR_CERT_AUTHORITY_INVALID',
    });
    expect(events.map((x) => x.kind)).not.toContain('ocsp.check');
  });

  it('a revoked certificate ends the connection: ERR_CERT_REVOKED at ocsp.check', async () => {
    const k = connector({ [V4]: { after: 1, does: 'connect' } });
    const { d, events } = deps(k.c, [V4], { status: 'revoked', source: 'stapled', detail: 'revoked on …' });
    const e = await failure(connectJob(d, HTTPS, ['h2']));
    expect([e.code, e.step]).toEqual(['ERR_CERT_REVOKED', 'ocsp.check']);
    expect(k.dialled[0].destroyed).toBe(true);
    expect(events.find((x) => x.kind === 'ocsp.check')?.data).toMatchObject({ status: 'revoked' });
  });

  it('an unknown revocation status passes unless revocation checking is hard-fail', async () => {
    const unavailable: Revocation = { status: 'unavailable', source: 'none', detail: 'no responder' };
    const soft = deps(connector({ [V4]: { after: 1, does: 'connect' } }).c, [V4], unavailable);
    expect((await connectJob(soft.d, HTTPS, ['h2'])).conn.alpn).toBe('h2');
    const k = connector({ [V4]: { after: 1, does: 'connect' } });
    const hard = deps(k.c, [V4], unavailable, true);
    const e = await failure(connectJob(hard.d, HTTPS, ['h2']));
    expect(e.code).toBe('ERR_CERT_UNABLE_TO_CHECK_REVOCATION');
    expect(k.dialled[0].destroyed).toBe(true);
  });
});
