// The middlebox: the home network's router and an on-path censor (JOURNEY 17, 38). It watches the
// wire with libpcap, reads SYNs, ClientHello SNI, HTTP Host and paths and DNS questions, and forges
// RSTs to both ends or a DNS answer that races the real one. On the docker runtime it also loses one
// chosen segment in its FORWARD chain. `--dry-run <pcap>` plays a capture through the same rules.
//
// Events (contract v1, docs/EVENTS.md), generated from services/middlebox/events.ts by `npx tsx lab-cli/events-doc.ts`:
//   censor.match  a rule matched a flow
//       data {rule {id, text}, trigger: syn|sni|host|keyword|dns, value, flow {proto: tcp|udp, client, server}}
//   rst.injected  forged RSTs sent to both ends for one trigger
//       data {rule {id, text}, flow {proto: tcp|udp, client, server}, trigger {dir: c2s|s2c, seq, ack, len, flags}, packets [{to: client|server, src, sport, dst, dport, flags, seq, ack, ttl, ipId?}]}
//   dns.injected  a forged DNS answer sent, racing the real one
//       data {src, dst, id, name, type, answer?, ttl, ipId?, rule {id, text}, flow {proto: tcp|udp, client, server}}
//   censor.rule  the rule set changed
//       data {op: add|rm|load|clear, rule? {id, text, kind: ip|sni|host|keyword|dns, value}, rules[]}
//   loss.armed  one segment will be dropped: the nth data segment from now (docker runtime)
//       data {tag, from, to, fromPort?, toPort?, nth}
//   loss.dropped  the kernel dropped it, or nothing matched in time (the rule is removed)
//       data {tag, dropped}
import { execFileSync } from 'node:child_process';
import { setPriority } from 'node:os';
import { createBatchedEmitter } from '../common/batched-emitter.js';
import { ControlError } from '../common/control.js';
import { nowMicros } from '../common/events.js';
import { guard, runService } from '../common/service.js';
import { address6Of, addressOf, hostAt, type LabSettings, settingsFromEnv } from '../common/settings.js';
import { createCensor } from './censor.js';
import type { MiddleboxCommands } from './commands.js';
import { dryRunCli } from './dry-run.js';
import type { MiddleboxEvent, ShownRule } from './events.js';
import { type ArmedLoss, armLossEach, runner } from './loss.js';
import { outcomeEvent } from './report.js';
import { createRuleSet, type Rule, RuleError } from './rules.js';
import { captureFilter, censorScope } from './scope.js';
import { allowLoopbackSources, deviceFor, loadCap, openTap, type Tap } from './tap.js';
import { openUpstream, type Upstream } from './upstream.js';
import { warmUp } from './warmup.js';

const LOSS_POLL_MS = 50;
const LOSS_EXPIRY_MS = 60_000;

if (process.argv.includes('--dry-run')) {
  process.exit(dryRunCli(process.argv.slice(2), settingsFromEnv()));
}

/**
 * A real censor is line-rate hardware next to the client; here it shares the cores with the hosts and
 * must answer a ClientHello before the proxy does (about a millisecond on lo). So its event-loop
 * thread asks for SCHED_FIFO (the kernel's RT throttling still leaves 5% to others), else nice -10.
 */
function scheduleFirst(): void {
  try {
    execFileSync('chrt', ['-f', '-p', '20', String(process.pid)], { stdio: 'ignore' });
  } catch {
    try {
      setPriority(-10);
    } catch {
      // not permitted: it still works, it only loses more races under load
    }
  }
}

const shown = (r: Rule): ShownRule => ({ id: r.id, text: r.text, kind: r.kind, value: r.value });

/** Why the middlebox cannot capture and inject here, or undefined. */
function offReason(s: LabSettings): string | undefined {
  if (s.runtime === 'local' && process.getuid?.() !== 0)
    return 'needs root to capture and inject raw packets';
  return undefined;
}

