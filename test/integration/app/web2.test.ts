// web2, the other web server of the hosts-file story, with curl and openssl: it answers any Host, over
// HTTP and over HTTPS with a chain the lab CA issued through ACME as web2 started (block 127.44; the
// CA, the DNS and the proxy are the real ones: the CA's checks for www.example.test reach the proxy,
// which relays them to web2).
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

  it('got its certificate through ACME: the CA checked its names at the proxy, which relayed to web2', async () => {
    // the resolver orders its DNS-over-TLS certificate in the background
    await lab.waitFor((e) => e.host === 'resolver' && e.kind === 'dns.encrypted.ready', 20_000);
    const ca = lab.events('ca');
    const issued = ca.find((e) => e.kind === 'ca.issue' && e.data?.requester === 'web2');
    expect(issued?.data).toMatchObject({ kind: 'acme' });
    expect(issued?.data?.names).toEqual(expect.arrayContaining(['www.example.test', 'web2.example.test']));
    const proxyAt = `${lab.address('proxy')}:${port(80, lab.settings)}`;
    const web2At = `${lab.address('web2')}:${port(80, lab.settings)}`;
    const checked = (name: string) =>
      ca
        .filter((e) => e.kind === 'acme.validate' && e.data?.name === name && e.data?.ok)
        .map((e) => e.data?.at);
    // www.example.test: once for the proxy's own order, once for web2's, both at the proxy's port 80
    expect(checked('www.example.test')).toEqual([proxyAt, proxyAt]);
    expect(checked('web2.example.test')).toEqual([web2At]);
    // nobody got a certificate outside ACME (the resolver's is for DNS over TLS)
    const issues = ca.filter((e) => e.kind === 'ca.issue');
    expect(issues.map((e) => e.data?.kind)).toEqual(['acme', 'acme', 'acme']);
    expect(issues.map((e) => e.data?.requester).sort()).toEqual(['proxy', 'resolver', 'web2']);
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
