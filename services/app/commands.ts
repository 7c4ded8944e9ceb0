// The app service's control commands, command → {args, result}: the handlers (main.ts, web2.ts) are
// checked against these maps, and the CLI's calls (lab app, scenario actions) are typed by them.
import type { TlsCommands } from '../common/commands.js';
import type { Profile } from './profiler.js';
import type { WorkshopListener } from './workshop.js';

/** a client by address, or a lab host by name */
type Client = { ip?: string; host?: string };

export type AppCommands = {
  /** the kernel refuses this client (403 from a kernel.request listener); the blocked addresses */
  'app.block': { args: Client; result: string[] };
  'app.unblock': { args: Client; result: string[] };
  /** a workshop's listener on a kernel event (services/app/workshop.ts) */
  'app.listener.add': {
    args: { event: string; name?: string; priority?: number; action?: string; status?: number };
    result: { added: WorkshopListener; listeners: { name: string; priority: number }[] };
  };
  'app.listener.remove': { args: { name: string }; result: { removed: number } };
  'app.listeners': {
    args: Record<string, never>;
    result: Record<string, { name: string; priority: number }[]>;
  };
  /** one request's profile, by its token */
  'app.profile': { args: { token: string }; result: Profile | null };
};

/** web2 serves TLS with a certificate from the CA, like the proxy */
export type Web2Commands = TlsCommands;
