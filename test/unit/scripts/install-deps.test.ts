// scripts/install-deps.sh against fake apt-get, dpkg-query, systemctl and pkill (nothing is installed
// for real): no service may start during the install (policy-rc.d answers 101 while apt-get runs, and
// is gone afterwards), only units the install added are disabled, and nothing is stopped by name, so
// an unbound of someone else's keeps running.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../services/common/settings.js';

function fakeBin(dir: string, name: string, body: string) {
  writeFileSync(join(dir, name), `#!/bin/bash\necho "${name} $*" >> "$CALLS"\n${body}\n`);
  chmodSync(join(dir, name), 0o755);
}

describe('scripts/install-deps.sh', () => {
  it('starts no service, disables only what it installed, and stops nothing by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enterlab-deps-'));
    const bin = join(dir, 'bin');
    spawnSync('mkdir', [bin]);
    const calls = join(dir, 'calls');
    const policy = join(dir, 'policy-rc.d');
    // unbound and varnish are "missing"; nsd is already installed (someone else's)
    fakeBin(
      bin,
      'dpkg-query',
      'case "$*" in *unbound*|*varnish*) exit 1;; *) echo "install ok installed";; esac',
    );
    // while apt-get runs, a package's postinst would ask policy-rc.d before starting its service
    fakeBin(
      bin,
      'apt-get',
      `[ "$1" = install ] && { "${policy}" unbound start; echo "policy=$?" >> "$CALLS"; }; exit 0`,
    );
    fakeBin(bin, 'systemctl', 'exit 0');
    fakeBin(bin, 'debconf-set-selections', 'cat >/dev/null');
    for (const k of ['pkill', 'killall']) fakeBin(bin, k, 'exit 0');
    // an unbound of someone else's, running
    copyFileSync('/bin/sleep', join(dir, 'unbound'));
    const theirs = spawn(join(dir, 'unbound'), ['60'], { stdio: 'ignore' });
    try {
      const r = spawnSync('bash', [join(PROJECT_ROOT, 'scripts/install-deps.sh')], {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, CALLS: calls, POLICY_RC_D: policy },
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      const log = readFileSync(calls, 'utf8');
      expect(log).toContain('policy=101');
      expect(existsSync(policy)).toBe(false);
      expect(log).not.toMatch(/^(pkill|killall) /m);
      expect(log).not.toMatch(/--now|systemctl stop/);
      expect(log).toMatch(/^systemctl disable unbound$/m);
      expect(log).toMatch(/^systemctl disable varnish$/m);
      expect(log).not.toMatch(/systemctl disable nsd/);
      expect(theirs.exitCode).toBeNull();
      expect(existsSync(`/proc/${theirs.pid}`)).toBe(true);
    } finally {
      theirs.kill();
    }
  });
});
