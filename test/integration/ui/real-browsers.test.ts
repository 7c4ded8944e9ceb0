// `lab browser open`: Debian's Chromium and Firefox ESR, each with a throwaway profile that trusts
// the lab root, load https://www.example.test/ from a lab on block 127.58 (the proxy sees their
// requests), then refuse it once the certificate is revoked. Each browser absent here is skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserBinary } from '../../../lab-cli/browsers/real-browser.js';
import { controlCall } from '../../../services/common/control.js';
import { controlSocketPath, PROJECT_ROOT, settingsFromEnv } from '../../../services/common/settings.js';

const ARTIFACTS = join(PROJECT_ROOT, 'test-artifacts', 'real-browsers');
const tmp = mkdtempSync(join(tmpdir(), 'enterlab-real-browsers-'));
const env = {
  ...process.env,
  LAB_BLOCK: '127.58',
  LAB_STATE_DIR: join(tmp, 'state'),
  LAB_RUNS_DIR: join(tmp, 'runs'),
  NO_COLOR: '1',
};
const lab = (...args: string[]) =>
  spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist/lab-cli/main.js'), ...args], {
    env,
    encoding: 'utf8',
    timeout: 180_000,
  });
const settings = settingsFromEnv(env);
const proxy = (command: string) => controlCall(controlSocketPath('proxy', settings), command, {});

interface Opened {
  error?: string;
  refused?: string;
  screenshot?: string;
  seen: { requests: string[]; refusals: string[]; dohQueries: number };
}
const open = (browser: string, shot: string, ...more: string[]): Opened => {
  const r = lab('browser', 'open', browser, '--screenshot', join(ARTIFACTS, shot), '--json', ...more);
  return JSON.parse(r.stdout) as Opened;
};

/**
 * Revokes the proxy's certificate as a workshop does (`lab ca revoke`). The proxy's stapled OCSP
 * answer must then say "revoked": once revoke refreshes the staple itself (the pki change) it
 * already does; until then the test asks the proxy to fetch it again, as revoked-cert.yaml does.
 */
async function revokeProxyCertificate() {
  const r = lab('ca', 'revoke', 'www.example.test', '--reason', 'keyCompromise');
  expect(r.status, r.stderr).toBe(0);
  const staple = (await proxy('ocsp.refresh')) as { status: string };
  expect(staple.status).toBe('revoked');
}

const present = (['chromium', 'firefox'] as const).filter((b) => browserBinary(b));
const absent = (['chromium', 'firefox'] as const).filter((b) => !browserBinary(b));
if (absent.length)
  console.log(
    `real-browser tests skipped for ${absent.join(', ')}: not installed (scripts/install-deps.sh --browsers)`,
  );
if (!existsSync('/usr/bin/certutil'))
  console.log('real-browser tests skipped: certutil missing (libnss3-tools)');

describe.skipIf(present.length === 0 || !existsSync('/usr/bin/certutil'))(
  'lab browser open, real browsers',
  () => {
    beforeAll(() => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const up = lab('up');
      expect(up.status, up.stderr).toBe(0);
    }, 60_000);
    afterAll(() => {
      lab('down');
      rmSync(tmp, { recursive: true, force: true });
    });

    for (const browser of present) {
      describe(browser, () => {
        it('loads the lab page through the lab proxy, trusting only its throwaway profile', async () => {
          const r = open(browser, `${browser}-page.png`);
          expect(r.error).toBeUndefined();
          expect(r.refused).toBeUndefined();
          expect(r.screenshot).toBe(join(ARTIFACTS, `${browser}-page.png`));
          expect(r.seen.requests).toContain('GET https://www.example.test/');
        }, 90_000);

        it('resolves through the lab resolver over DoH (secure DNS: Chrome secure mode, Firefox TRR mode 3)', async () => {
          const r = open(browser, `${browser}-doh.png`, '--dns', 'doh');
          expect(r.error).toBeUndefined();
          expect(r.seen.dohQueries).toBeGreaterThan(0);
          expect(r.seen.requests).toContain('GET https://www.example.test/');
        }, 90_000);

        it('refuses the page after lab ca revoke www.example.test, before any HTTP request', async () => {
          await revokeProxyCertificate();
          try {
            const r = open(browser, `${browser}-revoked.png`);
            // Chromium names its error; both send the TLS alert certificate_revoked, which the proxy logs
            if (browser === 'chromium') expect(r.error).toBe('ERR_CERT_REVOKED');
            else expect(r.refused).toMatch(/^certificate_revoked .*SEC_ERROR_REVOKED_CERTIFICATE/);
            expect(r.seen.requests.filter((q) => q.includes('www.example.test'))).toEqual([]);
          } finally {
            await proxy('tls.renew'); // a fresh, good certificate for the next browser
          }
        }, 90_000);
      });
    }
  },
);
