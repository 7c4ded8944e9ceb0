// One question to one authoritative server, with the shared DNS client (services/common/dns/client.ts:
// a fresh UDP socket from the resolver's own address, a random ID, only the matching answer accepted,
// TCP when TC=1), told in the iterator's terms: an answer, or a failure it can weigh (lame or gone).
import { DnsClientError, type DnsFailure, queryDns } from '../common/dns/client.js';
import type { Packet } from '../common/dns/codec.js';

export type UpstreamFailure = DnsFailure;

export interface UpstreamAnswer {
  ok: true;
  response: Packet;
  rtt: number;
  transport: 'udp' | 'tcp';
  truncatedFirst: boolean;
  /** forged or stray answers dropped while waiting */
  dropped: number;
}
export interface UpstreamError {
  ok: false;
  failure: UpstreamFailure;
  detail: string;
  rtt: number;
  dropped: number;
}

export interface UpstreamOptions {
  /** the resolver's own address of the same family, to bind to */
  source: string;
  timeoutMs: number;
}

export async function askServer(
  server: string,
  port: number,
  name: string,
  type: string,
  opts: UpstreamOptions,
): Promise<UpstreamAnswer | UpstreamError> {
  try {
    // RD=0: the resolver iterates itself
    const r = await queryDns(
      { name, type },
      { server, port, source: opts.source, timeoutMs: opts.timeoutMs },
    );
    return {
      ok: true,
      response: r.response,
      rtt: r.rtt,
      transport: r.transport,
      truncatedFirst: r.truncatedFirst,
      dropped: r.dropped,
    };
  } catch (err) {
    if (!(err instanceof DnsClientError)) throw err;
    return { ok: false, failure: err.reason, detail: err.detail, rtt: err.rtt, dropped: err.dropped };
  }
}
