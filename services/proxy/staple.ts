// OCSP stapling: the proxy asks the CA about its own certificate and hands the signed answer to
// clients in the TLS handshake (RFC 6066 status_request), so they need not ask the CA themselves.
import type * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { fetchFromCa } from '../common/certificate.js';
import type { Emitter } from '../common/events.js';
import type { LabSettings } from '../common/settings.js';

pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: globalThis.crypto }));

function certs(chainPem: string): pkijs.Certificate[] {
  return [...chainPem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g)].map((m) =>
    pkijs.Certificate.fromBER(new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'))),
  );
}

export async function fetchStaple(
  settings: LabSettings,
  source: string,
  chainPem: string,
): Promise<{ der: Buffer; status: string; nextUpdate: Date }> {
  const [leaf, issuer] = certs(chainPem);
  if (!leaf || !issuer) throw new Error('the chain needs the leaf and its issuer');
  const req = new pkijs.OCSPRequest();
  await req.createForCertificate(leaf, { hashAlgorithm: 'SHA-1', issuerCertificate: issuer });
  const body = Buffer.from(req.toSchema(true).toBER(false));
  const res = await fetchFromCa(settings, source, '/ocsp', body, 'application/ocsp-request');
  if (res.status !== 200) throw new Error(`the CA answered ${res.status}`);
  const ocsp = pkijs.OCSPResponse.fromBER(new Uint8Array(res.body).slice().buffer);
  if (ocsp.responseStatus.valueBlock.valueDec !== 0 || !ocsp.responseBytes)
    throw new Error(`OCSP status ${ocsp.responseStatus.valueBlock.valueDec}`);
  const basic = pkijs.BasicOCSPResponse.fromBER(
    new Uint8Array(ocsp.responseBytes.response.valueBlock.valueHexView),
  );
  const single = basic.tbsResponseData.responses[0];
  const tag = (single.certStatus as asn1js.BaseBlock).idBlock.tagNumber;
  return {
    der: res.body,
    status: ['good', 'revoked', 'unknown'][tag] ?? 'unknown',
    nextUpdate: single.nextUpdate ?? new Date(Date.now() + 3_600_000),
  };
}

/** Fetches the staple now and again before each nextUpdate (10 min ahead; every 30 s after a failure). */
export async function keepStapled(settings: LabSettings, source: string, chainPem: string, events: Emitter) {
  let der: Buffer | undefined;
  let last: { status: string; nextUpdate?: string } = { status: 'none' };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const refresh = async (): Promise<number> => {
    try {
      const r = await fetchStaple(settings, source, chainPem);
      der = r.der;
      last = { status: r.status, nextUpdate: r.nextUpdate.toISOString() };
      events.emit({
        kind: 'ocsp.staple',
        summary: `fetched an OCSP response to staple: ${r.status}, valid until ${r.nextUpdate.toISOString()}`,
        data: { status: r.status, nextUpdate: r.nextUpdate.toISOString() },
      });
      return Math.max(60_000, r.nextUpdate.getTime() - Date.now() - 600_000);
    } catch (err) {
      last = { status: 'error' };
      events.emit({
        kind: 'ocsp.staple',
        summary: `could not fetch an OCSP response to staple: ${(err as Error).message}`,
        data: { status: 'error' },
      });
      return 30_000;
    }
  };
  const schedule = async () => {
    clearTimeout(timer);
    const wait = await refresh();
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void schedule(), wait);
    timer.unref();
  };
  await schedule();
  return {
    current: () => der,
    /** what the last fetch said: good, revoked, unknown, error */
    status: () => last.status,
    /** asks the CA again now (e.g. right after a revocation), then keeps the usual schedule */
    refreshNow: async () => {
      await schedule();
      return last;
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
