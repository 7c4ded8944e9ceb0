// A workshop's VCL file, at start (LAB_PROXY_VCL) and at run time (`lab cache vcl use`, the scenario
// action cache.vcl): compiled from its text, refused with file:line and why when it is not a VCL.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultVcl } from '../../../services/proxy/vcl.js';
import { compileVcl, loadVcl, VclError, vclUseArgs } from '../../../services/proxy/vcl-file.js';
import { proxyRequest } from '../../support/proxy-request.js';

const dir = mkdtempSync(join(tmpdir(), 'vcl-file-'));
const work = join(dir, 'work');
const req = proxyRequest;
/** the error compileVcl refuses a text with */
const refusal = (text: string, file = '/workshop/my.mjs') =>
  compileVcl(file, text, work).then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: unknown) => err as VclError,
  );

describe('a VCL file', () => {
  it('overrides the rules and hooks it names, reports them, and is named after its file', async () => {
    const file = join(dir, 'workshop.mjs');
    writeFileSync(
      file,
      "export default { recvRules: { vcl_req_cookie: () => undefined }, hash: (r) => r.host + r.url.split('?')[0] };\n",
    );
    const loaded = await loadVcl(file, work);
    expect(loaded.overridden).toEqual(['vcl_req_cookie', 'vcl_hash']);
    expect(loaded.file).toBe(file);
    expect(loaded.vcl.name).toBe('workshop.mjs');
    expect(loaded.vcl.recv(req({ headers: { cookie: 'a=1' } })).action).toBe('hash');
    expect(loaded.vcl.hash(req({ url: '/a?utm=1' }))).toBe('www.example.test/a');
    expect(Object.keys(loaded.vcl.recvRules)).toHaveLength(4);
    expect((await loadVcl(undefined, work)).vcl).toBe(defaultVcl);
  });

  it('loads the same file name again with its new text (vcl.load of an edited file)', async () => {
    const a = await compileVcl('/workshop/edit.mjs', "export default { hash: () => 'one' };\n", work);
    const b = await compileVcl('/workshop/edit.mjs', "export default { hash: () => 'two' };\n", work);
    expect([a.vcl.hash(req()), b.vcl.hash(req())]).toEqual(['one', 'two']);
  });

  it('refuses a key that is not a hook, naming the file and the line it is on', async () => {
    const err = await refusal(
      '// a "recieve" in a comment is not the key\nexport default {\n  recieve() {},\n};\n',
    );
    expect(err).toBeInstanceOf(VclError);
    expect([err.file, err.line]).toEqual(['/workshop/my.mjs', 3]);
    expect(err.message).toMatch(
      /^\/workshop\/my\.mjs:3: "recieve" is not a hook \(recvRules, berespRules, recv,/,
    );
    expect((await refusal('export default {\n  recvRules: {\n    vcl_req_x: 1,\n  },\n};\n')).message).toBe(
      '/workshop/my.mjs:3: recvRules.vcl_req_x is not a function',
    );
    expect((await refusal("export default { hash: 'x' };\n")).message).toBe(
      '/workshop/my.mjs:1: hash is not a function',
    );
    expect((await refusal('export const recv = () => {};\n')).message).toMatch(
      /default export must be an object/,
    );
  });

  it('refuses a file that does not parse, with the line of the syntax error', async () => {
    const err = await refusal('export default {\n  hash(req) {\n    return req.host +;\n  },\n};\n');
    expect(err.message).toMatch(/^\/workshop\/my\.mjs:3: does not parse: Unexpected token/);
  });

  it('refuses a file that throws as it loads, or whose recv or hash fails on a plain GET', async () => {
    expect((await refusal("\nthrow new Error('no');\n")).message).toBe(
      '/workshop/my.mjs:2: fails as it loads: no',
    );
    const throwing = await refusal(
      'export default {\n  recvRules: {\n    vcl_req_lang(req) {\n      return req.headers.cookie.includes("x") ? undefined : undefined;\n    },\n  },\n};\n',
    );
    expect(throwing.line).toBe(4);
    expect(throwing.message).toMatch(/throws on GET \/: Cannot read properties of undefined/);
    expect((await refusal("export default {\n  recv: () => ({ action: 'cache' }),\n};\n")).message).toMatch(
      /^\/workshop\/my\.mjs:2: recv answered \{"action":"cache"\} for GET \/, not one of hash, pass, pipe, synth/,
    );
    expect((await refusal('export default {\n  hash: () => 42,\n};\n')).message).toMatch(
      /^\/workshop\/my\.mjs:2: hash answered 42 for GET \/, not a key/,
    );
  });

  it('reads a file for the control command, or says which file it cannot read', () => {
    const file = join(dir, 'use.mjs');
    writeFileSync(file, 'export default {};\n');
    expect(vclUseArgs(file)).toEqual({ file, text: 'export default {};\n' });
    expect(vclUseArgs('default')).toEqual({ default: true });
    expect(() => vclUseArgs(join(dir, 'missing.mjs'))).toThrow(/missing\.mjs: cannot read it: ENOENT/);
  });

  it('refuses a text larger than a VCL file may be', async () => {
    expect((await refusal(`// ${'x'.repeat(300_000)}\nexport default {};\n`)).message).toMatch(
      /^\/workshop\/my\.mjs: \d+ bytes, more than a VCL file may be/,
    );
  });
});
