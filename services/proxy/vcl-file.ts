// A workshop's own VCL: an ES module file named by LAB_PROXY_VCL whose default export overrides hooks
// and named rules of the default VCL (extendVcl). A bad file stops the proxy with its name and why.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultVcl, extendVcl, type Vcl } from './vcl.js';

const HOOKS = Object.keys(defaultVcl);

export interface LoadedVcl {
  vcl: Vcl;
  /** the file, or undefined for the default VCL */
  file?: string;
  /** the rules and hooks the file replaced or added */
  overridden: string[];
}

export async function loadVcl(file: string | undefined): Promise<LoadedVcl> {
  if (!file) return { vcl: defaultVcl, overridden: [] };
  const path = resolve(file);
  let mod: { default?: unknown };
  try {
    mod = await import(pathToFileURL(path).href);
  } catch (err) {
    throw new Error(`LAB_PROXY_VCL ${path}: cannot load it: ${(err as Error).message}`);
  }
  const over = mod.default;
  if (!over || typeof over !== 'object')
    throw new Error(`LAB_PROXY_VCL ${path}: the default export must be an object of hooks and rules`);
  const overridden: string[] = [];
  for (const [key, value] of Object.entries(over)) {
    if (!HOOKS.includes(key))
      throw new Error(`LAB_PROXY_VCL ${path}: "${key}" is not a hook (${HOOKS.join(', ')})`);
    if (key === 'recvRules' || key === 'berespRules') {
      for (const [name, rule] of Object.entries(value as object)) {
        if (typeof rule !== 'function')
          throw new Error(`LAB_PROXY_VCL ${path}: ${key}.${name} is not a function`);
        overridden.push(name);
      }
    } else if (typeof value !== 'function')
      throw new Error(`LAB_PROXY_VCL ${path}: ${key} is not a function`);
    else overridden.push(`vcl_${key}`);
  }
  return { vcl: extendVcl(defaultVcl, over as Parameters<typeof extendVcl>[1]), file: path, overridden };
}
