// The CA's control commands, command → {args, result}: the handlers in main.ts are checked against
// this map, and the CLI's calls (lab ca, scenario actions) are typed by it.
import type { IssuedRecord } from './issue.js';

type None = Record<string, never>;

/** A certificate as the CA lists it (its PEM left out). */
export type IssuedRow = Omit<IssuedRecord, 'pem'>;

export type CaCommands = {
  'ca.list': { args: None; result: IssuedRow[] };
  /** revoke every good certificate with this serial or name */
  /** reason: one of RFC 5280's CRLReason names (the CA says which when it is not) */
  'ca.revoke': { args: { target: string; reason?: string }; result: IssuedRow[] };
  /** the root to trust */
  'ca.trust': { args: None; result: { pem: string; url: string; subject: string } };
  /** a new hierarchy: every certificate issued before is gone */
  'ca.reset': { args: None; result: { root: string } };
  /** a bad certificate for a story: expired, wrong name, untrusted, … */
  'ca.badcert': {
    args: { kind: string; name: string };
    result: { key: string; chain: string; serial: string };
  };
};
