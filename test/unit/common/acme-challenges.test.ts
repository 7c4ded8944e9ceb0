// The http-01 side of a lab host (services/common/acme-challenges.ts): the standalone port-80 server a
// host runs before its web server starts, the relay the proxy uses for web2's challenges, and which
// failed orders a starting host tries again (acme-certificate.ts).
import { createServer as createHttpServer, get, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isTransient } from '../../../services/common/acme-certificate.js';
import {
  publishChallenge,
  startStandaloneChallenges,
  unpublishChallenge,
} from '../../../services/common/acme-challenges.js';
import { AcmeClientError } from '../../../services/common/acme-client.js';

const HOST = '127.0.0.1';
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, HOST, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
const fetch80 = (port: number, path: string, host = 'www.example.test') =>
  new Promise<{ status: number; body: string; headers: IncomingHttpHeaders }>((resolve, reject) => {
    get({ host: HOST, port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    }).on('error', reject);
  });

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
  unpublishChallenge('tok-here');
});

describe('the standalone http-01 server (certbot --standalone)', () => {
  it('answers a published token with its key authorization, and nothing else but 503', async () => {
    const port = await freePort();
    closers.push(await startStandaloneChallenges(HOST, port));
    publishChallenge('tok-here', 'tok-here.thumbprint');
    const ok = await fetch80(port, '/.well-known/acme-challenge/tok-here');
    expect(ok).toMatchObject({ status: 200, body: 'tok-here.thumbprint' });
    expect(ok.headers['content-type']).toBe('application/octet-stream');
    const page = await fetch80(port, '/');
    expect(page.status).toBe(503);
    expect(page.headers['retry-after']).toBe('1');
    expect(page.body).toMatch(/getting its certificate/);
    // a token it never published, with no relay: nothing to answer
    expect((await fetch80(port, '/.well-known/acme-challenge/other')).status).toBe(503);
  });

  it('relays the tokens it has no answer for to the other server of the name, Host and all', async () => {
    const front = await freePort();
    // web2 as the relay sees it: a port-80 server with its own answers
    const seen: { path?: string; host?: string }[] = [];
    const web2 = createHttpServer((req, res) => {
      seen.push({ path: req.url, host: req.headers.host });
      const mine = req.url === '/.well-known/acme-challenge/tok-web2';
      res.writeHead(mine ? 200 : 404, { 'content-type': 'application/octet-stream' });
      res.end(mine ? 'tok-web2.web2-thumbprint' : 'not mine');
    });
    await new Promise<void>((r) => web2.listen(0, HOST, r));
    closers.push(() => web2.close());
    const behind = (web2.address() as { port: number }).port;
    closers.push(
      await startStandaloneChallenges(HOST, front, {
        name: 'web2',
        address: HOST,
        port: behind,
        localAddress: HOST,
      }),
    );
    publishChallenge('tok-here', 'tok-here.proxy-thumbprint');
    // its own token: answered here, web2 never asked
    expect(await fetch80(front, '/.well-known/acme-challenge/tok-here')).toMatchObject({
      status: 200,
      body: 'tok-here.proxy-thumbprint',
    });
    expect(seen).toEqual([]);
    // web2's: relayed with the name the CA asked for, answered as web2 answered
    expect(await fetch80(front, '/.well-known/acme-challenge/tok-web2')).toMatchObject({
      status: 200,
      body: 'tok-web2.web2-thumbprint',
    });
    expect(await fetch80(front, '/.well-known/acme-challenge/nobody')).toMatchObject({
      status: 404,
      body: 'not mine',
    });
    expect(seen).toEqual([
      { path: '/.well-known/acme-challenge/tok-web2', host: 'www.example.test' },
      { path: '/.well-known/acme-challenge/nobody', host: 'www.example.test' },
    ]);
    // what is not a challenge is never relayed
    expect((await fetch80(front, '/index.html')).status).toBe(503);
    expect(seen).toHaveLength(2);
  });

  it('says which host it could not reach when the relay target is down', async () => {
    const front = await freePort();
    const nobody = await freePort();
    closers.push(
      await startStandaloneChallenges(HOST, front, {
        name: 'web2',
        address: HOST,
        port: nobody,
        localAddress: HOST,
      }),
    );
    const r = await fetch80(front, '/.well-known/acme-challenge/unknown');
    expect(r.status).toBe(502);
    expect(r.body).toMatch(/web2 cannot be reached \(ECONNREFUSED\)/);
  });

  it('closes its port, and the connections the CA kept open, when the order is over', async () => {
    const port = await freePort();
    const close = await startStandaloneChallenges(HOST, port);
    // a connection kept open, as the CA's keep-alive agent keeps one
    const kept = connect(port, HOST);
    await new Promise((r) => kept.once('connect', r));
    const ended = new Promise((r) => kept.once('close', r));
    close();
    await ended;
    await expect(fetch80(port, '/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // and the port is free again for the host's web server
    closers.push(await startStandaloneChallenges(HOST, port));
  });

  it('refuses to start on a port already taken, saying where', async () => {
    const port = await freePort();
    closers.push(await startStandaloneChallenges(HOST, port));
    await expect(startStandaloneChallenges(HOST, port)).rejects.toThrow(
      new RegExp(`cannot answer ACME challenges on ${HOST}:${port}: EADDRINUSE`),
    );
  });
});

describe('which failed orders a starting host makes again', () => {
  const problem = (type: string) =>
    new AcmeClientError('the CA could not validate www.example.test', {
      type: `urn:ietf:params:acme:error:${type}`,
    });
  it('tries again while the CA, the DNS or a port 80 is not up yet', () => {
    expect(isTransient(problem('connection'))).toBe(true);
    expect(isTransient(problem('dns'))).toBe(true);
    expect(isTransient(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(
      true,
    );
  });
  it('stops at once when the CA says no for any other reason', () => {
    for (const t of ['unauthorized', 'incorrectResponse', 'rejectedIdentifier', 'badCSR', 'malformed'])
      expect(isTransient(problem(t)), t).toBe(false);
    expect(isTransient(new Error('the ACME directory answered 404'))).toBe(false);
  });
});
