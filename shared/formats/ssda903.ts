/**
 * SSDA903 (children looked after return) as the LA's CSV extracts `header.csv` + `episodes.csv`
 * (docs/design.md §6), turned into `cla` and `plac` episodes.
 *
 * Rules:
 * - Dates are DD/MM/YYYY. Episodes join to children on CHILD; the UPN comes from header.csv.
 * - A child is looked after on a date when an episode has DECOM ≤ date and DEC empty or > date:
 *   the cla episode is DECOM … DEC − 1 day (inclusive), open when DEC is empty.
 * - A placement change is a new episode with DECOM = previous DEC: such contiguous episodes
 *   merge into one period of care. A gap starts a new period.
 * - Previously looked after (`plac`): a period of care that ended with REC = adoption (E11, E12),
 *   special guardianship order (E43, E44 before 2014; E45–E48) or residence / child arrangements
 *   order (E41) makes the child previously looked after from DEC, open — until the day before
 *   the child next becomes looked after, if that happens.
 * - One record = one row of episodes.csv. Rejected, each with its line and field:
 *   episodes of a child whose header row has no usable UPN (missing, an 'UN1'–'UN10' "UPN unknown"
 *   code, wrong check letter) — reported once on the header row, naming the episode lines skipped;
 *   episodes for a CHILD absent from header.csv; bad or future dates; DEC before DECOM; an episode
 *   overlapping an earlier one of the same child (the later is rejected, naming the earlier).
 */
import { addDays } from '../domain/dates.js';
import { LIMITS } from '../config.js';
import { csvFileError, normaliseHeaderName, readCsv, type FileError } from './csv.js';
import {
  checkCareUpn,
  failedCareImport,
  lineRef,
  parseCareDate,
  shown,
  type CareEpisode,
  type CareImport,
  type CareImportOptions,
  type CareRecordError,
} from './care-episodes.js';

/** REC codes after which a child is "previously looked after" (adoption, SGO, CAO / residence order). */
export const PLAC_REASONS: ReadonlyMap<string, string> = new Map([
  ['E11', 'adopted (application unopposed)'],
  ['E12', 'adopted (consent dispensed with by the court)'],
  ['E41', 'residence order / child arrangements order granted'],
  ['E43', 'special guardianship order (code used before April 2014)'],
  ['E44', 'special guardianship order (code used before April 2014)'],
  ['E45', 'special guardianship order to former foster carers who are relatives or friends'],
  ['E46', 'special guardianship order to former foster carers, not relatives or friends'],
  ['E47', 'special guardianship order to other carers who are relatives or friends'],
  ['E48', 'special guardianship order to other carers, not relatives or friends'],
]);

export interface Ssda903Input {
  header: Buffer;
  episodes: Buffer;
}

export interface Ssda903Options extends CareImportOptions {
  fileNames?: { header?: string; episodes?: string };
}

interface HeaderChild {
  line: number;
  upn?: string;
  /** Set when the child's episodes cannot be loaded. */
  problem?: { field: string; code: string; message: string };
}

interface EpisodeRow {
  line: number;
  child: string;
  decom: string;
  dec?: string;
  rec: string;
}

