// Small real pcapng files for tests, made by Wireshark's own text2pcap/mergecap from DNS messages.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';

export interface UdpDatagram {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload: Buffer;
}

/** A DNS query (or its response) as a UDP payload. */
export function dnsMessage(name: string, id: number, response = false): Buffer {
  return dnsPacket.encode({
    type: response ? 'response' : 'query',
    id,
    flags: response ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type: 'A', name }],
  });
}

/** One pcapng with each datagram as a frame, in order (text2pcap per datagram, then mergecap -a). */
export function makePcapng(datagrams: UdpDatagram[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'enterlab-pcap-'));
  const parts = datagrams.map((d, i) => {
    const hex = join(dir, `${i}.txt`);
    const rows = [...d.payload].map((b) => b.toString(16).padStart(2, '0'));
    writeFileSync(hex, `000000 ${rows.join(' ')}\n`);
    const out = join(dir, `${i}.pcapng`);
    const family = d.src.includes(':') ? '-6' : '-4';
    execFileSync(
      'text2pcap',
      ['-q', '-n', family, `${d.src},${d.dst}`, '-u', `${d.sport},${d.dport}`, hex, out],
      {
        stdio: 'pipe',
      },
    );
    return out;
  });
  const file = join(dir, 'capture.pcapng');
  execFileSync('mergecap', ['-a', '-F', 'pcapng', '-w', file, ...parts], { stdio: 'pipe' });
  return file;
}

/** tshark's one-line summaries of a file (`-N n`: names from the file's NRB only). */
export function tsharkLines(file: string, ...args: string[]): string[] {
  return execFileSync('tshark', ['-r', file, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
    .split('\n')
    .filter(Boolean);
}
