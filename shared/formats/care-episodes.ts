import { isIsoDate } from '../domain/dates.js';
import { checkUpn } from '../domain/upn.js';
import type { FileError } from './csv.js';

/**
 * The common output of the LA social-care importers (SSDA903, CIN census, cohort CSV): dated
 * episodes of cohort membership (docs/design.md §2.4), plus per-record errors. A pupil is in the cohort
 * on every date from `start` to `end` inclusive; an open episode (no `end`) runs to today.
 */

export type CareCohort = 'cla' | 'cin' | 'cpp' | 'plac';

export const CARE_COHORTS: readonly CareCohort[] = ['cla', 'cin', 'cpp', 'plac'];

export type CareSource = 'ssda903' | 'cin_census' | 'cohort_csv';

export interface CareEpisode {
  upn: string;
  cohort: CareCohort;
  /** First day in the cohort (ISO date). */
  start: string;
  /** INCLUSIVE last day in the cohort; undefined = open (runs to today). */
  end?: string;
  source: CareSource;
  /** Where it came from, for reports, e.g. 'episodes.csv lines 7–8'. */
  ref: string;
}

export interface CareRecordError {
  /** File name as uploaded or conventional ('header.csv', 'episodes.csv', 'cin-census.xml'). */
  file: string;
  /** Line the record (or the offending field) is on; the header is line 1. */
  line: number;
  /** The record's own reference when it has one (SSDA903 CHILD, CIN LAchildID, a UPN). */
  record?: string;
  field: string;
  /** Stable machine code, e.g. 'upn_check_letter'. */
  code: string;
  message: string;
}

export interface CareImportCounts {
  /** Records read (see each importer for what one record is). */
  records: number;
  /** Records loaded: each contributed its episodes (possibly none, e.g. a no-further-action referral). */
  accepted: number;
  /** Records not loaded; each is named by at least one error. */
  rejected: number;
}

export interface CareImport {
  episodes: CareEpisode[];
  errors: CareRecordError[];
  counts: CareImportCounts;
  /** Set when the upload could not be read at all (nothing imported; `errors` holds the same). */
  fileError?: FileError;
}

export interface CareImportOptions {
  /** Today's date (ISO): dates after it are errors. */
  today: string;
}

/** The result for an upload that cannot be read at all. */
export function failedCareImport(file: string, fileError: FileError, line = 1): CareImport {
  return {
    episodes: [],
    errors: [{ file, line, field: '', code: fileError.code, message: fileError.detail }],
    counts: { records: 0, accepted: 0, rejected: 0 },
    fileError,
  };
}

/**
 * A date as social-care systems write it: ISO `YYYY-MM-DD` or UK `DD/MM/YYYY` (one- or two-digit
 * day and month). Returns the ISO date, or undefined when it is not a real calendar date.
 */
export function parseCareDate(raw: string, formats: readonly ('iso' | 'uk')[] = ['iso', 'uk']): string | undefined {
  const s = raw.trim();
  if (formats.includes('iso') && /^\d{4}-\d{2}-\d{2}$/.test(s)) return isIsoDate(s) ? s : undefined;
  const uk = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s);
  if (formats.includes('uk') && uk) {
    const iso = `${uk[3]}-${uk[2].padStart(2, '0')}-${uk[1].padStart(2, '0')}`;
    return isIsoDate(iso) ? iso : undefined;
  }
  return undefined;
}

/** Short, safe echo of a value in a message. */
export function shown(value: string, max = 20): string {
  const flat = value.replace(/[\r\n\t]+/g, ' ');
  return flat.length > max ? `'${flat.slice(0, max)}…'` : `'${flat}'`;
}

/** UPN-unknown codes used by the SSDA903 and CIN census returns (UN1 … UN10). */
const UPN_UNKNOWN = /^UN([1-9]|10)$/i;

export type CareUpnCheck = { ok: true; upn: string } | { ok: false; code: string; message: string };

/**
 * A UPN as held by children's social care. Without a valid UPN a child cannot be matched to any
 * school register, so every importer rejects that child's records and says why.
 */
export function checkCareUpn(raw: string | undefined): CareUpnCheck {
  const value = (raw ?? '').trim();
  if (value === '')
    return { ok: false, code: 'upn_missing', message: 'no UPN: the child cannot be matched to school registers' };
  if (UPN_UNKNOWN.test(value)) {
    return {
      ok: false,
      code: 'upn_unknown',
      message: `UPN unknown code ${shown(value.toUpperCase())}: the child cannot be matched to school registers`,
    };
  }
  const check = checkUpn(value);
  if (check.ok) return { ok: true, upn: check.upn };
  const code = /check letter/.test(check.message) ? 'upn_check_letter' : 'upn_format';
  return { ok: false, code, message: `UPN ${shown(value)} is not valid: ${check.message}` };
}

/** 'episodes.csv line 7' or 'episodes.csv lines 7, 8, 12' (at most six listed). */
export function lineRef(file: string, lines: readonly number[]): string {
  if (lines.length === 1) return `${file} line ${lines[0]}`;
  const listed = lines.length > 6 ? `${lines.slice(0, 6).join(', ')} …` : lines.join(', ');
  return `${file} lines ${listed}`;
}
