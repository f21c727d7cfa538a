/**
 * `generate`: write a synthetic LA (docs/synthetic-la.md).
 *
 *   npm run --silent cli -- generate --schools 30 --pupils 8000 --from 2025-09-01 --to 2026-03-20 --seed demo --out .tmp/la
 *
 * Options: --schools N, --pupils M, --from/--to YYYY-MM-DD (one academic year; default: this
 * academic year to yesterday, or last year in August), --seed S (default 'demo'), --out DIR (required), --la-code 999,
 * --characteristics every-row|on-change, --force (replace a synthetic LA already in DIR).
 * Progress goes to stderr, the summary (JSON) to stdout.
 */
import { academicYearOf, addDays, todayInEngland } from '../../shared/domain/dates.js';
import { generateLa, type GenerateProgress } from '../../local/synthetic/index.js';
import { numberOption, parseArgs, stringOption } from './args.js';

const USAGE =
  'usage: generate --out DIR [--schools 30] [--pupils 8000] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--seed S] [--la-code 999] [--characteristics every-row|on-change] [--force]';

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed.options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const out = stringOption(parsed, 'out');
  if (!out) {
    process.stderr.write(`--out is required\n${USAGE}\n`);
    return 2;
  }
  const yesterday = addDays(todayInEngland(), -1);
  // Default: this academic year to yesterday; in August (no term yet), the whole of last year.
  let from = `${academicYearOf(yesterday)}-09-01`;
  let to = yesterday;
  if (from > to) {
    from = `${academicYearOf(yesterday) - 1}-09-01`;
    to = `${academicYearOf(yesterday)}-07-31`;
  }
  const characteristics = stringOption(parsed, 'characteristics', 'every-row');
  if (characteristics !== 'every-row' && characteristics !== 'on-change') {
    process.stderr.write(`--characteristics must be every-row or on-change, got '${characteristics}'\n`);
    return 2;
  }
  const started = performance.now();
  const progress = progressBar();
  try {
    const summary = await generateLa({
      schools: numberOption(parsed, 'schools', 30),
      pupils: numberOption(parsed, 'pupils', 8000),
      from: stringOption(parsed, 'from', from) as string,
      to: stringOption(parsed, 'to', to) as string,
      seed: stringOption(parsed, 'seed', 'demo') as string,
      out,
      laCode: stringOption(parsed, 'la-code'),
      characteristics,
      overwrite: parsed.options.force === true,
      onProgress: progress,
    });
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(
      `\nwrote ${summary.files.total} returns (${summary.rows.daily.toLocaleString('en-GB')} rows, ${mb(summary.bytes)}) for ${summary.schools.inArea} schools and ${summary.pupils.total} pupils in ${seconds.toFixed(1)} s\n`,
    );
    process.stdout.write(`${JSON.stringify({ ...summary, seconds: Number(seconds.toFixed(1)) }, null, 2)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`\ngenerate failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}

/** A one-line bar on a terminal; a line per tenth otherwise (logs stay short). */
function progressBar(): (p: GenerateProgress) => void {
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  return (p) => {
    if (p.stage !== 'returns' || p.days === 0) return;
    const share = p.day / p.days;
    const text = `${p.date} ${String(Math.round(share * 100)).padStart(3)}% ${p.files} files ${p.rows.toLocaleString('en-GB')} rows ${mb(p.bytes)}`;
    if (tty) {
      const width = 30;
      const done = Math.round(share * width);
      process.stderr.write(`\r[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${text}`);
    } else {
      const tenth = Math.floor(share * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`${text}\n`);
      }
    }
  };
}
