// Scenario actions for DNS: ask a question with `dig` or with our own codec (dns.query), flush the
// resolver, change a zone.
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { z } from 'zod';
import {
  decodeMessage,
  encodeMessage,
  frameTcp,
  makeFlags,
  makeOpt,
  type Packet,
  RCODE_NAME,
  rcodeOf,
  recordText,
  TcpDeframer,
} from '../../services/common/dns-codec.js';
import { addressOf, port } from '../../services/common/settings.js';
import { canonical, labNameProblem, labValue, zoneOf } from '../lab-names.js';
import { defineAction } from '../scenario/types.js';

const run = promisify(execFile);

const queryArgs = z
  .object({
    name: z.string().min(1),
    type: z
      .string()
      .regex(/^[A-Za-z]+$/)
      .default('A'),
    /** the lab host asked (default: the resolver) */
    server: z.string().default('resolver'),
    /** +norec: ask an authoritative server directly, as a resolver does */
    norec: z.boolean().default(false),
    tcp: z.boolean().default(false),
    /** the answer must have this status */
    status: z.enum(['NOERROR', 'NXDOMAIN', 'SERVFAIL', 'REFUSED']).optional(),
  })
  .strict();

/** One question over UDP from 127.0.0.1 (TCP when the answer comes back truncated), with our codec. */
function query(
  server: string,
  p: number,
  name: string,
  type: string,
  opts: { tcp: boolean; rd: boolean },
): Promise<Packet> {
  const id = randomInt(65536);
  const q = encodeMessage({
    id,
    type: 'query',
    flags: makeFlags({ rd: opts.rd }),
    questions: [{ name, type: type as 'A', class: 'IN' }],
    additionals: [makeOpt()],
  });
  const accept = (msg: Buffer) => {
    const r = decodeMessage(msg);
    return r.id === id ? r : undefined;
  };
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => reject(err);
    const timer = setTimeout(() => fail(new Error(`no answer from ${server} in 5 s`)), 5000);
    const finish = (r: Packet) => {
      clearTimeout(timer);
      resolve(r);
    };
    if (opts.tcp) {
      const sock = connect({ host: server, port: p, localAddress: '127.0.0.1' }, () =>
        sock.write(frameTcp(q)),
      );
      const deframer = new TcpDeframer();
      sock.on('error', fail);
      sock.on('data', (chunk) => {
        for (const m of deframer.push(chunk)) {
          const r = accept(m);
          if (r) {
            sock.destroy();
            finish(r);
          }
        }
      });
      return;
    }
    const sock = createSocket('udp4');
    sock.on('error', fail);
    sock.on('message', (msg) => {
      const r = accept(msg);
      if (!r) return;
      sock.close();
      // RFC 7766: a truncated answer is asked again over TCP
      if (((r.flags ?? 0) & 0x200) !== 0)
        query(server, p, name, type, { ...opts, tcp: true }).then(finish, fail);
      else finish(r);
    });
    sock.bind({ address: '127.0.0.1', port: 0 }, () => sock.send(q, p, server));
  });
}

export const actions = [
  defineAction({
    name: 'dns.query',
    schema: z.union([z.string().transform((name) => queryArgs.parse({ name })), queryArgs]),
    describe: (a) => `ask ${a.server} for ${a.name} ${a.type}${a.tcp ? ' over TCP' : ''}`,
    needs: (a) => [a.server],
    run: async (a, ctx) => {
      const s = ctx.runtime.settings;
      let r: Packet;
      try {
        r = await query(addressOf(a.server, s), port(53, s), a.name, a.type, { tcp: a.tcp, rd: !a.norec });
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
      const status = RCODE_NAME[rcodeOf(r)] ?? String(rcodeOf(r));
      const records = [...(r.answers ?? []), ...(r.authorities ?? [])].map((x) => recordText(x));
      ctx.vars.set('dns.query', { status, records });
      const ok = !a.status || a.status === status;
      return { ok, detail: `${status}${ok ? '' : ` (expected ${a.status})`}`, lines: records };
    },
  }),
  defineAction({
    name: 'dig',
    schema: z.union([z.string().transform((name) => queryArgs.parse({ name })), queryArgs]),
    describe: (a) => `dig @${a.server} ${a.name} ${a.type}${a.norec ? ' +norec' : ''}${a.tcp ? ' +tcp' : ''}`,
    needs: (a) => [a.server],
    run: async (a, ctx) => {
      const s = ctx.runtime.settings;
      const args = [
        `@${addressOf(a.server, s)}`,
        '-p',
        String(port(53, s)),
        a.name,
        a.type,
        '+nocookie',
        '+time=3',
        '+tries=1',
      ];
      if (a.norec) args.push('+norec');
      if (a.tcp) args.push('+tcp');
      let out: string;
      try {
        out = (await run('dig', args, { timeout: 10_000 })).stdout;
      } catch (err) {
        return {
          ok: false,
          detail: `dig failed: ${(err as Error).message.split('\n')[0]} (is bind9-dnsutils installed?)`,
        };
      }
      const status = /status: (\w+)/.exec(out)?.[1] ?? 'no answer';
      const flags = /;; flags: ([a-z ]+);/.exec(out)?.[1] ?? '';
      const sections = ['ANSWER', 'AUTHORITY', 'ADDITIONAL'].flatMap((sec) => {
        const m = new RegExp(`;; ${sec} SECTION:\\n([\\s\\S]*?)\\n\\n`).exec(out);
        return m ? [`${sec}:`, ...m[1].split('\n').map((l) => `  ${l.replace(/\s+/g, ' ')}`)] : [];
      });
      ctx.vars.set('dig', { status, flags, out });
      const ok = !a.status || a.status === status;
      return {
        ok,
        detail: `${status}, flags: ${flags}${ok ? '' : ` (expected ${a.status})`}`,
        lines: sections,
      };
    },
  }),
  defineAction({
    name: 'dns.flush',
    schema: z.union([
      z.null().transform((): { name?: string } => ({})),
      z.object({ name: z.string().optional() }).strict(),
    ]),
    describe: (a) => `flush the resolver's cache${a.name ? ` for ${a.name}` : ''}`,
    needs: () => ['resolver'],
    run: async (a, ctx) => {
      const r = await ctx.runtime.control('resolver', 'dns.flush', a);
      return { ok: true, detail: `${r.removed} entries forgotten` };
    },
  }),
  defineAction({
    name: 'dns.set',
    schema: z
      .object({
        name: z.string(),
        type: z.string(),
        value: z.string(),
        ttl: z.number().int().nonnegative().optional(),
      })
      .strict(),
    describe: (a) => `set ${a.name} ${a.type} ${a.value}${a.ttl !== undefined ? ` (TTL ${a.ttl})` : ''}`,
    needs: () => ['ns-example'],
    run: async (a, ctx) => {
      const problem = labNameProblem(a.name);
      if (problem) return { ok: false, detail: problem };
      // the most specific zone wins (example.test, not test), as a real delegation does
      const best = await zoneOf(ctx.runtime, a.name);
      if (best && best.zone !== '') {
        const value = labValue(a.type, a.value, ctx.runtime.settings);
        const rec = await ctx.runtime.control(best.host, 'dns.set', {
          ...a,
          name: `${canonical(a.name)}.`,
          value,
        });
        return { ok: true, detail: `${best.host}: ${rec}` };
      }
      return { ok: false, detail: `no nameserver serves ${a.name}` };
    },
  }),
];
