// Terminal output: colour only on a TTY (and not with NO_COLOR), quiet structure when piped.
const useColor = () => process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb';

function paint(code: number) {
  return (s: string) => (useColor() ? `\x1b[${code}m${s}\x1b[0m` : s);
}

export const color = {
  bold: paint(1),
  dim: paint(2),
  red: paint(31),
  green: paint(32),
  yellow: paint(33),
  cyan: paint(36),
};

export interface Printer {
  heading(text: string): void;
  story(text: string): void;
  info(text: string): void;
  say(text: string): void;
  step(n: number, text: string): void;
  outcome(ok: boolean, detail?: string, lines?: string[]): void;
  check(ok: boolean, line: string): void;
  note(text: string): void;
  result(verdict: 'passed' | 'failed' | 'skipped', detail: string): void;
  failure(text: string): void;
}

export function terminalPrinter(write: (s: string) => void = (s) => process.stdout.write(s)): Printer {
  const line = (s: string) => write(`${s}\n`);
  return {
    heading: (t) => line(color.bold(`▶ ${t}`)),
    story: (t) => {
      for (const l of t.split('\n')) line(color.dim(`  ${l}`));
    },
    info: (t) => line(color.dim(`  · ${t}`)),
    say: (t) => line(`  ${color.cyan('»')} ${t}`),
    step: (n, t) => line(n > 0 ? `  ${color.bold(`${n}.`)} ${t}` : `  ${color.bold('•')} ${t}`),
    outcome: (ok, detail, lines) => {
      line(`     ${ok ? color.green('ok') : color.red('FAILED')}${detail ? ` ${detail}` : ''}`);
      for (const l of lines ?? []) line(`       ${l}`);
    },
    check: (ok, l) => line(`     ${ok ? color.green('✓') : color.red('✗')} ${l}`),
    note: (t) => line(`       ${color.dim(t)}`),
    result: (v, d) => {
      const tag =
        v === 'passed'
          ? color.green('PASSED')
          : v === 'failed'
            ? color.red('FAILED')
            : color.yellow('SKIPPED');
      line(`${tag} ${d}`);
    },
    failure: (t) => line(`  ${color.red('✗')} ${t}`),
  };
}
