// Routes with placeholders, requirements, methods and defaults; 405 with Allow when only the method
// is wrong (JOURNEY 28).
import { HttpException } from './http.js';

export interface Route {
  name: string;
  path: string;
  controller: string;
  methods?: string[];
  requirements?: Record<string, string>;
  defaults?: Record<string, string>;
}

interface Compiled extends Route {
  regex: RegExp;
  vars: string[];
}

export class Router {
  private readonly compiled: Compiled[];
  constructor(routes: Route[]) {
    this.compiled = routes.map((r) => {
      const vars: string[] = [];
      const pattern = r.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, v: string) => {
        vars.push(v);
        return `(${r.requirements?.[v] ?? '[^/]+'})`;
      });
      return { ...r, vars, regex: new RegExp(`^${pattern}$`) };
    });
  }

  /** The route's attributes for a path and method, or a 404/405 HttpException. */
  match(path: string, method: string): Record<string, string> & { _route: string; _controller: string } {
    const allowed = new Set<string>();
    for (const r of this.compiled) {
      const m = r.regex.exec(path);
      if (!m) continue;
      const methods = r.methods ?? ['GET', 'HEAD'];
      if (!methods.includes(method)) {
        for (const x of methods) allowed.add(x);
        continue;
      }
      const attrs: Record<string, string> = { ...r.defaults };
      r.vars.forEach((v, i) => {
        attrs[v] = decodeURIComponent(m[i + 1]);
      });
      return { ...attrs, _route: r.name, _controller: r.controller };
    }
    if (allowed.size)
      throw new HttpException(405, `${method} is not allowed for ${path}`, {
        allow: [...allowed].join(', '),
      });
    throw new HttpException(404, `no route matches ${method} ${path}`);
  }
}
