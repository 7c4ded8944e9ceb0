// The browser's control commands, command → {args, result}: the handlers in main.ts are checked
// against this map, and the CLI's calls (lab browse, lab hosts, scenario actions) are typed by it.
import type { BrowseResult } from './navigate.js';

export type BrowserCommands = {
  /** load a page as typed in the omnibox */
  browse: {
    args: {
      text: string;
      /** where to write the HAR and the TLS key log */
      runDir?: string;
      noCache?: boolean;
      referrer?: string;
      hardFailRevocation?: boolean;
      http1Only?: boolean;
      /** DNS over TLS or HTTPS to the resolver (udp: plain DNS, as without it) */
      dns?: 'udp' | 'dot' | 'doh';
    };
    result: BrowseResult;
  };
  'hosts.list': { args: Record<string, never>; result: { path: string; entries: Record<string, string[]> } };
  'hosts.add': {
    args: { name: string; address: string };
    result: { path: string; name: string; address: string };
  };
  'hosts.rm': { args: { name: string }; result: { removed: number } };
  'browser.clear': { args: Record<string, never>; result: { dns: number; cleared: string[] } };
  'browser.revocation.forget': { args: Record<string, never>; result: { forgot: string } };
  'browser.trust.forget': { args: Record<string, never>; result: { forgot: string } };
  'browser.dns.flush': { args: Record<string, never>; result: { removed: number } };
};
