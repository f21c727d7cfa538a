/** Minimal `--name value` / `--flag` parsing for the CLI commands (no dependency needed for this). */
export interface ParsedArgs {
  positional: string[];
  options: Record<string, string | true>;
}

export function parseArgs(args: string[]): ParsedArgs {
  const positional: string[] = [];
  const options: Record<string, string | true> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) {
        options[a.slice(2, eq)] = a.slice(eq + 1);
      } else if (i + 1 < args.length && !args[i + 1].startsWith('--')) {
        options[a.slice(2)] = args[++i];
      } else {
        options[a.slice(2)] = true;
      }
    } else {
      positional.push(a);
    }
  }
  return { positional, options };
}

export function stringOption(parsed: ParsedArgs, name: string, fallback?: string): string | undefined {
  const v = parsed.options[name];
  return typeof v === 'string' ? v : fallback;
}

export function numberOption(parsed: ParsedArgs, name: string, fallback: number): number {
  const v = parsed.options[name];
  if (typeof v !== 'string') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got '${v}'`);
  return n;
}
