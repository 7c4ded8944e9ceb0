// The censor's rules, one line each, as `lab block add` and rule files write them:
//
//   ip proxy:443            destination address (host name, plan or runtime address), optional port; on the SYN
//   sni blocked.test        TLS server_name (the name and its subdomains)
//   host blocked.test       HTTP Host header
//   keyword forbidden       a word in the HTTP request target (the URL's path and query)
//   dns blocked.test        DNS question name: a forged answer races the real one
//
// Options after the value: `rst+ack` (RSTs carry ACK), `offsets=0,1460,2920` (one copy per sequence
// offset). A rule that does not parse, or names anything outside the lab, is refused whole.
import { isIP } from 'node:net';
import { allAddressesOf, hostAt, type LabSettings, port, project } from '../common/settings.js';
import { hostByPlanAddress, hosts } from '../common/topology.js';

export type RuleKind = 'ip' | 'sni' | 'host' | 'keyword' | 'dns';

export interface Rule {
  id: number;
  kind: RuleKind;
  /** as typed (normalised): the name, word or address */
  value: string;
  /** ip rules: the runtime addresses it stands for, and the runtime port (undefined: any) */
  addresses?: string[];
  port?: number;
  rstAck: boolean;
  /** sequence offsets of the RST copies sent to each end (the first is the exact one) */
  offsets: number[];
  /** canonical text, what `lab block list` prints and `rm` accepts */
  text: string;
}

export class RuleError extends Error {
  readonly code = 'ERR_BAD_RULE';
}

export const DEFAULT_OFFSETS = [0, 1460, 2920];
const KINDS: readonly RuleKind[] = ['ip', 'sni', 'host', 'keyword', 'dns'];
const EXAMPLE = 'e.g. "sni blocked.test", "ip proxy:443", "dns blocked.test rst+ack", "keyword forbidden"';

/** RFC 2606 / RFC 6761: the lab's names are under .test; anything else is the real internet. */
function labName(raw: string): string {
  const name = raw.toLowerCase().replace(/\.$/, '');
  if (!/^([a-z0-9*]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name))
    throw new RuleError(`"${raw}" is not a DNS name`);
  if (name !== 'test' && !name.endsWith('.test'))
    throw new RuleError(
      `"${raw}" is not a lab name (lab names end in .test); the censor only acts inside the lab`,
    );
  return name;
}

function labAddresses(target: string, s: LabSettings): string[] {
  if (hosts.some((h) => h.name === target)) return allAddressesOf(target, s);
  if (!isIP(target)) throw new RuleError(`"${target}" is neither a lab host nor an address`);
  const plan = hostByPlanAddress(target);
  const runtimeAddress = plan ? project(target, s) : target;
  if (!hostAt(runtimeAddress, s))
    throw new RuleError(
      `${target} is not an address of this lab (see lab status); the censor only acts inside the lab`,
    );
  return [runtimeAddress];
}

function splitTarget(v: string): { target: string; port?: string } {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  if (bracket) return { target: bracket[1], port: bracket[2] };
  if (isIP(v) === 6) return { target: v };
  const i = v.lastIndexOf(':');
  return i > 0 ? { target: v.slice(0, i), port: v.slice(i + 1) } : { target: v };
}

