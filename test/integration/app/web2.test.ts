// web2, the other web server of the hosts-file story, with curl and openssl: it answers any Host, over
// HTTP and over HTTPS with a chain the lab CA issued (block 127.44; the CA is the real one).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { port } from '../../../services/common/settings.js';
import { startTestLab, type TestLab } from '../../support/lab.js';

let lab: TestLab;
let rootPem: string;

beforeAll(async () => {
  lab = await startTestLab({
    block: '127.44',
    hosts: ['ns-root', 'ns-tld', 'ns-example', 'resolver', 'ca', 'proxy', 'web2'],
  });
  rootPem = join(lab.settings.stateDir, 'root.pem');
  const root = execFileSync(
    'curl',
    ['-sf', '--max-time', '5', `http://${lab.address('ca')}:${port(80, lab.settings)}/root.pem`],
    {
      encoding: 'utf8',
    },
  );
  writeFileSync(rootPem, root);
});
afterAll(async () => {
  await lab?.close();
});

describe('web2', () => {
  it('answers any Host over HTTP with a page that says it is web2', () => {
    const body = execFileSync(
      'curl',
      [
        '-sf',
        '--max-time',
        '5',
        '-H',
        'Host: www.example.test',
        `http://${lab.address('web2')}:${port(80, lab.settings)}/`,
      ],
      { encoding: 'utf8' },
    );
    expect(body).toMatch(/This is web2/);
  });

  it('serves HTTPS with a chain from the lab CA that curl and openssl verify', () => {
    const addr = lab.address('web2');
    const body = execFileSync(
      'curl',
      [
        '-sf',
        '--max-time',
        '5',
        '--cacert',
        rootPem,
        '--resolve',
        `www.example.test:${port(443, lab.settings)}:${addr}`,
        `https://www.example.test:${port(443, lab.settings)}/hej`,
      ],
      { encoding: 'utf8' },
    );
    expect(body).toMatch(/This is web2/);
    const s = execFileSync(
      'openssl',
      [
        's_client',
        '-connect',
        `${addr}:${port(443, lab.settings)}`,
        '-servername',
        'www.example.test',
        '-CAfile',
        rootPem,
      ],
      { input: '', encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] },
    );
    expect(s).toMatch(/Verify return code: 0 \(ok\)/);
    expect(s).toMatch(/1 s:.*Issuing CA/);
  });
});
