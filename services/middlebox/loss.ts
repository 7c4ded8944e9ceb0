// JOURNEY 38: a lost segment, retransmitted. Only an in-path router can lose a packet for real: on
// the docker runtime the middlebox forwards home <-> internet with the kernel (ip_forward), so one
// netfilter rule at the top of its FORWARD chain drops the Nth data segment one end sends to the
// other after it is armed (`statistic` counts the segments that got that far), once (`limit` with a
// burst of 1), and is removed after. The sender's capture shows the segment twice: a retransmission.
import { execFile } from 'node:child_process';
import { isIPv6 } from 'node:net';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface LossSpec {
  /** the sender of the segment to lose, and its receiver (runtime addresses, same family) */
  from: string;
  to: string;
  /** the sender's TCP port (443 for a server's segments), or undefined */
  fromPort?: number;
  /** the receiver's TCP port, or undefined */
  toPort?: number;
  /** which data segment to drop, counted from when the rule is armed (1: the next one) */
  nth: number;
}

export class LossError extends Error {
  readonly code = 'ERR_LOSS';
}

/**
 * A data segment is longer than any bare header: IPv4 20 + TCP 60 (all options), IPv6 40 + 60
 * (xt_length counts the whole IP packet), so pure ACKs and SYNs never match.
 */
export function minDataLength(address: string): number {
  return (isIPv6(address) ? 40 : 20) + 60 + 1;
}

/** The iptables match and target, without the chain command (shared by insert and delete). */
export function lossRuleSpec(spec: LossSpec, tag: string): string[] {
  if (!Number.isInteger(spec.nth) || spec.nth < 1 || spec.nth > 1000)
    throw new LossError(`nth must be a whole number from 1 to 1000, not ${spec.nth}`);
  if (isIPv6(spec.from) !== isIPv6(spec.to))
    throw new LossError(`${spec.from} and ${spec.to} are not the same family`);
  if (!/^[a-z0-9-]{1,64}$/.test(tag)) throw new LossError(`"${tag}" is not a rule tag (a-z, 0-9, -)`);
  return [
    ...['-p', 'tcp', '-s', spec.from, '-d', spec.to],
    ...(spec.fromPort ? ['--sport', String(spec.fromPort)] : []),
    ...(spec.toPort ? ['--dport', String(spec.toPort)] : []),
    ...['--tcp-flags', 'SYN,RST', 'NONE'],
    ...['-m', 'length', '--length', `${minDataLength(spec.from)}:65535`],
    // every segment that got this far is counted; the Nth matches
    ...['-m', 'statistic', '--mode', 'nth', '--every', String(spec.nth), '--packet', String(spec.nth - 1)],
    // one drop in all: a single token, refilled once an hour
    ...['-m', 'limit', '--limit', '1/hour', '--limit-burst', '1'],
    ...['-m', 'comment', '--comment', tag],
    ...['-j', 'DROP'],
  ];
}

export function iptablesFor(address: string): string {
  return isIPv6(address) ? 'ip6tables' : 'iptables';
}

/** Packets the tagged rule has matched, from `iptables -L FORWARD -n -v -x` output; undefined if absent. */
export function matchedPackets(listing: string, tag: string): number | undefined {
  const line = listing.split('\n').find((l) => l.includes(`/* ${tag} */`));
  if (!line) return undefined;
  const n = Number(line.trim().split(/\s+/)[0]);
  return Number.isFinite(n) ? n : undefined;
}

export type Run = (argv: string[]) => Promise<string>;

/** Runs a command, optionally inside a prefix such as `ip netns exec <ns>` (tests). */
export function runner(prefix: string[] = []): Run {
  return async (argv) => {
    const all = [...prefix, ...argv];
    try {
      const { stdout } = await execFileP(all[0], all.slice(1), { timeout: 10_000 });
      return stdout;
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT')
        throw new LossError(`${all[0]} is not installed here (the middlebox image needs iptables)`);
      throw new LossError(`${all.join(' ')}: ${(e.stderr ?? e.message).trim().split('\n')[0]}`);
    }
  };
}

export interface ArmedLoss {
  tag: string;
  spec: LossSpec;
  /** how many packets the rule dropped so far */
  dropped(): Promise<number>;
  /** removes the rule (idempotent) */
  disarm(): Promise<void>;
}

/** Inserts the drop rule at the top of FORWARD. Needs NET_ADMIN in the router's namespace. */
export async function armLoss(spec: LossSpec, tag: string, run: Run): Promise<ArmedLoss> {
  const bin = iptablesFor(spec.from);
  const rule = lossRuleSpec(spec, tag);
  await run([bin, '-w', '-I', 'FORWARD', '1', ...rule]);
  let armed = true;
  return {
    tag,
    spec,
    dropped: async () => matchedPackets(await run([bin, '-w', '-L', 'FORWARD', '-n', '-v', '-x']), tag) ?? 0,
    disarm: async () => {
      if (!armed) return;
      armed = false;
      await run([bin, '-w', '-D', 'FORWARD', ...rule]);
    },
  };
}

/**
 * The same loss for each address family the two hosts share: a browser with IPv6 reaches the proxy
 * over it (happy eyeballs), so an IPv4 rule alone would never see the segment. Counts add up.
 */
export async function armLossEach(specs: LossSpec[], tag: string, run: Run): Promise<ArmedLoss> {
  const armed: ArmedLoss[] = [];
  try {
    for (const spec of specs) armed.push(await armLoss(spec, tag, run));
  } catch (err) {
    for (const a of armed) await a.disarm().catch(() => undefined);
    throw err;
  }
  return {
    tag,
    spec: specs[0],
    dropped: async () => (await Promise.all(armed.map((a) => a.dropped()))).reduce((n, d) => n + d, 0),
    disarm: async () => {
      for (const a of armed) await a.disarm();
    },
  };
}
