// The proxy's control commands, command → {args, result}: the handlers (main.ts, invalidate.ts) are
// checked against this map, and the CLI's calls (lab cache, scenario actions) are typed by it.
import type { TlsCommands } from '../common/commands.js';
import type { showParams } from './params.js';
import type { VclInfo } from './vcl-file.js';

export type ProxyCommands = TlsCommands & {
  /** PURGE one URL */
  'cache.purge': { args: { url: string }; result: { removed: number } };
  /** ban every object whose URL matches */
  'cache.ban': { args: { regex: string }; result: { removed: number } };
  'cache.stats': {
    args: Record<string, never>;
    result: {
      hits: number;
      misses: number;
      passes: number;
      stores: number;
      evictions: number;
      purges: number;
      objects: number;
      bytes: number;
      maxBytes: number;
      backendHealthy: boolean;
    };
  };
  /** Varnish's parameters (varnishadm param.show) */
  'cache.param': { args: Record<string, never>; result: ReturnType<typeof showParams> };
  'cache.param.set': { args: { name: string; value: string }; result: { name: string; value: unknown } };
  /** the VCL in use and its rules (varnishadm vcl.list) */
  'cache.vcl': { args: Record<string, never>; result: VclInfo };
  /** compile a VCL file's text and use it from the next request on ({default: true}: the built-in VCL) */
  'cache.vcl.use': { args: { file?: string; text?: string; default?: true }; result: VclInfo };
  /** serve this key and chain for a name (the bad-cert story) */
  'tls.add': { args: { name: string; key: string; chain: string }; result: { name: string } };
};
