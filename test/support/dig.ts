// Running real clients from tests: dig, with its output parsed just enough to assert on.
import { execFileSync } from 'node:child_process';

export interface DigResult {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  ede: string[];
  server: string;
  raw: string;
}

function section(raw: string, name: string): string[] {
  const m = new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(raw);
  return m
    ? m[1]
        .split('\n')
        .filter((l) => l && !l.startsWith(';'))
        .map((l) => l.replace(/\s+/g, ' ').trim())
    : [];
}

export function dig(args: string[], opts: { timeoutMs?: number } = {}): DigResult {
  const raw = execFileSync('dig', ['+nocookie', '+time=2', '+tries=1', ...args], {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 15_000,
  });
  return {
    status: /status: (\w+)/.exec(raw)?.[1] ?? 'NONE',
    flags: (/;; flags: ([a-z ]+);/.exec(raw)?.[1] ?? '').trim().split(/\s+/),
    answer: section(raw, 'ANSWER'),
    authority: section(raw, 'AUTHORITY'),
    additional: section(raw, 'ADDITIONAL'),
    ede: [...raw.matchAll(/; EDE: (.*)/g)].map((m) => m[1]),
    server: /;; SERVER: (.+)/.exec(raw)?.[1] ?? '',
    raw,
  };
}
