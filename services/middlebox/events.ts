// The middlebox's events, kind → data: the censor's rules and what it forged, and the segment loss
// of the docker runtime. scripts/events-doc.ts turns this into docs/EVENTS.md and main.ts's list.
import type { ServiceEvent } from '../common/service-events.js';
import type { MatchInfo } from './censor.js';
import type { ForgedAnswer, ForgedPacket } from './forge.js';
import type { RuleKind } from './rules.js';

/** A rule as the control channel and the events show it. */
export interface ShownRule {
  id: number;
  text: string;
  kind: RuleKind;
  value: string;
}

/** One armed segment loss: the nth data segment from one address (and port) to another. */
export interface ArmedLossInfo {
  tag: string;
  from: string;
  to: string;
  fromPort: number | undefined;
  toPort: number | undefined;
  nth: number;
}

/** What the censor did about one packet (services/middlebox/report.ts words it). */
export type OutcomeEvent =
  | {
      /** a rule matched a flow */
      kind: 'censor.match';
      data: {
        rule: MatchInfo['rule'];
        trigger: MatchInfo['trigger'];
        value: string;
        flow: MatchInfo['flow'];
      };
    }
  | {
      /** forged RSTs sent to both ends for one trigger */
      kind: 'rst.injected';
      data: {
        rule: MatchInfo['rule'];
        flow: MatchInfo['flow'];
        trigger: { dir: 'c2s' | 's2c'; seq: number; ack: number; len: number; flags: number };
        packets: Omit<ForgedPacket, 'frame'>[];
      };
    }
  | {
      /** a forged DNS answer sent, racing the real one */
      kind: 'dns.injected';
      data: { rule: MatchInfo['rule']; flow: MatchInfo['flow'] } & Omit<ForgedAnswer, 'frame'>;
    };

export type MiddleboxEvent =
  | ServiceEvent
  | OutcomeEvent
  | {
      /** the rule set changed */
      kind: 'censor.rule';
      data: { op: 'add' | 'rm' | 'load' | 'clear'; rule?: ShownRule; rules: string[] };
    }
  | {
      /** one segment will be dropped: the nth data segment from now (docker runtime) */
      kind: 'loss.armed';
      data: ArmedLossInfo;
    }
  | {
      /** the kernel dropped it, or nothing matched in time (the rule is removed) */
      kind: 'loss.dropped';
      data: { tag: string; dropped: number };
    };
