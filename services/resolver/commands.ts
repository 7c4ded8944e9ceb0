// The resolver's control commands, command → {args, result}: the handlers in main.ts are checked
// against this map, and the CLI's calls (lab dns flush, lab dns cache) are typed by it.

export type ResolverCommands = {
  /** forget one name, or everything */
  'dns.flush': { args: { name?: string }; result: { removed: number } };
  /** what the cache holds, records as dig prints them */
  'dns.cache': {
    args: Record<string, never>;
    result: { name: string; type: string; kind: string; ttl: number; records: string[]; source: string }[];
  };
};
