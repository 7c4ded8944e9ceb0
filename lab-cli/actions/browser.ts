// Scenario actions for the browser: type text and press Enter; edit its hosts file; clear it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import { address6Of, addressOf } from '../../services/common/settings.js';
import { labAddress, labNameProblem } from '../lab-names.js';
import { defineAction, type StepContext } from '../scenario/types.js';

const browseArgs = z
  .object({
    text: z.string().min(1),
    noCache: z.boolean().optional(),
    http1Only: z.boolean().optional(),
    hardFailRevocation: z.boolean().optional(),
    /** secure DNS, as a browser setting: the resolver over DoT or DoH instead of UDP */
    dns: z.enum(['udp', 'dot', 'doh']).optional(),
    /** the page load must fail with this Chrome error name */
    error: z
      .string()
      .regex(/^ERR_[A-Z_]+$/)
      .optional(),
    /** the final response must have this status */
    status: z.number().int().optional(),
    /** print the waterfall under the step */
    waterfall: z.boolean().optional(),
  })
  .strict();

interface BrowseResult {
  page?: { links: { text: string; href: string }[] };
  finalUrl?: string;
  status?: number;
  error?: { code: string; step: string; message: string };
  painted: string[];
  waterfall: string[];
}

export const actions = [
  defineAction({
    name: 'browse',
    schema: z.union([
      z
        .string()
        .min(1)
        .transform((text) => browseArgs.parse({ text })),
      browseArgs,
    ]),
    describe: (a) =>
      `type "${a.text}" in the address bar and press Enter${a.http1Only ? ' (HTTP/1.1 only)' : ''}${a.noCache ? ' (no cache)' : ''}${a.dns && a.dns !== 'udp' ? ` (DNS over ${a.dns === 'doh' ? 'HTTPS' : 'TLS'})` : ''}`,
    needs: () => ['browser'],
    run: async (a, ctx) => {
      const { error: _e, status: _s, waterfall: w, ...args } = a;
      const r = await ctx.runtime.control('browser', 'browse', { ...args, runDir: ctx.runDir }, 90_000);
      ctx.vars.set('browse', r);
      const lines = [...r.painted, ...(w ? ['', ...r.waterfall] : [])];
      if (a.error) {
        const ok = r.error?.code === a.error;
        return {
          ok,
          detail: r.error
            ? `${r.error.code} at ${r.error.step}${ok ? ' (as expected)' : ` (expected ${a.error})`}`
            : `loaded ${r.finalUrl}, expected ${a.error}`,
          lines,
        };
      }
      if (r.error)
        return { ok: false, detail: `${r.error.code} at ${r.error.step}: ${r.error.message}`, lines };
      const ok = a.status === undefined || r.status === a.status;
      return { ok, detail: `${r.status} ${r.finalUrl}${ok ? '' : ` (expected status ${a.status})`}`, lines };
    },
  }),
  defineAction({
    name: 'click',
    schema: z.string().min(1),
    describe: (text) => `click the link "${text}" on the page`,
    needs: () => ['browser'],
    run: async (text, ctx) => {
      const last = ctx.vars.get('browse') as BrowseResult | undefined;
      const link = last?.page?.links.find((l) => l.text === text || l.href === text);
      if (!last || !link)
        return {
          ok: false,
          detail: `no link "${text}" on the last page (links: ${last?.page?.links.map((l) => l.text).join(', ') ?? 'none'})`,
        };
      const r = await ctx.runtime.control(
        'browser',
        'browse',
        { text: link.href, referrer: last.finalUrl, runDir: ctx.runDir },
        90_000,
      );
      ctx.vars.set('browse', r);
      if (r.error)
        return {
          ok: false,
          detail: `${r.error.code} at ${r.error.step}: ${r.error.message}`,
          lines: r.painted,
        };
      return { ok: true, detail: `${r.status} ${r.finalUrl}`, lines: r.painted };
    },
  }),
  defineAction({
    name: 'hosts.add',
    // an address, or a lab host whose address the runtime knows (scenarios name hosts, not addresses)
    schema: z.union([
      z.object({ name: z.string(), address: z.string() }).strict(),
      z.object({ name: z.string(), host: z.string() }).strict(),
    ]),
    describe: (a) =>
      `add "${'address' in a ? a.address : `<${a.host}>`} ${a.name}" to the browser host's hosts file`,
    needs: (a) => ['browser', ...('host' in a ? [a.host] : [])],
    run: async (a, ctx) => {
      const problem = labNameProblem(a.name);
      if (problem) return { ok: false, detail: problem };
      const s = ctx.runtime.settings;
      const address = 'address' in a ? labAddress(a.address, s) : addressOf(a.host, s);
      await ctx.runtime.control('browser', 'hosts.add', { name: a.name, address });
      return { ok: true, detail: `${address} ${a.name}` };
    },
  }),
  defineAction({
    name: 'hosts.rm',
    schema: z.string(),
    describe: (name) => `remove ${name} from the browser host's hosts file`,
    needs: () => ['browser'],
    run: async (name, ctx) => {
      await ctx.runtime.control('browser', 'hosts.rm', { name });
      return { ok: true };
    },
  }),
  // JOURNEY 15: an IPv6 path that silently drops SYNs, for one lab address only (never the machine's)
  defineAction({
    name: 'ipv6.blackhole',
    schema: z.string(),
    describe: (host) => `drop every TCP SYN to ${host}'s IPv6 address, silently (ip6tables)`,
    needs: (host) => ['root', host],
    run: async (host, ctx) => blackhole('-I', host, ctx.runtime),
  }),
  defineAction({
    name: 'ipv6.blackhole.undo',
    schema: z.string(),
    describe: (host) => `let TCP SYNs reach ${host}'s IPv6 address again`,
    needs: (host) => ['root', host],
    run: async (host, ctx) => blackhole('-D', host, ctx.runtime),
  }),
  defineAction({
    name: 'browser.clear',
    schema: z.null().transform(() => ({})),
    describe: () => "clear the browser's caches, learned HSTS and cookies",
    needs: () => ['browser'],
    run: async (_a, ctx) => {
      await ctx.runtime.control('browser', 'browser.clear');
      return { ok: true };
    },
  }),
];