/** Parses one rule line; throws RuleError with what is wrong and an example. */
export function parseRule(line: string, s: LabSettings, id = 0): Rule {
  const words = line.replace(/#.*$/, '').trim().split(/\s+/).filter(Boolean);
  const [kind, value, ...opts] = words;
  if (!kind) throw new RuleError(`empty rule (${EXAMPLE})`);
  if (!KINDS.includes(kind as RuleKind))
    throw new RuleError(`unknown rule kind "${kind}" (one of ${KINDS.join(', ')}; ${EXAMPLE})`);
  if (!value) throw new RuleError(`"${kind}" needs a value (${EXAMPLE})`);
  const rule: Rule = { id, kind: kind as RuleKind, value, rstAck: false, offsets: DEFAULT_OFFSETS, text: '' };
  for (const o of opts) {
    if (o === 'rst+ack') rule.rstAck = true;
    else if (o === 'rst') rule.rstAck = false;
    else if (o.startsWith('offsets=')) {
      const list = o.slice(8).split(',').map(Number);
      if (!list.length || list.length > 8 || list.some((n) => !Number.isInteger(n) || n < 0 || n > 1 << 20))
        throw new RuleError(
          `"${o}": offsets are 1 to 8 whole numbers from 0 to 1048576, e.g. offsets=0,1460`,
        );
      rule.offsets = list;
    } else throw new RuleError(`unknown option "${o}" (rst, rst+ack, offsets=0,1460,2920)`);
  }
  if (rule.kind === 'dns' && (rule.rstAck || opts.some((o) => o.startsWith('offsets='))))
    throw new RuleError('a dns rule forges an answer, not RSTs: it takes no rst/offsets options');
  if (rule.kind === 'ip') {
    const { target, port: p } = splitTarget(value);
    rule.addresses = labAddresses(target, s);
    if (p !== undefined) {
      const n = Number(p);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new RuleError(`"${p}" is not a port (1-65535)`);
      rule.port = port(n, s); // the plan's well-known port, with the runtime's offset
    }
    rule.value = value.toLowerCase();
  } else if (rule.kind === 'keyword') {
    if (value.length > 200) throw new RuleError('a keyword is at most 200 characters');
  } else rule.value = labName(value);
  const shownOffsets =
    rule.offsets === DEFAULT_OFFSETS || rule.kind === 'dns' ? '' : ` offsets=${rule.offsets.join(',')}`;
  rule.text = `${rule.kind} ${rule.value}${rule.rstAck ? ' rst+ack' : ''}${shownOffsets}`;
  return rule;
}

/** A name matches a rule's name when equal or a subdomain of it. */
export function nameMatches(name: string | undefined, ruleName: string): boolean {
  if (!name) return false;
  const n = name.toLowerCase().replace(/\.$/, '');
  return n === ruleName || n.endsWith(`.${ruleName}`);
}

export interface RuleSet {
  list(): Rule[];
  /** adds one rule (or throws, leaving the set unchanged); an identical rule is not added twice */
  add(line: string): Rule;
  /** removes by id or canonical text; returns the removed rule */
  remove(idOrText: string | number): Rule;
  /** replaces the whole set from a rule file's text: all lines parse, or nothing changes */
  load(text: string): Rule[];
  clear(): void;
}

export function createRuleSet(s: LabSettings): RuleSet {
  let rules: Rule[] = [];
  let nextId = 1;
  const set: RuleSet = {
    list: () => [...rules],
    add(line) {
      const r = parseRule(line, s, nextId);
      const same = rules.find((x) => x.text === r.text);
      if (same) return same;
      nextId++;
      rules = [...rules, r];
      return r;
    },
    remove(idOrText) {
      const key = String(idOrText).trim();
      let r = rules.find((x) => String(x.id) === key || x.text === key);
      if (!r) {
        try {
          const parsed = parseRule(key, s);
          r = rules.find((x) => x.text === parsed.text);
        } catch {
          // not a rule line either
        }
      }
      if (!r) throw new RuleError(`no rule "${key}" (see lab block list)`);
      const gone = r;
      rules = rules.filter((x) => x !== gone);
      return gone;
    },
    load(text) {
      const parsed: Rule[] = [];
      text.split('\n').forEach((line, i) => {
        if (!line.replace(/#.*$/, '').trim()) return;
        try {
          parsed.push(parseRule(line, s, nextId + parsed.length));
        } catch (err) {
          throw new RuleError(`line ${i + 1}: ${(err as Error).message}`);
        }
      });
      nextId += parsed.length;
      rules = parsed;
      return [...rules];
    },
    clear() {
      rules = [];
    },
  };
  return set;
}