await runService<MiddleboxEvent, MiddleboxCommands>('middlebox', async (ctx) => {
  const s = ctx.settings;
  const rules = createRuleSet(s);
  const censor = createCensor(rules, censorScope(s));
  const losses = new Map<string, ArmedLoss>();

  const refuse = (err: unknown): never => {
    if (err instanceof RuleError)
      throw new ControlError(`${err.message}; the rule set is unchanged`, err.code);
    throw err;
  };
  const changed = (op: 'add' | 'rm' | 'load' | 'clear', rule?: Rule) =>
    ctx.events.emit({
      kind: 'censor.rule',
      summary: `rules ${op}${rule ? `: ${rule.text}` : ''} (${rules.list().length} in force)`,
      data: { op, rule: rule && shown(rule), rules: rules.list().map((r) => r.text) },
    });
  ctx.control.register('block.list', () => rules.list().map(shown));
  // block.add and block.rm: one rule by its text, refused with the reason when it does not parse
  const editRule = (op: 'add' | 'rm', edit: (text: string) => Rule) => (a: Record<string, unknown>) => {
    let r: Rule;
    try {
      r = edit(String(a.rule ?? ''));
    } catch (err) {
      return refuse(err);
    }
    changed(op, r);
    return shown(r);
  };
  ctx.control.register(
    'block.add',
    editRule('add', (t) => rules.add(t)),
  );
  ctx.control.register(
    'block.rm',
    editRule('rm', (t) => rules.remove(t)),
  );
  ctx.control.register('block.load', (a) => {
    try {
      rules.load(String(a.text ?? ''));
    } catch (err) {
      refuse(err);
    }
    changed('load');
    return rules.list().map(shown);
  });
  ctx.control.register('block.clear', () => {
    rules.clear();
    changed('clear');
    return [];
  });
  ctx.control.register('middlebox.stats', () => ({ ...censor.stats(), device: tap?.device, off }));

  // JOURNEY 38: only where the middlebox forwards (docker) can it lose a segment for real
  ctx.control.register('loss.drop', async (a) => {
    if (s.runtime !== 'docker')
      throw new ControlError(
        'packet loss needs the docker runtime, where the middlebox is the router in the path',
        'ERR_NOT_IN_PATH',
      );
    const from = String(a.from ?? 'proxy');
    const to = String(a.to ?? 'browser');
    const fromAddr = hostAt(from, s) ? from : addressOf(from, s);
    const toAddr = hostAt(to, s) ? to : addressOf(to, s);
    const tag = `enterlab-loss-${Date.now().toString(36)}`;
    const spec = {
      from: fromAddr,
      to: toAddr,
      fromPort: a.fromPort === undefined ? undefined : ctx.port(Number(a.fromPort)),
      toPort: a.toPort === undefined ? undefined : ctx.port(Number(a.toPort)),
      nth: Number(a.nth ?? 2),
    };
    // named hosts: their IPv6 twins too (ipv6: the browser prefers it)
    const twin =
      s.ipv6 && !hostAt(from, s) && !hostAt(to, s)
        ? [{ ...spec, from: address6Of(from, s), to: address6Of(to, s) }]
        : [];
    const armed = await armLossEach([spec, ...twin], tag, runner());
    losses.set(tag, armed);
    ctx.events.emit({
      kind: 'loss.armed',
      summary: `data segment ${spec.nth} that ${from} sends to ${to} from now on will be dropped`,
      data: { tag, ...spec },
    });
    const t0 = Date.now();
    const poll = setInterval(() => {
      void (async () => {
        const n = await armed.dropped().catch(() => 0);
        if (n === 0 && Date.now() - t0 < LOSS_EXPIRY_MS) return;
        clearInterval(poll);
        await armed.disarm().catch((err) => guard(ctx.events, 'loss.disarm', err));
        losses.delete(tag);
        ctx.events.emit({
          kind: 'loss.dropped',
          summary: n
            ? `dropped ${n} segment from ${from} to ${to}; the sender must retransmit it`
            : `no segment matched in ${LOSS_EXPIRY_MS / 1000} s; rule removed`,
          data: { tag, dropped: n },
        });
      })();
    }, LOSS_POLL_MS);
    return { tag, ...spec };
  });
  ctx.control.register('loss.clear', async () => {
    for (const l of losses.values()) await l.disarm();
    const n = losses.size;
    losses.clear();
    return { removed: n };
  });

  // the tap: everything of this lab crossing the home network
  let tap: Tap | undefined;
  // the outcomes' events are written after this turn's frames: a synchronous write per event (a pipe
  // to dockerd there) delayed the next forgery, and a forged AAAA lost its race to the real answer
  const outcomeEvents = createBatchedEmitter<MiddleboxEvent>(ctx.host);
  let upstream: Upstream | undefined;
  let off = offReason(s);
  const home = addressOf('middlebox', s, 'home');
  if (!off) {
    warmUp(s);
    scheduleFirst();
    const loaded = loadCap();
    if ('error' in loaded) off = loaded.error;
    else {
      const device = deviceFor(loaded.cap, home);
      if (!device) off = `no network device carries ${home}`;
      else {
        try {
          if (device === 'lo') allowLoopbackSources();
          // docker: the server's copies leave by the internet side (upstream.ts says why)
          const internetDevice =
            device === 'lo' ? undefined : deviceFor(loaded.cap, addressOf('middlebox', s, 'internet'));
          upstream =
            internetDevice && internetDevice !== device
              ? openUpstream(loaded.cap, internetDevice)
              : undefined;
          tap = openTap(loaded.cap, device, captureFilter(s), (buf, n) => {
            try {
              const outcomes = censor.observe(buf, n, nowMicros());
              // JOURNEY 17: send first, tell afterwards - the forgery must win the race
              for (const o of outcomes) {
                if (o.kind === 'rst') {
                  // the client's copies first: theirs is the race with the server's answer
                  for (const p of o.packets) if (!upstream || p.to === 'client') tap?.send(p.frame);
                  if (upstream)
                    for (const p of o.packets) if (p.to === 'server') upstream.send(p.frame, p.dst);
                }
                if (o.kind === 'dns') tap?.send(o.answer.frame);
              }
              for (const o of outcomes) outcomeEvents.emit(outcomeEvent(o));
            } catch (err) {
              guard(ctx.events, 'middlebox.frame', err);
            }
          });
        } catch (err) {
          off = `cannot capture on ${device}: ${(err as Error).message}`;
        }
      }
    }
  }
  return {
    listening: tap ? [`pcap ${tap.device} (${tap.linkType})`] : [],
    off,
    close: async () => {
      outcomeEvents.flush();
      tap?.close();
      upstream?.close();
      for (const l of losses.values()) await l.disarm().catch(() => undefined);
    },
  };
});