const run = promisify(execFile);

async function blackhole(op: '-I' | '-D', host: string, runtime: StepContext['runtime']) {
  // docker: the rule goes in the host's own netns (its container), locally on this machine's INPUT
  const inHost = runtime.inHost?.bind(runtime);
  const ip6tables = async (args: string[]) => {
    if (!inHost) return run('ip6tables', args);
    const r = await inHost(host, ['ip6tables', ...args]);
    if (r.exitCode !== 0) throw new Error(r.stderr.trim() || `ip6tables exited with ${r.exitCode}`);
    return r;
  };
  if (!runtime.settings.ipv6) return { ok: false, detail: 'this lab runs without IPv6 (LAB_IPV6=0)' };
  const address = address6Of(host, runtime.settings);
  const rule = [
    'INPUT',
    '-d',
    `${address}/128`,
    '-p',
    'tcp',
    '--syn',
    '-m',
    'comment',
    '--comment',
    'enterlab happy-eyeballs',
    '-j',
    'DROP',
  ];
  if (op === '-D') {
    // idempotent: the cleanup may run after the step already removed it
    const present = await ip6tables(['-w', '-C', ...rule]).then(
      () => true,
      () => false,
    );
    if (!present) return { ok: true, detail: `no rule for ${address} to remove` };
  }
  try {
    await ip6tables(['-w', op, ...rule]);
  } catch (err) {
    return { ok: false, detail: `ip6tables ${op}: ${(err as Error).message.split('\n')[0]}` };
  }
  return { ok: true, detail: `ip6tables ${op} ${rule.join(' ')}` };
}
