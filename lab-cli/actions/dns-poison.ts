// The `poisoning` scenario's attacker (JOURNEY 11): while the resolver waits for ns-example, forged
// answers claiming to come from ns-example:53 are injected on `lo` as raw frames (libpcap, root).
// The attacker is shown the resolver's source port, as the SAD DNS side channel (2020) leaked it,
// but not the transaction ID: every guess is wrong, and one more forgery has the right ID and the
// wrong question (Kaminsky's random-name trick). A resolver that checks address, port, ID and
// question drops them all; one right 16-bit guess in 65,536 would have poisoned it.
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { queryDns } from '../../services/common/dns/client.js';
import {
  type Answer,
  decodeMessage,
  encodeMessage,
  makeFlags,
  type Packet,
} from '../../services/common/dns/codec.js';
import { recordText } from '../../services/common/dns/record-text.js';
import { address6Of, addressOf, peerString, port } from '../../services/common/settings.js';
import { decodeFrame, udpFrame } from '../../services/middlebox/packets.js';
import { allowLoopbackSources, loadCap, openTap } from '../../services/middlebox/tap.js';
import { defineAction, type StepContext } from '../scenario/types.js';

/** TEST-NET-1 (RFC 5737): where the forged answers point; never a lab address */
export const FORGED_ADDRESS = '192.0.2.66';

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

/** Asks the resolver from 127.0.0.1, as `dig` would (RD=1, no EDNS); resolves with the answer. */
async function ask(server: string, p: number, name: string): Promise<Packet> {
  const reply = await queryDns(
    { name, type: 'A' },
    { server, port: p, source: '127.0.0.1', timeoutMs: 5000, rd: true, edns: false },
  );
  return reply.response;
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
    needs: (a) => ['resolver', a.server, 'root', 'libpcap'],
    run: async (a, ctx) => {
      const s = ctx.runtime.settings;
      if (s.runtime !== 'local')
        return { ok: false, detail: 'injecting forged frames needs the local runtime (lo)' };
      const loaded = loadCap();
      if ('error' in loaded) return { ok: false, detail: loaded.error };
      const dnsPort = port(53, s);
      // the resolver may ask over either family: the attacker watches both
      const v4: [string, string] = [addressOf('resolver', s), addressOf(a.server, s)];
      const v6: [string, string] | undefined = s.ipv6
        ? [address6Of('resolver', s), address6Of(a.server, s)]
        : undefined;
      const filter = [v4, ...(v6 ? [v6] : [])]
        .map(([r, x]) => `(src host ${r} and dst host ${x})`)
        .join(' or ');
      let seen: Seen | undefined;
      let sent = 0;
      const inject = (at: Seen, id: number, qname: string) => {
        const payload = forgery(id, qname, at.qtype);
        tap.send(udpFrame({ src: at.authority, sport: dnsPort, dst: at.resolver, dport: at.port, payload }));
        sent++;
      };
      const tap = openTap(loaded.cap, 'lo', `udp and dst port ${dnsPort} and (${filter})`, (buf, nbytes) => {
        if (seen) return;
        const d = decodeFrame(buf, nbytes);
        if (!d.ok || !d.frame.udp) return;
        let q: Packet;
        try {
          q = decodeMessage(d.frame.udp.payload);
        } catch {
          return;
        }
        const question = q.questions?.[0];
        if (!question) return;
        const [resolver, authority] = d.frame.ip.version === 6 && v6 ? v6 : v4;
        const at: Seen = {
          port: d.frame.udp.sport,
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
      allowLoopbackSources();
      try {
        await ctx.runtime.control('resolver', 'dns.flush', { name: a.name });
        await ctx.runtime.control(a.server, 'dns.delay', { ms: a.delay });
        answer = await ask(v4[0], dnsPort, a.name);
      } finally {
        tap.close();
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
