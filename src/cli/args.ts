// Small helpers for the command-line parser.

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** "10MB" / "10M" / "1.5e7" / "10MiB" -> bytes (decimal SI unless "i"). */
export function parseSize(s: string): number {
  const m = /^([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*([kmgtp]?)(i?)b?(?:\/s)?$/i.exec(s.trim());
  if (!m) throw new UsageError(`not a size: ${s}`);
  const base = m[3] ? 1024 : 1000;
  const exp = ' kmgtp'.indexOf((m[2] || ' ').toLowerCase());
  return Number(m[1]) * base ** Math.max(0, exp);
}

export function parseNumber(s: string | undefined, what: string): number {
  const v = Number(s);
  if (s === undefined || s === '' || !Number.isFinite(v))
    throw new UsageError(`${what} needs a number, got ${s ?? 'nothing'}`);
  return v;
}

/**
 * Reads leading options from argv: `--name value`, `--name=value` or a flag. Stops at the first
 * argument that is not a known option (or at "--", which is consumed only if `consumeDashDash`).
 */
export function takeOptions(
  argv: string[],
  spec: Record<string, 'flag' | 'value' | 'list'>,
  opts: { stopAtUnknown: boolean },
): { values: Record<string, string | boolean | string[]>; rest: string[] } {
  const values: Record<string, string | boolean | string[]> = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const kind = spec[name];
    if (!kind) {
      if (opts.stopAtUnknown) break;
      if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
      break;
    }
    const key = name.replace(/^-+/, '');
    if (kind === 'flag') {
      if (eq > 0 && a.startsWith('--')) throw new UsageError(`${name} takes no value`);
      values[key] = true;
      continue;
    }
    let v: string | undefined;
    if (eq > 0 && a.startsWith('--')) v = a.slice(eq + 1);
    else v = argv[++i];
    if (v === undefined) throw new UsageError(`${name} needs a value`);
    if (kind === 'list') ((values[key] ??= []) as string[]).push(v);
    else values[key] = v;
  }
  return { values, rest: argv.slice(i) };
}
