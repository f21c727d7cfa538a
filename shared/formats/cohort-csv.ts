/**
 * LA cohort list as CSV (docs/design.md §6): `upn, cohort, start_date, end_date`, one episode per row.
 *
 * - Header names are case-insensitive, in any order; other columns are ignored.
 * - `cohort` is one of cla, cin, cpp, plac (case-insensitive).
 * - Dates are `YYYY-MM-DD` or `DD/MM/YYYY`; `end_date` is optional and INCLUSIVE (the last day in
 *   the cohort); empty means the episode is still open.
 * - One record = one data row. A bad row is rejected with its line and field; the rest load.
 *   Overlapping rows for one pupil and cohort are not errors: membership is their union.
 */
import { LIMITS } from '../config.js';
import { csvFileError, normaliseHeaderName, readCsv } from './csv.js';
import {
  CARE_COHORTS,
  checkCareUpn,
  failedCareImport,
  lineRef,
  parseCareDate,
  shown,
  type CareCohort,
  type CareEpisode,
  type CareImport,
  type CareImportOptions,
  type CareRecordError,
} from './care-episodes.js';

export interface CohortCsvOptions extends CareImportOptions {
  /** Name used in error reports and episode refs (default 'cohort.csv'). */
  fileName?: string;
}

const REQUIRED = ['upn', 'cohort', 'start_date'] as const;

export function importCohortCsv(input: Buffer, options: CohortCsvOptions): CareImport {
  const file = options.fileName ?? 'cohort.csv';
  if (input.length > LIMITS.maxCohortUploadBytes) {
    return failedCareImport(file, {
      status: 413,
      code: 'file_too_large',
      title: 'File too large',
      detail: `the file is ${input.length} bytes; the limit is ${LIMITS.maxCohortUploadBytes} bytes`,
    });
  }
  const csv = readCsv(input);
  if (!csv.ok) return failedCareImport(file, csvFileError(csv.error), csv.error.line);

  const columns = new Map<string, number>();
  csv.header.forEach((name, index) => {
    const key = normaliseHeaderName(name);
    if (!columns.has(key)) columns.set(key, index);
  });
  const missing = REQUIRED.filter((c) => !columns.has(c));
  if (missing.length > 0) {
    return failedCareImport(
      file,
      {
        status: 422,
        code: 'missing_column',
        title: 'Missing column',
        detail: `the header (line ${csv.headerLine}) has no ${missing.join(', ')} column${missing.length > 1 ? 's' : ''}; expected upn, cohort, start_date, end_date`,
      },
      csv.headerLine,
    );
  }
  const col = (fields: string[], name: string): string => {
    const index = columns.get(name);
    return index === undefined ? '' : (fields[index] ?? '').trim();
  };

  const episodes: CareEpisode[] = [];
  const errors: CareRecordError[] = [];
  let rejected = 0;
  for (const { line, fields } of csv.records) {
    const rowErrors: CareRecordError[] = [];
    const bad = (field: string, code: string, message: string) => rowErrors.push({ file, line, field, code, message });
    const rawUpn = col(fields, 'upn');
    const upn = checkCareUpn(rawUpn);
    if (!upn.ok) bad('upn', upn.code, upn.message);

    const rawCohort = col(fields, 'cohort').toLowerCase();
    const cohort = (CARE_COHORTS as readonly string[]).includes(rawCohort) ? (rawCohort as CareCohort) : undefined;
    if (!cohort) {
      bad(
        'cohort',
        rawCohort === '' ? 'cohort_missing' : 'cohort_unknown',
        rawCohort === ''
          ? 'no cohort; expected cla, cin, cpp or plac'
          : `unknown cohort ${shown(col(fields, 'cohort'))}; expected cla, cin, cpp or plac`,
      );
    }

    const rawStart = col(fields, 'start_date');
    const start = rawStart === '' ? undefined : parseCareDate(rawStart);
    if (rawStart === '') bad('start_date', 'date_missing', 'no start_date');
    else if (!start)
      bad(
        'start_date',
        'invalid_date',
        `start_date ${shown(rawStart)} is not a date (expected YYYY-MM-DD or DD/MM/YYYY)`,
      );
    else if (start > options.today)
      bad('start_date', 'future_date', `start_date ${start} is after today (${options.today})`);

    const rawEnd = col(fields, 'end_date');
    const end = rawEnd === '' ? undefined : parseCareDate(rawEnd);
    if (rawEnd !== '' && !end)
      bad('end_date', 'invalid_date', `end_date ${shown(rawEnd)} is not a date (expected YYYY-MM-DD or DD/MM/YYYY)`);
    else if (end && start && end < start)
      bad('end_date', 'end_before_start', `end_date ${end} is before start_date ${start}`);

    if (rowErrors.length > 0 || !upn.ok || !cohort || !start) {
      errors.push(...rowErrors);
      rejected++;
      continue;
    }
    const episode: CareEpisode = { upn: upn.upn, cohort, start, source: 'cohort_csv', ref: lineRef(file, [line]) };
    if (end) episode.end = end;
    episodes.push(episode);
  }
  const records = csv.records.length;
  return { episodes, errors, counts: { records, accepted: records - rejected, rejected } };
}
