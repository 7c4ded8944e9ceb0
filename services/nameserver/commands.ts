// The nameservers' control commands, command → {args, result}: the handlers in main.ts are checked
// against this map, and the CLI's calls (lab dns, scenario actions) are typed by it.

type None = Record<string, never>;

export type NameserverCommands = {
  /** hold answers back (a slow authority), 0–5000 ms */
  'dns.delay': { args: { ms: number }; result: { ms: number } };
  /** the zones this server serves ("." for the root) */
  'dns.zones': { args: None; result: string[] };
  /** one zone as a zone file */
  'dns.zone': { args: { zone: string }; result: string };
  /** set a record (A and AAAA plan addresses become this runtime's); the record as dig prints it */
  'dns.set': { args: { name: string; type: string; value: string; ttl?: number }; result: string };
  'dns.rm': { args: { name: string; type?: string }; result: { removed: number } };
};
