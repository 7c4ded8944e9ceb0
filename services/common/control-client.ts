// One control command from inside a container (docker exec, healthchecks): the CLI on the machine
// cannot reach a container's Unix socket. Prints the result as one JSON line; exit 1 with the error.
// Usage: node dist/services/common/control-client.js <host> <command> [json-args] [timeout-ms]
import { controlCall } from './control.js';
import { controlSocketPath, settingsFromEnv } from './settings.js';
import { hostSpec } from './topology.js';

const [host, command, json = '{}', timeout = '30000'] = process.argv.slice(2);
try {
  if (!host || !command) throw new Error('usage: control-client <host> <command> [json-args] [timeout-ms]');
  hostSpec(host);
  const args = JSON.parse(json) as Record<string, unknown>;
  const result = await controlCall(
    controlSocketPath(host, settingsFromEnv()),
    command,
    args,
    Number(timeout),
  );
  process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
} catch (err) {
  const e = err as Error & { code?: string };
  process.stdout.write(`${JSON.stringify({ ok: false, error: e.message, code: e.code })}\n`);
  process.exitCode = 1;
}
