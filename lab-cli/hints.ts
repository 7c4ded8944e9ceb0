// The hint after a failed command: "is the lab up?" only when it is not (a refused value on a lab
// that is up needs no such question).
import type { Cli } from './commands/types.js';

export async function downHint(cli: Cli): Promise<string | undefined> {
  const up = await (await cli.runtime()).isUp().catch(() => false);
  return up ? undefined : 'is the lab up? (lab up; lab status)';
}
