// The frames of a capture as tshark dissects them: one row per frame with the fields the lab needs
// to tie frames to events (addresses, ports, TCP flags, DNS ids, TLS handshake types, HTTP paths).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CaptureError } from './dumpcap.js';

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
  'dns.flags.response',
  'dns.qry.name',
  'tls.handshake.type',
  'tls.handshake.extensions_server_name',
  'http.request.uri',
  'http2.headers.path',
] as const;

/** "1796157821.943393123" → µs, without losing digits to floating point. */
export function epochToMicros(s: string): number {
  const [sec, frac = ''] = s.split('.');
  return Number(sec) * 1_000_000 + Number(frac.padEnd(6, '0').slice(0, 6));
}

export function parseFrameRow(line: string): Frame | undefined {
  const c = line.split('\t');
  if (c.length < FIELDS.length || !/^\d+$/.test(c[0])) return undefined;
  const f = (name: (typeof FIELDS)[number]) => c[FIELDS.indexOf(name)] ?? '';
  const list = (name: (typeof FIELDS)[number]) => f(name).split(',').filter(Boolean);
  const tcp = f('tcp.srcport') !== '';
  const udp = f('udp.srcport') !== '';
  return {
    number: Number(c[0]),
    ts: epochToMicros(f('frame.time_epoch')),
    // an ICMP error quotes the packet it is about: the outer header comes first
    src: (f('ip.src') || f('ipv6.src')).split(',')[0],
    dst: (f('ip.dst') || f('ipv6.dst')).split(',')[0],
    proto: tcp ? 'tcp' : udp ? 'udp' : 'other',
    sport: Number((tcp ? f('tcp.srcport') : f('udp.srcport')).split(',')[0] || 0),
    dport: Number((tcp ? f('tcp.dstport') : f('udp.dstport')).split(',')[0] || 0),
    tcpFlags: tcp ? Number.parseInt(f('tcp.flags').split(',')[0], 16) : 0,
    tcpLen: Number(f('tcp.len').split(',')[0] || 0),
    dnsId: f('dns.id') ? Number.parseInt(f('dns.id').split(',')[0], 16) : undefined,
    dnsResponse: f('dns.flags.response') ? f('dns.flags.response').split(',')[0] === '1' : undefined,
    dnsName: list('dns.qry.name')[0],
    tlsTypes: list('tls.handshake.type').map(Number),
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

/** Every frame of a capture, dissected with the given key log (if any) so TLS payloads are decrypted. */
export async function readFrames(pcap: string, keylog?: string): Promise<Frame[]> {
  const args = ['-r', pcap, '-n', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a'];
  if (keylog) args.push('-o', `tls.keylog_file:${keylog}`);
  for (const f of FIELDS) args.push('-e', f);
  const out = await tshark(args);
  return out
    .split('\n')
    .map(parseFrameRow)
    .filter((f): f is Frame => !!f);
}
