// A bounded DNS fuzzer for integration tests: random and mutated packets over UDP and TCP at a
// server; every answer must decode; the server must still answer a valid query afterwards.
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import dnsPacket from 'dns-packet';

function seeds(): Buffer[] {
  const q = (name: string, type: string, extra: Record<string, unknown> = {}) =>
    dnsPacket.encode({
      id: randomInt(65536),
      type: 'query',
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name, type } as never],
      ...extra,
    });
  return [
    q('www.example.test', 'A'),
    q('cdn.example.test', 'AAAA'),
    q('big.example.test', 'TXT'),
    q('nope.example.test', 'MX'),
    q('example.test', 'ANY'),
    q('www.example.test', 'A', { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 }] }),
  ];
}

export function mutate(seed: Buffer): Buffer {
  const b = Buffer.from(seed);
  switch (randomInt(7)) {
    case 0: // flipped bytes
      for (let i = 0; i < 1 + randomInt(4); i++) b[randomInt(b.length)] ^= 1 << randomInt(8);
      return b;
    case 1: // truncation
      return b.subarray(0, randomInt(b.length));
    case 2: // huge section counts
      b.writeUInt16BE(randomInt(65536), 4 + 2 * randomInt(4));
      return b;
    case 3: // compression pointer loop in the question name
      return Buffer.concat([b.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    case 4: // random garbage
      return randomBytes(randomInt(1, 600));
    case 5: // trailing garbage
      return Buffer.concat([b, randomBytes(randomInt(1, 40))]);
    default: // random header flags (opcodes, QR set, Z bits)
      b.writeUInt16BE(randomInt(65536), 2);
      return b;
  }
}

export interface FuzzReport {
  sent: number;
  answers: number;
  malformedAnswers: number;
  /** the first answer that did not decode, in hex, to diagnose a failure */
  firstMalformed?: string;
}

export async function fuzzUdp(
  address: string,
  port: number,
  count: number,
  source: string,
): Promise<FuzzReport> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, source, () => r()));
  const report: FuzzReport = { sent: 0, answers: 0, malformedAnswers: 0 };
  sock.on('message', (msg) => {
    report.answers++;
    try {
      dnsPacket.decode(msg);
    } catch {
      report.malformedAnswers++;
      report.firstMalformed ??= msg.toString('hex');
    }
  });
  const base = seeds();
  const BATCH = 200;
  for (let i = 0; i < count; i += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, count - i) }, () => {
        const pkt = mutate(base[randomInt(base.length)]);
        report.sent++;
        return new Promise<void>((r) => sock.send(pkt, port, address, () => r()));
      }),
    );
    if (i % 5000 === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 500));
  sock.close();
  return report;
}

export async function fuzzTcp(
  address: string,
  port: number,
  connections: number,
  source: string,
): Promise<FuzzReport> {
  const report: FuzzReport = { sent: 0, answers: 0, malformedAnswers: 0 };
  const base = seeds();
  for (let c = 0; c < connections; c++) {
    await new Promise<void>((resolve) => {
      const sock = connect({ host: address, port, localAddress: source });
      let buf = Buffer.alloc(0);
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + msg.length);
          report.answers++;
          try {
            dnsPacket.decode(msg);
          } catch {
            report.malformedAnswers++;
            report.firstMalformed ??= msg.toString('hex');
          }
        }
      });
      sock.on('error', () => resolve());
      sock.on('close', () => resolve());
      sock.on('connect', () => {
        for (let i = 0; i < 10; i++) {
          const pkt = mutate(base[randomInt(base.length)]);
          const len = Buffer.alloc(2);
          // sometimes lie about the length
          len.writeUInt16BE(randomInt(10) === 0 ? randomInt(65536) : pkt.length);
          sock.write(Buffer.concat([len, pkt]));
          report.sent++;
        }
        setTimeout(() => sock.destroy(), 30);
      });
    });
  }
  return report;
}
