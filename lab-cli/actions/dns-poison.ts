// The `poisoning` scenario's attacker (JOURNEY 11): while the resolver waits for ns-example, forged
// answers claiming to come from ns-example:53 are injected on `lo` as raw frames (libpcap, root).
// The attacker is shown the resolver's source port, as the SAD DNS side channel (2020) leaked it,
// but not the transaction ID: every guess is wrong, and one more forgery has the right ID and the
// wrong question (Kaminsky's random-name trick). A resolver that checks address, port, ID and
// question drops them all; one right 16-bit guess in 65,536 would have poisoned it.
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { z } from 'zod';
import {
  type Answer,
  decodeMessage,
  encodeMessage,
  makeFlags,
  type Packet,
  recordText,
} from '../../services/common/dns-codec.js';
import { address6Of, addressOf, peerString, port } from '../../services/common/settings.js';
import { defineAction, type StepContext } from '../scenario/types.js';

/** TEST-NET-1 (RFC 5737): where the forged answers point; never a lab address */
export const FORGED_ADDRESS = '192.0.2.66';

interface CapLike {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  setMinBytes?(n: number): void;
  on(event: 'packet', cb: (nbytes: number) => void): void;
  send(buf: Buffer, len?: number): void;
  close(): void;
}

function loadCap(): { Cap: new () => CapLike } | undefined {
  try {
    return createRequire(import.meta.url)('cap') as { Cap: new () => CapLike };
  } catch {
    return undefined;
  }
}

function checksum(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2) sum += buf[buf.length - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

function ipv6Bytes(a: string): Buffer {
  const [head, tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  return out;
}

/**
 * An Ethernet frame (lo's link type) with IPv4 or IPv6 and UDP around a DNS message. IPv4 may leave
 * the UDP checksum 0 (none); IPv6 may not (RFC 8200 §8.1), so it is computed over the pseudo-header.
 */
export function udpFrame(src: string, sport: number, dst: string, dport: number, payload: Buffer): Buffer {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const eth = Buffer.alloc(14);
  if (src.includes(':')) {
    eth.writeUInt16BE(0x86dd, 12);
    const ip = Buffer.alloc(40);
    ip.writeUInt32BE(0x60000000, 0);
    ip.writeUInt16BE(8 + payload.length, 4);
    ip.writeUInt8(17, 6);
    ip.writeUInt8(64, 7);
    ipv6Bytes(src).copy(ip, 8);
    ipv6Bytes(dst).copy(ip, 24);
    const pseudo = Buffer.alloc(40);
    ip.copy(pseudo, 0, 8, 40);
    pseudo.writeUInt32BE(8 + payload.length, 32);
    pseudo.writeUInt32BE(17, 36);
    udp.writeUInt16BE(checksum(Buffer.concat([pseudo, udp, payload])) || 0xffff, 6);
    return Buffer.concat([eth, ip, udp, payload]);
  }
  eth.writeUInt16BE(0x0800, 12);
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip.writeUInt16BE(randomInt(65536), 4);
  ip.writeUInt16BE(0x4000, 6); // DF
  ip.writeUInt8(64, 8);
  ip.writeUInt8(17, 9);
  Buffer.from(src.split('.').map(Number)).copy(ip, 12);
  Buffer.from(dst.split('.').map(Number)).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  return Buffer.concat([eth, ip, udp, payload]);
}

/** The UDP source port and payload of a sniffed frame, IPv4 or IPv6 (no extension headers). */
function udpOf(frame: Buffer, nbytes: number): { sport: number; payload: Buffer; v6: boolean } | undefined {
  const type = frame.readUInt16BE(12);
  const ipLen = type === 0x0800 ? (frame[14] & 0x0f) * 4 : type === 0x86dd ? 40 : 0;
  if (!ipLen) return undefined;
  return {
    sport: frame.readUInt16BE(14 + ipLen),
    payload: frame.subarray(14 + ipLen + 8, nbytes),
    v6: type === 0x86dd,
  };
}

/**
 * Linux drops 127/8 sources arriving on lo from outside its own output path (martian source), so
 * injected IPv4 frames need route_localnet on lo while the attack runs; restored afterwards.
 */
function allowLoopbackSources(): () => void {
  const path = '/proc/sys/net/ipv4/conf/lo/route_localnet';
  try {
    const before = readFileSync(path, 'utf8').trim();
    if (before === '1') return () => undefined;
    writeFileSync(path, '1');
    return () => writeFileSync(path, before);
  } catch {
    return () => undefined;
  }
}

function forgery(id: number, qname: string, qtype: string): Buffer {
  const p: Packet = {
    id,
    type: 'response',
    flags: makeFlags({ aa: true }),
    questions: [{ name: qname, type: qtype as 'A', class: 'IN' }],
    answers: [{ name: qname, type: 'A', ttl: 86400, class: 'IN', data: FORGED_ADDRESS } as Answer],
  };
  return encodeMessage(p);
}

const args = z
  .object({
    name: z.string().default('www.example.test'),
    /** the authority whose address the forgeries claim */
    server: z.string().default('ns-example'),
    guesses: z.number().int().min(1).max(20000).default(500),
    /** how long the authority holds its real answer back: the attacker's window */
    delay: z.number().int().min(50).max(3000).default(400),
  })
  .strict();

type PoisonArgs = z.infer<typeof args>;

/** Asks the resolver from 127.0.0.1, as `dig` would; resolves with the answer. */
function ask(server: string, p: number, name: string): Promise<Packet> {
  const id = randomInt(65536);
  const q = encodeMessage({
    id,
    type: 'query',
    flags: makeFlags({ rd: true }),
    questions: [{ name, type: 'A', class: 'IN' }],
  });
  const sock = createSocket('udp4');
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      sock.close();
      reject(new Error(`no answer from the resolver for ${name} in 5 s`));
    }, 5000);
    sock.on('message', (msg) => {
      try {
        const r = decodeMessage(msg);
        if (r.id !== id) return;
        clearTimeout(t);
        sock.close();
        resolve(r);
      } catch {
        // not an answer to us
      }
    });
    sock.bind({ address: '127.0.0.1', port: 0 }, () => sock.send(q, p, server));
  });
}

