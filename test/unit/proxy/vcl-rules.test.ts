// VCL a workshop edits: named rules like builtin.vcl's, each overridable alone (VCL files: vcl-file.test.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmitter, type LabEvent } from '../../../services/common/events.js';
import type { Backend } from '../../../services/proxy/backend.js';
import { handleRequest } from '../../../services/proxy/flow.js';
import { ObjectStore } from '../../../services/proxy/store.js';
import { defaultVcl, extendVcl, type Vcl } from '../../../services/proxy/vcl.js';
import { compileVcl } from '../../../services/proxy/vcl-file.js';
import { proxyRequest } from '../../support/proxy-request.js';

const req = proxyRequest;

function run(vcl: Vcl) {
  const events: LabEvent[] = [];
  let fetches = 0;
  const backend: Backend = {
    fetch: async () => ({
      status: 200,
      headers: { 'cache-control': 'max-age=60', 'set-cookie': 'a=1' },
      body: Buffer.from(`body ${++fetches}`),
      ms: 1,
    }),
    healthy: () => true,
    close: () => {},
  };
  const deps = {
    vcl,
    store: new ObjectStore(1 << 20),
    backend,
    events: createEmitter('proxy', (line) => events.push(JSON.parse(line))),
    backendHeaders: () => ({}),
  };
  return { deps, events, fetches: () => fetches };
}

describe('vcl_recv and vcl_backend_response as named rules (builtin.vcl)', () => {
  it('runs the rules in builtin.vcl order and names the one that decided', () => {
    expect(Object.keys(defaultVcl.recvRules)).toEqual([
      'vcl_req_host',
      'vcl_req_method',
      'vcl_req_authorization',
      'vcl_req_cookie',
    ]);
    expect(defaultVcl.recv(req({ headers: { cookie: 'a=1' } }))).toMatchObject({
      action: 'pass',
      rule: 'vcl_req_cookie',
    });
    expect(defaultVcl.recv(req({ method: 'PROPFIND' }))).toMatchObject({
      action: 'pipe',
      rule: 'vcl_req_method',
    });
    expect(defaultVcl.recv(req())).toEqual({ action: 'hash' });
    expect(
      defaultVcl.backendResponse(req(), { status: 200, headers: { 'set-cookie': 'a=1' } }, 0),
    ).toMatchObject({ ttl: -1, rule: 'vcl_beresp_cookie' });
  });

  it('caches despite cookies when a workshop switches off two rules, and the events name the rules', async () => {
    const cookies = extendVcl(defaultVcl, {
      recvRules: { vcl_req_cookie: () => undefined },
      berespRules: { vcl_beresp_cookie: () => undefined },
    });
    const withCookie = req({ url: '/cookies', headers: { cookie: 'a=1' } });
    const a = run(cookies);
    await handleRequest(a.deps, withCookie, 0);
    const again = await handleRequest(a.deps, withCookie, 1000);
    expect([again.xCache, a.fetches()]).toEqual(['HIT', 1]);
    const b = run(defaultVcl);
    await handleRequest(b.deps, withCookie, 0);
    expect(b.events.find((e) => e.kind === 'cache.lookup')?.data).toMatchObject({
      result: 'pass',
      rule: 'vcl_req_cookie',
    });
    await handleRequest(b.deps, req({ url: '/set-cookie' }), 0);
    expect(b.events.find((e) => e.kind === 'cache.uncacheable')?.data).toMatchObject({
      rule: 'vcl_beresp_cookie',
    });
  });

  it('runs vcl_recv once per request: the state machine takes the decision it is given', async () => {
    let calls = 0;
    const counting = extendVcl(defaultVcl, {
      recv(r) {
        calls++;
        return defaultVcl.recv.call(this, r);
      },
    });
    const { deps } = run(counting);
    const decided = counting.recv(req({ url: '/once' }));
    await handleRequest(deps, req({ url: '/once' }), 0, decided);
    expect(calls).toBe(1);
  });
});

describe('the VCL in the events', () => {
  it('names the VCL that handled each lookup: a workshop file once it is loaded, else the default', async () => {
    const loaded = await compileVcl(
      '/workshop/cookies.mjs',
      'export default { recvRules: { vcl_req_cookie: () => undefined } };\n',
      mkdtempSync(join(tmpdir(), 'vcl-')),
    );
    const withCookie = req({ url: '/named', headers: { cookie: 'a=1' } });
    const a = run(loaded.vcl);
    await handleRequest(a.deps, withCookie, 0);
    const b = run(defaultVcl);
    await handleRequest(b.deps, withCookie, 0);
    const lookup = (events: LabEvent[]) => events.find((e) => e.kind === 'cache.lookup')?.data;
    expect(lookup(a.events)).toMatchObject({ result: 'miss', vcl: 'cookies.mjs' });
    expect(lookup(b.events)).toMatchObject({ result: 'pass', rule: 'vcl_req_cookie', vcl: 'default' });
  });
});
