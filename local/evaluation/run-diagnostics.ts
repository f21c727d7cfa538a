/**
 * The one runner the diagnostics scripts share (holiday-, family- and school-diagnostics.ts; issue 21,
 * seventh pass): the same options, the same varied LAs as `npm run evaluate`, and the per-seed,
 * per-date loop, so each script only says what it prints for one LA as of one date.
 *
 *   --seeds a,b            varied LA seeds (default varied-1)
 *   --dates d1,d2          scoring dates (default the evaluation's four)
 *   --schools N --pupils N LA size (default the evaluation's: 24 schools, about 8,000 pupils)
 *   --out FILE             JSON lines the script returns for each date, for trying rules offline
 * and each script's own boolean switches (`switches`).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { VARIED_DATES, VARIED_DEFAULTS } from './varied-evaluation.js';
import { generateVariedLa, type VariedLa } from './varied-la.js';

/** What a script does for one LA as of one date: prints what it wants, returns its JSON lines for `--out`. */
export type DiagnoseAsOf = (la: VariedLa, date: string, switches: Readonly<Record<string, boolean>>) => string[];

/** Parses the shared options and the script's `switches`, then runs `diagnose` per seed and date. */
export function runDiagnostics(
  switches: readonly string[],
  diagnose: DiagnoseAsOf,
  args: readonly string[] = process.argv.slice(2),
): void {
  const { values } = parseArgs({
    args: [...args],
    options: {
      seeds: { type: 'string' },
      dates: { type: 'string' },
      schools: { type: 'string' },
      pupils: { type: 'string' },
      out: { type: 'string' },
      ...Object.fromEntries(switches.map((s) => [s, { type: 'boolean' as const }])),
    },
  });
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const seeds = (text(values.seeds) ?? 'varied-1').split(',');
  const dates = text(values.dates)?.split(',') ?? [...VARIED_DATES];
  const schools = Number(text(values.schools) ?? VARIED_DEFAULTS.schools);
  const pupils = Number(text(values.pupils) ?? VARIED_DEFAULTS.pupils);
  const parsed: Record<string, unknown> = values;
  const on = Object.fromEntries(switches.map((s) => [s, parsed[s] === true]));
  const out = text(values.out);
  const rows: string[] = [];
  for (const seed of seeds) {
    process.stderr.write(`${seed}: generating…\n`);
    const la = generateVariedLa({ seed, schools, pupils });
    process.stderr.write(`${seed}: ${la.pupils.size} pupils\n`);
    for (const date of dates) rows.push(...diagnose(la, date, on));
  }
  if (out) writeFileSync(out, rows.length > 0 ? `${rows.join('\n')}\n` : '');
}
