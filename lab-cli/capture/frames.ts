// The frames of a capture as Wireshark dissects them (sharkd's columns): one row per frame with the
// fields the lab needs to tie frames to events (addresses, ports, TCP flags, DNS ids, TLS handshake
// types, HTTP paths). tshark() is kept for the filters too long for sharkd's line buffer.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CaptureError } from './dumpcap.js';
import type { Sharkd } from './sharkd.js';

const run = promisify(execFile);

export interface Frame {
  number: number;
  /** microseconds since the epoch, the events' clock */
  ts: number;
  src: string;
  dst: string;
  proto: 'tcp' | 'udp' | 'other';
  sport: number;
  dport: number;
  /** TCP flags as a number (0x002 SYN, 0x012 SYN-ACK, 0x010 ACK, 0x011 FIN-ACK) */
  tcpFlags: number;
  tcpLen: number;
  dnsId?: number;
  dnsResponse?: boolean;
  dnsName?: string;
  /** TLS handshake message types in the frame (1 ClientHello, 2 ServerHello, 11 Certificate) */
  tlsTypes: number[];
  sni?: string;
  /** HTTP/1.x request URIs and HTTP/2 :path values, decrypted */
  paths: string[];
}

// sharkd's custom columns, one per field, every occurrence joined by commas (as tshark -E occurrence=a)
const FIELDS = [
  'frame.number',
  'frame.time_epoch',
  'ip.src',
  'ipv6.src',
  'ip.dst',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
  'tcp.flags',
  'tcp.len',
  'dns.id',
  // the flags word, not dns.flags.response: a column shows a boolean as "Message is a response"
  'dns.flags',
  'dns.qry.name',
  'tls.handshake.type',
  'tls.handshake.extensions_server_name',
  'http.request.uri',
  'http2.headers.path',
] as const;

const DNS_QR = 0x8000; // RFC 1035 §4.1.1: the header's QR bit, set in a response

/** A column shows a handshake type by its name (RFC 8446 §4, RFC 5246 §7.4): the names Wireshark uses. */
const TLS_HANDSHAKE_TYPES: Record<string, number> = {
  'Hello Request': 0,
  'Client Hello': 1,
  'Server Hello': 2,
  'Hello Verify Request': 3,
  'New Session Ticket': 4,
  'End of Early Data': 5,
  'Hello Retry Request': 6,
  'Encrypted Extensions': 8,
  Certificate: 11,
  'Server Key Exchange': 12,
  'Certificate Request': 13,
  'Server Hello Done': 14,
  'Certificate Verify': 15,
  'Client Key Exchange': 16,
  Finished: 20,
  'Certificate URL': 21,
  'Certificate Status': 22,
  'Key Update': 24,
};

/** "1796157821.943393123" → µs, without losing digits to floating point. */
export function epochToMicros(s: string): number {
  const [sec, frac = ''] = s.split('.');
  return Number(sec) * 1_000_000 + Number(frac.padEnd(6, '0').slice(0, 6));
}

/** One frame from its row of columns (FIELDS order), or undefined for a row that is not a frame. */
export function parseFrameColumns(c: string[]): Frame | undefined {
  if (c.length < FIELDS.length || !/^\d+$/.test(c[0])) return undefined;
  const f = (name: (typeof FIELDS)[number]) => c[FIELDS.indexOf(name)] ?? '';
  const list = (name: (typeof FIELDS)[number]) => f(name).split(',').filter(Boolean);
  const first = (name: (typeof FIELDS)[number]) => f(name).split(',')[0];
  const tcp = f('tcp.srcport') !== '';
  const udp = f('udp.srcport') !== '';
  const dnsFlags = f('dns.flags') ? Number.parseInt(first('dns.flags'), 16) : undefined;
  return {
    number: Number(c[0]),
    ts: epochToMicros(f('frame.time_epoch')),
    // an ICMP error quotes the packet it is about: the outer header comes first
    src: (f('ip.src') || f('ipv6.src')).split(',')[0],
    dst: (f('ip.dst') || f('ipv6.dst')).split(',')[0],
    proto: tcp ? 'tcp' : udp ? 'udp' : 'other',
    sport: Number((tcp ? first('tcp.srcport') : first('udp.srcport')) || 0),
    dport: Number((tcp ? first('tcp.dstport') : first('udp.dstport')) || 0),
    tcpFlags: tcp ? Number.parseInt(first('tcp.flags'), 16) : 0,
    tcpLen: Number(first('tcp.len') || 0),
    dnsId: f('dns.id') ? Number.parseInt(first('dns.id'), 16) : undefined,
    dnsResponse: dnsFlags === undefined ? undefined : (dnsFlags & DNS_QR) !== 0,
    dnsName: list('dns.qry.name')[0],
    tlsTypes: list('tls.handshake.type')
      .map((name) => TLS_HANDSHAKE_TYPES[name])
      .filter((t): t is number => t !== undefined),
    sni: list('tls.handshake.extensions_server_name')[0],
    paths: [...list('http.request.uri'), ...list('http2.headers.path')],
  };
}

/** Runs tshark, turning "cut short" and "not a capture file" into ERR_CAPTURE_BROKEN. */
export async function tshark(args: string[]): Promise<string> {
  try {
    const { stdout } = await run('tshark', args, { maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new CaptureError(
        'ERR_NO_DUMPCAP',
        'tshark is not installed',
        'install it with: apt-get install tshark',
      );
    const said = (e.stderr ?? '').split('\n').filter((l) => l.trim() && !/^Running as user/.test(l));
    if (said.some((l) => /cut short|isn't a capture file|unknown format|corrupt|damaged|bad block/i.test(l)))
      throw new CaptureError(
        'ERR_CAPTURE_BROKEN',
        said.join(' ').replace(/^tshark: /, ''),
        'take a new capture',
      );
    throw new Error(said.join(' ').replace(/^tshark: /, '') || (e.message ?? 'tshark failed'));
  }
}

/** Every frame of the capture loaded in sharkd (TLS payloads decrypted with the file's own secrets). */
export async function readFrames(sharkd: Sharkd): Promise<Frame[]> {
  const columns = Object.fromEntries(FIELDS.map((f, i) => [`column${i}`, `${f}:0`]));
  const rows = await sharkd.call<{ c: string[] }[]>('frames', columns);
  return rows.map((r) => parseFrameColumns(r.c)).filter((f): f is Frame => !!f);
}