export function importSsda903(input: Ssda903Input, options: Ssda903Options): CareImport {
  const headerFile = options.fileNames?.header ?? 'header.csv';
  const episodesFile = options.fileNames?.episodes ?? 'episodes.csv';
  for (const [file, buffer] of [
    [headerFile, input.header],
    [episodesFile, input.episodes],
  ] as const) {
    if (buffer.length > LIMITS.maxCohortUploadBytes) {
      return failedCareImport(file, tooLarge(buffer.length));
    }
  }

  const header = readTable(input.header, headerFile, ['CHILD', 'UPN']);
  if (!header.ok) return header.failure;
  const episodesTable = readTable(input.episodes, episodesFile, ['CHILD', 'DECOM', 'DEC', 'REC']);
  if (!episodesTable.ok) return episodesTable.failure;

  const errors: CareRecordError[] = [];

  // header.csv: one row per child.
  const children = new Map<string, HeaderChild>();
  for (const row of header.rows) {
    const child = row.get('CHILD');
    if (child === '') {
      errors.push({
        file: headerFile,
        line: row.line,
        field: 'CHILD',
        code: 'child_missing',
        message: 'no CHILD identifier: the row cannot be joined to episodes',
      });
      continue;
    }
    const previous = children.get(child);
    if (previous) {
      const message = `CHILD ${shown(child)} appears twice in ${headerFile} (lines ${previous.line} and ${row.line}): its episodes are not loaded`;
      previous.problem = { field: 'CHILD', code: 'duplicate_child', message };
      continue;
    }
    const upn = checkCareUpn(row.get('UPN'));
    children.set(
      child,
      upn.ok
        ? { line: row.line, upn: upn.upn }
        : { line: row.line, problem: { field: 'UPN', code: upn.code, message: upn.message } },
    );
  }

  // episodes.csv: validate each row on its own.
  const byChild = new Map<string, EpisodeRow[]>();
  const skippedByChild = new Map<string, number[]>();
  let rejected = 0;
  for (const row of episodesTable.rows) {
    const child = row.get('CHILD');
    const rowErrors: CareRecordError[] = [];
    const bad = (field: string, code: string, message: string) =>
      rowErrors.push({ file: episodesFile, line: row.line, record: child || undefined, field, code, message });

    const rawDecom = row.get('DECOM');
    const decom = parseCareDate(rawDecom, ['uk']);
    if (rawDecom === '') bad('DECOM', 'date_missing', 'no DECOM (date episode commenced)');
    else if (!decom) bad('DECOM', 'invalid_date', `DECOM ${shown(rawDecom)} is not a date (expected DD/MM/YYYY)`);
    else if (decom > options.today) bad('DECOM', 'future_date', `DECOM ${decom} is after today (${options.today})`);
    const rawDec = row.get('DEC');
    const dec = rawDec === '' ? undefined : parseCareDate(rawDec, ['uk']);
    if (rawDec !== '' && !dec) bad('DEC', 'invalid_date', `DEC ${shown(rawDec)} is not a date (expected DD/MM/YYYY)`);
    else if (dec && dec > options.today) bad('DEC', 'future_date', `DEC ${dec} is after today (${options.today})`);
    else if (dec && decom && dec < decom) bad('DEC', 'dec_before_decom', `DEC ${dec} is before DECOM ${decom}`);

    if (child === '') bad('CHILD', 'child_missing', 'no CHILD identifier');
    const known = child === '' ? undefined : children.get(child);
    if (child !== '' && !known) {
      bad(
        'CHILD',
        'child_not_in_header',
        `CHILD ${shown(child)} is not in ${headerFile}: no UPN to match the episode to`,
      );
    }
    if (rowErrors.length > 0 || !decom) {
      errors.push(...rowErrors);
      rejected++;
      continue;
    }
    if (known?.problem) {
      // Reported once, on the header row, below.
      const list = skippedByChild.get(child) ?? [];
      list.push(row.line);
      skippedByChild.set(child, list);
      rejected++;
      continue;
    }
    const list = byChild.get(child) ?? [];
    list.push({ line: row.line, child, decom, dec, rec: row.get('REC').toUpperCase() });
    byChild.set(child, list);
  }

  for (const [child, info] of children) {
    if (!info.problem) continue;
    const skipped = skippedByChild.get(child) ?? [];
    const tail =
      skipped.length === 0
        ? ''
        : `; ${skipped.length} episode${skipped.length > 1 ? 's' : ''} not loaded (${lineRef(episodesFile, skipped)})`;
    errors.push({
      file: headerFile,
      line: info.line,
      record: child,
      field: info.problem.field,
      code: info.problem.code,
      message: info.problem.message + tail,
    });
  }

  // Per child: order, reject overlaps, merge contiguous episodes into periods of care.
  const episodes: CareEpisode[] = [];
  for (const [child, rows] of byChild) {
    const upn = children.get(child)?.upn as string;
    rows.sort((a, b) => (a.decom < b.decom ? -1 : a.decom > b.decom ? 1 : a.line - b.line));
    const kept: EpisodeRow[] = [];
    for (const row of rows) {
      const last = kept[kept.length - 1];
      if (last && (last.dec === undefined || row.decom < last.dec)) {
        errors.push({
          file: episodesFile,
          line: row.line,
          record: child,
          field: 'DECOM',
          code: 'overlapping_episodes',
          message: `episode starting ${row.decom} overlaps the episode on line ${last.line} (${last.decom} to ${last.dec ?? 'open'}); it is not loaded`,
        });
        rejected++;
        continue;
      }
      kept.push(row);
    }
    const periods: EpisodeRow[][] = [];
    for (const row of kept) {
      const current = periods[periods.length - 1];
      const last = current?.[current.length - 1];
      if (last && last.dec === row.decom) current.push(row);
      else periods.push([row]);
    }
    periods.forEach((period, k) => {
      const first = period[0];
      const last = period[period.length - 1];
      const ref = lineRef(
        episodesFile,
        period.map((r) => r.line),
      );
      // DEC is the first day no longer looked after; a same-day episode covers no date.
      if (last.dec === undefined || last.dec > first.decom) {
        const cla: CareEpisode = { upn, cohort: 'cla', start: first.decom, source: 'ssda903', ref };
        if (last.dec !== undefined) cla.end = addDays(last.dec, -1);
        episodes.push(cla);
      }
      if (last.dec !== undefined && PLAC_REASONS.has(last.rec)) {
        const plac: CareEpisode = {
          upn,
          cohort: 'plac',
          start: last.dec,
          source: 'ssda903',
          ref: `${ref} (REC ${last.rec})`,
        };
        const next = periods[k + 1];
        if (next) plac.end = addDays(next[0].decom, -1);
        if (plac.end === undefined || plac.end >= plac.start) episodes.push(plac);
      }
    });
  }

  const records = episodesTable.rows.length;
  errors.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
  return { episodes, errors, counts: { records, accepted: records - rejected, rejected } };
}