/** `dropped` of the resolver's dns.upstream event for the raced question (events arrive a moment later). */
async function droppedCount(ctx: StepContext, name: string): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const ev = (await ctx.events())
      .filter((e) => e.host === 'resolver' && e.kind === 'dns.upstream' && e.data?.name === name)
      .at(-1);
    if (ev) return Number(ev.data?.dropped ?? 0);
    await new Promise((r) => setTimeout(r, 50));
  }
  return 0;
}

interface Seen {
  port: number;
  id: number;
  qname: string;
  qtype: string;
  /** the resolver's and the authority's addresses, in the family the query used */
  resolver: string;
  authority: string;
}

export const actions = [
  defineAction<PoisonArgs>({
    name: 'dns.poison',
    schema: z.union([z.null().transform(() => args.parse({})), args]) as z.ZodType<PoisonArgs>,
    describe: (a) =>
      `forge ${a.guesses + 1} answers for ${a.name} from ${a.server}'s address while the resolver waits ${a.delay} ms`,
    needs: (a) => ['resolver', a.server, 'root'],
    run: async (a, ctx) => {
      const s = ctx.runtime.settings;
      if (s.runtime !== 'local')
        return { ok: false, detail: 'injecting forged frames needs the local runtime (lo)' };
      const capMod = loadCap();
      if (!capMod) return { ok: false, detail: 'the cap module (libpcap) is not available' };
      const dnsPort = port(53, s);
      // the resolver may ask over either family: the attacker watches both
      const v4: [string, string] = [addressOf('resolver', s), addressOf(a.server, s)];
      const v6: [string, string] | undefined = s.ipv6
        ? [address6Of('resolver', s), address6Of(a.server, s)]
        : undefined;
      const filter = [v4, ...(v6 ? [v6] : [])]
        .map(([r, x]) => `(src host ${r} and dst host ${x})`)
        .join(' or ');
      const cap = new capMod.Cap();
      const buffer = Buffer.alloc(65535);
      cap.open('lo', `udp and dst port ${dnsPort} and (${filter})`, 1 << 20, buffer);
      cap.setMinBytes?.(0);
      let seen: Seen | undefined;
      let sent = 0;
      const inject = (at: Seen, id: number, qname: string) => {
        const f = udpFrame(at.authority, dnsPort, at.resolver, at.port, forgery(id, qname, at.qtype));
        cap.send(f, f.length);
        sent++;
      };
      cap.on('packet', (nbytes) => {
        if (seen) return;
        const udp = udpOf(buffer, nbytes);
        if (!udp) return;
        let q: Packet;
        try {
          q = decodeMessage(udp.payload);
        } catch {
          return;
        }
        const question = q.questions?.[0];
        if (!question) return;
        const [resolver, authority] = udp.v6 && v6 ? v6 : v4;
        const at: Seen = {
          port: udp.sport,
          id: q.id ?? 0,
          qname: question.name,
          qtype: question.type,
          resolver,
          authority,
        };
        seen = at;
        // the ID guesses: random, never the real one (which the side channel did not leak)
        for (let i = 0; i < a.guesses; i++) inject(at, (at.id + 1 + randomInt(65535)) & 0xffff, at.qname);
        inject(at, at.id, `x${randomInt(1e9)}.${a.name}`); // right ID, wrong question
      });
      let answer: Packet;
      const restore = allowLoopbackSources();
      try {
        await ctx.runtime.control('resolver', 'dns.flush', { name: a.name });
        await ctx.runtime.control(a.server, 'dns.delay', { ms: a.delay });
        answer = await ask(v4[0], dnsPort, a.name);
      } finally {
        cap.close();
        restore();
        await ctx.runtime.control(a.server, 'dns.delay', { ms: 0 }).catch(() => undefined);
      }
      const records = (answer.answers ?? []).map((r) => recordText(r));
      ctx.vars.set('dns.poison', { sent, records });
      const poisoned = records.some((r) => r.includes(FORGED_ADDRESS));
      if (!seen) return { ok: false, detail: `never saw the resolver ask ${a.server}: nothing to race` };
      const target = peerString((seen as Seen).resolver, (seen as Seen).port);
      if (poisoned)
        return { ok: false, detail: `POISONED: the resolver answered ${FORGED_ADDRESS}`, lines: records };
      // the forgeries must have reached the resolver's socket and been refused by its checks
      const dropped = await droppedCount(ctx, a.name);
      return {
        ok: records.length > 0 && dropped > 0,
        detail:
          dropped > 0
            ? `${sent} forged answers sent to ${target}; the resolver dropped ${dropped} and answered with the real records`
            : `${sent} forged answers sent to ${target}, but the resolver never saw one: the race was not run`,
        lines: records,
      };
    },
  }),
];
