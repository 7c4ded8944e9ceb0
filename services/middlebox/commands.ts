// The middlebox's control commands, command → {args, result}: the handlers in main.ts are checked
// against this map, and the CLI's calls (lab block, scenario actions) are typed by it.
import type { CensorStats } from './censor.js';
import type { ArmedLossInfo, ShownRule } from './events.js';

type None = Record<string, never>;

export type MiddleboxCommands = {
  'block.list': { args: None; result: ShownRule[] };
  /** one rule, by its text (ip:, sni:, host:, keyword:, dns:) */
  'block.add': { args: { rule: string }; result: ShownRule };
  /** by its id or its text */
  'block.rm': { args: { rule: string }; result: ShownRule };
  /** a whole rule set, one rule a line */
  'block.load': { args: { text: string }; result: ShownRule[] };
  'block.clear': { args: None; result: never[] };
  'middlebox.stats': {
    args: None;
    result: CensorStats & { device: string | undefined; off: string | undefined };
  };
  /** lose the nth data segment from one host to another (docker runtime) */
  'loss.drop': {
    args: { from?: string; to?: string; fromPort?: number; toPort?: number; nth?: number };
    result: ArmedLossInfo;
  };
  'loss.clear': { args: None; result: { removed: number } };
};
