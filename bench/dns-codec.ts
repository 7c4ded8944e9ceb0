// bench/dns-codec: what name compression (RFC 1035 §4.1.4) costs and saves on the lab's typical
// answers, against dns-packet's own uncompressed encoding, in the same run.
// Usage: node dist/bench/dns-codec.js [--rounds 200000]
import { parseArgs } from 'node:util';
import { encodeMessage, encodeUncompressed, makeOpt, type Packet } from '../services/common/dns/codec.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '30000' } } });
const rounds = Number(values.rounds);

const soa = {
  name: 'example.test',
  type: 'SOA',
  ttl: 60,
  data: {
    mname: 'ns-example.test',
    rname: 'hostmaster.example.test',
    serial: 1,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum: 60,
  },
} as const;

/** shop.example.test A as the resolver answers it: three CNAMEs and the address, with an OPT */
const answers: Record<string, Packet> = {
  'shop.example.test A (resolver)': {
    id: 1,
    type: 'response',
    flags: 0x8180,
    questions: [{ name: 'shop.example.test', type: 'A' }],
    answers: [
      { name: 'shop.example.test', type: 'CNAME', ttl: 300, data: 'store.example.test' },
      { name: 'store.example.test', type: 'CNAME', ttl: 300, data: 'www.example.test' },
      { name: 'www.example.test', type: 'CNAME', ttl: 300, data: 'cdn.example.test' },
      { name: 'cdn.example.test', type: 'A', ttl: 300, data: '127.0.0.80' },
    ],
    additionals: [makeOpt()],
  },
  'cdn.example.test A': {
    id: 1,
    type: 'response',
    flags: 0x8400,
    questions: [{ name: 'cdn.example.test', type: 'A' }],
    answers: [{ name: 'cdn.example.test', type: 'A', ttl: 300, data: '127.0.0.80' }],
    additionals: [makeOpt()],
  },
  'tpyo.example.test A (NXDOMAIN)': {
    id: 1,
    type: 'response',
    flags: 0x8403,
    questions: [{ name: 'tpyo.example.test', type: 'A' }],
    authorities: [soa],
    additionals: [makeOpt()],
  },
  'www.example.test A (referral from test.)': {
    id: 1,
    type: 'response',
    flags: 0x8000,
    questions: [{ name: 'www.example.test', type: 'A' }],
    authorities: [{ name: 'example.test', type: 'NS', ttl: 86400, data: 'ns-example.test' }],
    additionals: [{ name: 'ns-example.test', type: 'A', ttl: 86400, data: '127.0.0.13' }, makeOpt()],
  },
};

function microsPerEncode(encode: (p: Packet) => Buffer, p: Packet): number {
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) encode(p);
  return ((performance.now() - t0) * 1000) / rounds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The two encoders in turns, seven rounds each (this machine's speed drifts): the medians. */
function compare(p: Packet): { full: number; small: number } {
  for (let i = 0; i < 10_000; i++) encodeUncompressed(p) && encodeMessage(p); // warm up
  const full: number[] = [];
  const small: number[] = [];
  for (let r = 0; r < 7; r++) {
    full.push(microsPerEncode(encodeUncompressed, p));
    small.push(microsPerEncode(encodeMessage, p));
  }
  return { full: median(full), small: median(small) };
}

console.log(`${'answer'.padEnd(42)} bytes full → compressed   µs/encode full → compressed`);
for (const [label, p] of Object.entries(answers)) {
  const full = encodeUncompressed(p).length;
  const small = encodeMessage(p).length;
  const t = compare(p);
  console.log(
    `${label.padEnd(42)} ${String(full).padStart(5)} → ${String(small).padEnd(4)} (${((small / full) * 100).toFixed(0)}%)   ${t.full.toFixed(2).padStart(6)} → ${t.small.toFixed(2)} (${(t.small / t.full).toFixed(2)}×)`,
  );
}
