// The app server with curl straight at its backend address (block 127.44), as the proxy would.
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_USER_AGENT } from '../../../services/common/event-output.js';
import { port } from '../../../services/common/settings.js';
import { startTestLab, type TestLab } from '../../support/lab.js';

const APP = 'http://127.44.3.10';
let lab: TestLab;

function curl(
  path: string,
  opts: { host?: string; headers?: string[]; from?: string; method?: string } = {},
) {
  const args = [
    '-s',
    '-D',
    '-',
    '--max-time',
    '10',
    '--interface',
    opts.from ?? '127.44.3.80',
    '-H',
    `Host: ${opts.host ?? 'www.example.test'}`,
  ];
  for (const h of opts.headers ?? []) args.push('-H', h);
  if (opts.method) args.push('-X', opts.method);
  const out = execFileSync('curl', [...args, `${APP}${path}`], { encoding: 'utf8' });
  const [head, ...rest] = out.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]);
  const headers = Object.fromEntries(
    head
      .split('\r\n')
      .slice(1)
      .map((l) => [l.split(':')[0].toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  return { status, headers, body: rest.join('\r\n\r\n') };
}

async function profile(token: string) {
  const r = curl(`/_profiler/${token}?format=json`);
  return JSON.parse(r.body) as {
    events: { event: string; listeners: { listener: string }[] }[];
    status: number;
  };
}

beforeAll(async () => {
  lab = await startTestLab({ block: '127.44', hosts: ['app'] });
});
afterAll(async () => {
  await lab?.close();
});

describe('the app server', () => {
  it('serves /hej through every kernel event, in order, with the cache policy for the proxy', async () => {
    const r = curl('/hej');
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('public, s-maxage=86400, max-age=60');
    expect(r.body).toMatch(/<title>Hej!/);
    const p = await profile(r.headers['x-debug-token']);
    expect(p.events.map((e) => e.event)).toEqual([
      'kernel.request',
      'kernel.controller',
      'kernel.controller_arguments',
      'kernel.response',
      'kernel.finish_request',
      'kernel.terminate',
    ]);
    expect(p.events[0].listeners.map((l) => l.listener)).toEqual(['IpBlocklistListener', 'RouterListener']);
    await lab.waitFor((e) => e.kind === 'kernel.terminate' && e.data?.token === r.headers['x-debug-token']);
  });

  it('loads /users/42 from SQLite through the argument resolver', () => {
    const r = curl('/users/42');
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/<h1>Douglas Adams<\/h1>/);
    expect(r.headers['cache-control']).toBe('private, no-store');
    expect(curl('/users/4242').status).toBe(404);
  });

  it('answers malformed ids and unknown routes with 404, wrong methods with 405 and Allow', () => {
    expect(curl('/users/abc').status).toBe(404);
    expect(curl('/no/such/page').status).toBe(404);
    const r = curl('/hej', { method: 'DELETE' });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
  });

  it('switches to the v2 controller for the v2 Accept header, and the view listener renders JSON', () => {
    const v1 = JSON.parse(curl('/api/users/7').body);
    expect(v1).toEqual({ id: 7, name: 'Grace Hopper' });
    const r = curl('/api/users/7', { headers: ['Accept: application/vnd.example.v2+json'] });
    expect(r.headers['content-type']).toMatch(/vnd\.example\.v2\+json/);
    expect(JSON.parse(r.body).data.attributes.familyName).toBe('Hopper');
  });

  it('answers a blocked client with 404 from the blocklist listener, before routing runs', async () => {
    await lab.control('app', 'app.block', { ip: '127.44.1.10' });
    try {
      const r = curl('/hej', { headers: ['X-Forwarded-For: 127.44.1.10'] });
      expect(r.status).toBe(404);
      const p = await profile(r.headers['x-debug-token']);
      expect(p.events[0].listeners.map((l) => l.listener)).toEqual(['IpBlocklistListener']);
      // X-Forwarded-For is believed only from the proxy
      expect(curl('/hej', { headers: ['X-Forwarded-For: 127.44.1.10'], from: '127.44.2.81' }).status).toBe(
        200,
      );
    } finally {
      await lab.control('app', 'app.unblock', { ip: '127.44.1.10' });
    }
  });

  it('refuses an unknown Host in the web-server layer, never reaching the kernel', async () => {
    const before = lab.events('app').filter((e) => e.kind === 'kernel.request').length;
    const r = curl('/hej', { host: 'evil.test' });
    expect(r.status).toBe(421);
    await lab.waitFor((e) => e.kind === 'vhost.match' && e.data?.host === 'evil.test');
    expect(lab.events('app').filter((e) => e.kind === 'kernel.request').length).toBe(before);
  });

  it('turns a thrown error into a 500 page through kernel.exception, and the next request works', () => {
    const r = curl('/error');
    expect(r.status).toBe(500);
    expect(r.body).toMatch(/500 Internal Server Error/);
    expect(curl('/hej').status).toBe(200);
  });

  it('serves CDN files with ETag, Last-Modified and Cache-Control, and 304 on revalidation', () => {
    const r = curl('/img/photo1.svg', { host: 'cdn.example.test' });
    expect(r.status).toBe(200);
    expect(r.headers.etag).toBeDefined();
    expect(r.headers['last-modified']).toBeDefined();
    expect(r.headers['cache-control']).toMatch(/max-age=/);
    expect(
      curl('/img/photo1.svg', { host: 'cdn.example.test', headers: [`If-None-Match: ${r.headers.etag}`] })
        .status,
    ).toBe(304);
  });

  it('logs each request in combined log format', async () => {
    curl('/about', { headers: ['Referer: https://www.example.test/hej', 'User-Agent: lab-test'] });
    const ev = await lab.waitFor((e) => e.kind === 'http.access' && String(e.data?.line).includes('/about'));
    expect(ev.data?.line).toMatch(
      /^127\.44\.3\.80 - - \[.+\] "GET \/about HTTP\/1\.1" 200 \d+ "https:\/\/www\.example\.test\/hej" "lab-test"$/,
    );
  });

  it('puts the trace id of a W3C traceparent on every event of that request', async () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const r = curl('/hej', { headers: [`traceparent: 00-${trace}-00f067aa0ba902b7-01`] });
    expect(r.status).toBe(200);
    await lab.waitFor((e) => e.kind === 'kernel.terminate' && e.trace === trace);
    await lab.waitFor((e) => e.kind === 'http.access' && e.trace === trace);
    const kinds = lab
      .events('app')
      .filter((e) => e.trace === trace)
      .map((e) => e.kind);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'vhost.match',
        'kernel.request',
        'kernel.controller',
        'kernel.controller_arguments',
        'kernel.response',
        'kernel.finish_request',
        'kernel.terminate',
        'http.access',
      ]),
    );
    const ofToken = lab.events('app').filter((e) => e.data?.token === r.headers['x-debug-token']);
    expect(ofToken.every((e) => e.trace === trace)).toBe(true);
  });

  it("marks every event of the proxy's health probe as a probe's, and no other request's", async () => {
    const probe = curl('/hej', { headers: [`User-Agent: ${PROBE_USER_AGENT}`] });
    const person = curl('/hej', { headers: ['User-Agent: lab-test'] });
    for (const r of [probe, person])
      await lab.waitFor((e) => e.kind === 'kernel.terminate' && e.data?.token === r.headers['x-debug-token']);
    await lab.waitFor((e) => e.kind === 'http.access' && String(e.data?.line).endsWith('"lab-test"'));
    const ofRequest = (r: typeof probe, ua: string) =>
      lab
        .events('app')
        .filter(
          (e) =>
            e.data?.token === r.headers['x-debug-token'] ||
            (e.kind === 'http.access' && String(e.data?.line).endsWith(`"${ua}"`)),
        );
    const probed = ofRequest(probe, PROBE_USER_AGENT);
    expect(probed.map((e) => e.kind)).toEqual(expect.arrayContaining(['kernel.request', 'http.access']));
    expect(probed.every((e) => e.probe === true)).toBe(true);
    expect(ofRequest(person, 'lab-test').some((e) => e.probe)).toBe(false);
  });

  it('turns a workshop listener that throws on kernel.request into a 500 page, and works again once it is removed', async () => {
    await lab.control('app', 'app.listener.add', { event: 'kernel.request', action: 'throw', priority: 100 });
    try {
      const r = curl('/hej');
      expect(r.status).toBe(500);
      expect(r.body).toMatch(/500 Internal Server Error/);
      const p = await profile(r.headers['x-debug-token']);
      expect(p.events.map((e) => e.event)).toContain('kernel.exception');
      expect(p.events.map((e) => e.event)).not.toContain('kernel.controller');
    } finally {
      await lab.control('app', 'app.listener.remove', { name: 'WorkshopThrowListener' });
    }
    expect(curl('/hej').status).toBe(200);
  });

  it('skips routing and the controller when a kernel.request listener answers, yet still runs kernel.response', async () => {
    await lab.control('app', 'app.listener.add', {
      event: 'kernel.request',
      action: 'respond',
      status: 418,
      priority: 300,
      name: 'Teapot',
    });
    try {
      const r = curl('/users/42');
      expect(r.status).toBe(418);
      expect(r.headers['x-debug-token']).toBeDefined(); // kernel.response ran
      const p = await profile(r.headers['x-debug-token']);
      expect(p.events[0].listeners.map((l) => l.listener)).toEqual(['Teapot']);
      expect(p.events.map((e) => e.event)).not.toContain('kernel.controller');
    } finally {
      await lab.control('app', 'app.listener.remove', { name: 'Teapot' });
    }
  });

  it('survives a listener that throws on kernel.terminate, after the response was sent', async () => {
    await lab.control('app', 'app.listener.add', {
      event: 'kernel.terminate',
      action: 'throw',
      name: 'LateBoom',
    });
    try {
      expect(curl('/hej').status).toBe(200);
      await lab.waitFor((e) => e.kind === 'service.error' && e.data?.where === 'kernel.terminate');
    } finally {
      await lab.control('app', 'app.listener.remove', { name: 'LateBoom' });
    }
    expect(curl('/hej').status).toBe(200);
  });

  it('refuses a workshop listener for an event the kernel does not have', async () => {
    await expect(lab.control('app', 'app.listener.add', { event: 'kernel.lunch' })).rejects.toThrow(
      /not a kernel event/,
    );
  });

  it('answers bad input with 4xx, never a 500 or a reset', async () => {
    expect(curl('/hej', { headers: ['Cookie: a=%E0%A4%A'] }).status).toBe(200);
    expect(curl('/users/%E0%A4%A').status).toBe(404);
    const raw = (bytes: string) =>
      new Promise<string>((resolve, reject) => {
        const s = connect(
          { host: '127.44.3.10', port: port(80, lab.settings), localAddress: '127.44.3.80' },
          () => s.end(bytes),
        );
        let got = '';
        s.setEncoding('utf8');
        s.on('data', (c) => {
          got += c;
        });
        s.on('close', () => resolve(got.split('\r\n')[0]));
        s.on('error', reject);
      });
    expect(await raw('GET //hej HTTP/1.1\r\nHost: www.example.test\r\nConnection: close\r\n\r\n')).toBe(
      'HTTP/1.1 404 Not Found',
    );
    expect(await raw('GET /hej HTTP/1.1\r\nHost: www.example.test\r\nHost: evil.test\r\n\r\n')).toBe(
      'HTTP/1.1 400 Bad Request',
    );
    expect(await raw('GARBAGE\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
    expect(curl('/hej').status).toBe(200);
  });
});
