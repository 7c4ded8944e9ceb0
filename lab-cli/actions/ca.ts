// Scenario actions for certificates: revoke one, or make the proxy serve a bad one (JOURNEY 20–21);
// and what `lab ca revoke` and `lab ca reset` do after the CA has answered: they tell every host
// that holds a certificate or caches a verdict, so the whole lab shows the change at once.

import { z } from 'zod';
import type { IssuedRow } from '../../services/ca/commands.js';
import {
  type CommandName,
  type CommandResult,
  servesTls,
  TLS_HOSTS,
} from '../../services/common/commands.js';
import type { Runtime } from '../runtime/types.js';
import { defineAction } from '../scenario/types.js';

/** The hosts that serve a certificate from the lab CA and staple its OCSP answer. */
export const CERT_HOLDERS = TLS_HOSTS;
const TELL_TIMEOUT_MS = 5_000;

export interface RevokedRow extends IssuedRow {
  /** the lab hosts serving this certificate now */
  servedBy: string[];
}

export interface RevokeReport {
  revoked: RevokedRow[];
  /** what each host that served a revoked certificate staples now: revoked, or why not */
  staples: { host: string; status: string }[];
  /** the browser forgot its verified OCSP answers (false: it is not running) */
  browserForgot: boolean;
}

/** A control command that may fail because the host is down or lacks it: its error, not a throw. */
async function tell<H extends string, C extends CommandName<H>>(
  runtime: Runtime,
  host: H,
  command: C,
): Promise<{ ok: true; result: CommandResult<H, C> } | { ok: false; error: string }> {
  try {
    return { ok: true, result: await runtime.control(host, command, undefined, TELL_TIMEOUT_MS) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/**
 * Revokes at the CA, then has every host that serves a revoked certificate fetch its OCSP answer again
 * (its next handshake staples "revoked", RFC 6066 §8) and the browser forget the answers it verified.
 */
export async function revokeEverywhere(
  runtime: Runtime,
  target: string,
  reason: string,
): Promise<RevokeReport> {
  const rows = await runtime.control('ca', 'ca.revoke', { target, reason });
  const serials = new Set(rows.map((r) => r.serial.toLowerCase()));
  const holders = await Promise.all(
    CERT_HOLDERS.map(async (host) => {
      const info = await tell(runtime, host, 'tls.info');
      const serial = info.ok ? info.result.serial.toLowerCase() : '';
      return { host, serial, holds: serials.has(serial) };
    }),
  );
  const staples = await Promise.all(
    holders
      .filter((h) => h.holds)
      .map(async ({ host }) => {
        const r = await tell(runtime, host, 'ocsp.refresh');
        return { host, status: r.ok ? r.result.status : `error: ${r.error}` };
      }),
  );
  const browser = await tell(runtime, 'browser', 'browser.revocation.forget');
  return {
    revoked: rows.map((r) => ({
      ...r,
      servedBy: holders.filter((h) => h.serial === r.serial.toLowerCase()).map((h) => h.host),
    })),
    staples,
    browserForgot: browser.ok,
  };
}

export interface ResetReport {
  root: string;
  /** each certificate holder: its new serial, or why it has none */
  hosts: { host: string; serial?: string; staple?: string; error?: string }[];
  /** the browser dropped the old root from its profile (false: it is not running) */
  browserForgot: boolean;
}

/**
 * A new hierarchy at the CA, then every running holder gets a certificate from it (its cached one names
 * the old issuer) and the browser drops the old root: the lab is coherent again in one command.
 */
export async function resetEverywhere(runtime: Runtime): Promise<ResetReport> {
  const { root } = await runtime.control('ca', 'ca.reset');
  const hosts = await renewEverywhere(runtime);
  const browser = await tell(runtime, 'browser', 'browser.trust.forget');
  return { root, hosts, browserForgot: browser.ok };
}

/** Every running holder (or the one named) asks the CA for a fresh certificate and staples its answer. */
export async function renewEverywhere(
  runtime: Runtime,
  only?: string,
): Promise<{ host: string; serial?: string; staple?: string; error?: string }[]> {
  if (only && !(CERT_HOLDERS as readonly string[]).includes(only))
    throw new Error(`${only} holds no certificate of the lab CA (hosts that do: ${CERT_HOLDERS.join(', ')})`);
  return Promise.all(
    CERT_HOLDERS.filter((h) => !only || h === only).map(async (host) => {
      const r = await tell(runtime, host, 'tls.renew');
      if (!r.ok) return { host, error: r.error };
      return { host, serial: r.result.serial, staple: r.result.staple };
    }),
  );
}

export const actions = [
  defineAction({
    name: 'ca.revoke',
    // a name or serial, or `of: <host>`: the certificate that host serves now
    schema: z.union([
      z.string().transform((target) => ({ target, of: undefined, reason: 'unspecified' })),
      z
        .object({
          target: z.string().optional(),
          of: z.string().optional(),
          reason: z.string().default('unspecified'),
        })
        .strict(),
    ]),
    describe: (a) => `lab ca revoke ${a.target ?? `<the certificate ${a.of} serves>`} --reason ${a.reason}`,
    needs: (a) => ['ca', ...(a.of ? [a.of] : [])],
    run: async (a, ctx) => {
      if (a.of !== undefined && !servesTls(a.of))
        return {
          ok: false,
          detail: `${a.of} serves no certificate from the CA (of: ${TLS_HOSTS.join(' or ')})`,
        };
      const target = a.of ? (await ctx.runtime.control(a.of, 'tls.info')).serial : a.target;
      if (!target) return { ok: false, detail: 'ca.revoke needs target or of' };
      const r = await revokeEverywhere(ctx.runtime, target, a.reason);
      const staples = r.staples.map((s) => `${s.host} staples ${s.status}`).join(', ');
      return {
        ok: true,
        detail: `revoked ${r.revoked.map((x) => x.serial.slice(0, 12)).join(', ')}${staples ? `; ${staples}` : ''}`,
      };
    },
  }),
  defineAction({
    name: 'badcert',
    schema: z
      .object({ kind: z.enum(['expired', 'wrongname', 'untrusted']), name: z.string().regex(/\.test$/) })
      .strict(),
    describe: (a) => `the CA makes a ${a.kind} certificate for ${a.name}, and the proxy serves it`,
    needs: () => ['ca', 'proxy'],
    run: async (a, ctx) => {
      const made = await ctx.runtime.control('ca', 'ca.badcert', a);
      await ctx.runtime.control('proxy', 'tls.add', { name: a.name, key: made.key, chain: made.chain });
      return { ok: true };
    },
  }),
];
