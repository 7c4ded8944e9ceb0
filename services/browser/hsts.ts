// JOURNEY 4: HSTS — a preloaded list, and hosts learned from Strict-Transport-Security headers
// (RFC 6797), kept in the browser's profile. An http:// URL to such a host becomes https:// inside
// the browser (an internal 307), with no plain-HTTP packet sent.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** The preload list (like Chrome's transport_security_state_static.json), for the lab's names. */
export const HSTS_PRELOAD: readonly { host: string; includeSubDomains: boolean }[] = [
  { host: 'cdn.example.test', includeSubDomains: false },
];

interface Entry {
  host: string;
  includeSubDomains: boolean;
  expires: number;
}

export class HstsStore {
  private entries = new Map<string, Entry>();
  constructor(private readonly path: string) {
    if (existsSync(path))
      for (const e of JSON.parse(readFileSync(path, 'utf8')) as Entry[]) this.entries.set(e.host, e);
  }

  private save(): void {
    writeFileSync(`${this.path}.tmp`, JSON.stringify([...this.entries.values()], null, 1));
    renameSync(`${this.path}.tmp`, this.path);
  }

  /** Why this host must be reached over https, or undefined. */
  match(host: string, now = Date.now()): string | undefined {
    const h = host.toLowerCase();
    for (const p of HSTS_PRELOAD)
      if (p.host === h || (p.includeSubDomains && h.endsWith(`.${p.host}`))) return 'preloaded';
    const labels = h.split('.');
    for (let i = 0; i < labels.length - 1; i++) {
      const e = this.entries.get(labels.slice(i).join('.'));
      if (e && e.expires > now && (i === 0 || e.includeSubDomains))
        return `learned from Strict-Transport-Security (${e.host})`;
    }
    return undefined;
  }

  /** RFC 6797 §8.1: only from a secure response; max-age=0 removes the host. */
  learn(host: string, header: string, now = Date.now()): Entry | undefined {
    const maxAge = /max-age\s*=\s*"?(\d+)"?/i.exec(header);
    if (!maxAge) return undefined;
    const h = host.toLowerCase();
    if (Number(maxAge[1]) === 0) {
      this.entries.delete(h);
      this.save();
      return undefined;
    }
    const e = {
      host: h,
      includeSubDomains: /includesubdomains/i.test(header),
      expires: now + Number(maxAge[1]) * 1000,
    };
    this.entries.set(h, e);
    this.save();
    return e;
  }

  clear(): void {
    this.entries.clear();
    this.save();
  }
}
