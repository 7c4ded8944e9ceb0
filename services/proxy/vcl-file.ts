// A workshop's own VCL: an ES module whose default export overrides hooks and named rules of the
// default VCL (extendVcl). Loaded at start (LAB_PROXY_VCL) or at run time (`lab cache vcl use`, like
// varnishadm vcl.load + vcl.use). A file is compiled from its text, so the proxy needs no access to
// the workshop's folder (the docker runtime): it must be one self-contained module (node: imports
// allowed). A bad file is refused with its name, the line when there is one, and why; the VCL in use
// stays.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { defaultVcl, extendVcl, type ProxyRequest, type Vcl } from './vcl.js';

const run = promisify(execFile);
/** the hooks and rule tables a file may set (name is the loader's) */
const HOOKS = Object.keys(defaultVcl).filter((k) => k !== 'name');
const ACTIONS = ['hash', 'pass', 'pipe', 'synth'];
/** larger than any VCL a workshop writes; the text travels over the control channel */
export const MAX_VCL_BYTES = 256 * 1024;

export interface LoadedVcl {
  vcl: Vcl;
  /** where the text came from (as the workshop named it), or undefined for the default VCL */
  file?: string;
  /** the rules and hooks the file replaced or added */
  overridden: string[];
}

/** A refused VCL: `file:line: why`, as a compiler says it. */
export class VclError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    why: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${why}`);
  }
}

export const DEFAULT_LOADED: LoadedVcl = { vcl: defaultVcl, overridden: [] };

/** LAB_PROXY_VCL at start: the file, or the default VCL when unset. */
export async function loadVcl(file: string | undefined, workDir: string): Promise<LoadedVcl> {
  if (!file) return DEFAULT_LOADED;
  const args = vclUseArgs(file);
  return 'text' in args ? compileVcl(args.file, args.text, workDir) : DEFAULT_LOADED;
}

/** What the proxy answers to cache.vcl and cache.vcl.use (varnishadm vcl.list). */
export interface VclInfo {
  name: string;
  file: string | null;
  overridden: string[];
  recvRules: string[];
  berespRules: string[];
}

/**
 * The arguments of the control command cache.vcl.use for a file on this machine (`lab cache vcl
 * use`, the scenario action cache.vcl): its text travels, so the proxy may run elsewhere (docker).
 * "default" goes back to the built-in VCL.
 */
export function vclUseArgs(file: string): { file: string; text: string } | { default: true } {
  if (file === 'default') return { default: true };
  const path = resolve(file);
  try {
    return { file: path, text: readFileSync(path, 'utf8') };
  } catch (err) {
    throw new VclError(path, undefined, `cannot read it: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

let loads = 0;

/**
 * vcl.load: the text of a VCL file, checked as Varnish compiles one before use: it must parse, export
 * only known hooks and rules, and its recv and hash must answer a plain GET. `file` names it in
 * errors and events; `workDir` holds the module this text is loaded from.
 */
export async function compileVcl(file: string, text: string, workDir: string): Promise<LoadedVcl> {
  const fail = (why: string, line?: number): never => {
    throw new VclError(file, line, why);
  };
  if (Buffer.byteLength(text) > MAX_VCL_BYTES)
    fail(`${Buffer.byteLength(text)} bytes, more than a VCL file may be (${MAX_VCL_BYTES})`);
  // a new module each time: import() would hand back the first one loaded from the same URL
  mkdirSync(workDir, { recursive: true });
  const copy = join(workDir, `${++loads}-${basename(file).replace(/[^\w.-]/g, '_')}`);
  writeFileSync(copy, text);
  /** the line in the workshop's file that an error's stack points at */
  const lineOf = (err: unknown) => lineAfter(copy, String((err as Error)?.stack));
  let mod: { default?: unknown };
  try {
    mod = await import(pathToFileURL(copy).href);
  } catch (err) {
    const syntax = await syntaxError(copy);
    if (syntax) fail(`does not parse: ${syntax.message}`, syntax.line);
    return fail(`fails as it loads: ${(err as Error).message}`, lineOf(err));
  }
  const over = mod.default;
  if (!over || typeof over !== 'object')
    fail('its default export must be an object of hooks and rules (export default { … })');
  /** the line where a key is first written as a property (`key(`, `key:`), for errors about it */
  const lineOfKey = (key: string) => {
    const i = text.search(new RegExp(`\\b${key.replace(/\$/g, '\\$')}['"]?\\s*[(:]`));
    return i < 0 ? undefined : text.slice(0, i).split('\n').length;
  };
  const overridden: string[] = [];
  for (const [key, value] of Object.entries(over as object)) {
    if (!HOOKS.includes(key)) fail(`"${key}" is not a hook (${HOOKS.join(', ')})`, lineOfKey(key));
    if (key === 'recvRules' || key === 'berespRules') {
      if (!value || typeof value !== 'object')
        fail(`${key} must be an object of named rules`, lineOfKey(key));
      for (const [name, rule] of Object.entries(value as object)) {
        if (typeof rule !== 'function') fail(`${key}.${name} is not a function`, lineOfKey(name));
        overridden.push(name);
      }
    } else if (typeof value !== 'function') fail(`${key} is not a function`, lineOfKey(key));
    else overridden.push(`vcl_${key}`);
  }
  const vcl = extendVcl(defaultVcl, { ...(over as Parameters<typeof extendVcl>[1]), name: basename(file) });
  // a first request through recv and hash: a rule that throws on every request is refused now
  const probe: ProxyRequest = {
    method: 'GET',
    host: 'www.example.test',
    url: '/',
    headers: { host: 'www.example.test', 'user-agent': 'vcl.load' },
    clientIp: '127.0.0.1',
    tls: true,
  };
  try {
    const recv = vcl.recv(probe);
    if (!recv || !ACTIONS.includes(recv.action))
      fail(
        `recv answered ${JSON.stringify(recv)} for GET /, not one of ${ACTIONS.join(', ')}`,
        lineOfKey(recv?.rule ?? 'recv'),
      );
    const hash = vcl.hash(probe);
    if (typeof hash !== 'string' || !hash)
      fail(`hash answered ${JSON.stringify(hash)} for GET /, not a key`, lineOfKey('hash'));
  } catch (err) {
    if (err instanceof VclError) throw err;
    fail(`throws on GET /: ${(err as Error).message}`, lineOf(err));
  }
  return { vcl, file, overridden };
}

/** node --check: the syntax error in a file and its line, which import() does not say. */
async function syntaxError(path: string): Promise<{ message: string; line?: number } | undefined> {
  try {
    await run(process.execPath, ['--check', path], { timeout: 10_000 });
    return undefined;
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '');
    const message = /^SyntaxError: (.*)$/m.exec(stderr)?.[1];
    return message ? { message, line: lineAfter(path, stderr) } : undefined;
  }
}

/** The N in "<where>:N" in a stack trace or compiler message. */
function lineAfter(where: string, text: string): number | undefined {
  const at = text.indexOf(`${where}:`);
  const m = at < 0 ? null : /^\d+/.exec(text.slice(at + where.length + 1));
  return m ? Number(m[0]) : undefined;
}