function tooLarge(bytes: number): FileError {
  return {
    status: 413,
    code: 'file_too_large',
    title: 'File too large',
    detail: `the file is ${bytes} bytes; the limit is ${LIMITS.maxCohortUploadBytes} bytes`,
  };
}

interface TableRow {
  line: number;
  get(column: string): string;
}

type Table = { ok: true; rows: TableRow[] } | { ok: false; failure: CareImport };

/** Read a CSV whose header must hold the given (case-insensitive) columns. */
function readTable(input: Buffer, file: string, required: readonly string[]): Table {
  const csv = readCsv(input);
  if (!csv.ok) return { ok: false, failure: failedCareImport(file, csvFileError(csv.error), csv.error.line) };
  const columns = new Map<string, number>();
  csv.header.forEach((name, index) => {
    const key = normaliseHeaderName(name);
    if (!columns.has(key)) columns.set(key, index);
  });
  const missing = required.filter((c) => !columns.has(normaliseHeaderName(c)));
  if (missing.length > 0) {
    return {
      ok: false,
      failure: failedCareImport(
        file,
        {
          status: 422,
          code: 'missing_column',
          title: 'Missing column',
          detail: `${file}: the header (line ${csv.headerLine}) has no ${missing.join(', ')} column${missing.length > 1 ? 's' : ''} (is this the right SSDA903 file?)`,
        },
        csv.headerLine,
      ),
    };
  }
  const rows = csv.records.map(({ line, fields }) => ({
    line,
    get(column: string): string {
      const index = columns.get(normaliseHeaderName(column));
      return index === undefined ? '' : (fields[index] ?? '').trim();
    },
  }));
  return { ok: true, rows };
}
