/**
 * Compulsory school age (docs/design.md §2.5; Education Act 1996 s.8 and the Education (Start of
 * Compulsory School Age) Order 1998; the Education (School Leaving Date) Order 1997).
 *
 * A child is of compulsory school age from the prescribed day — 31 August, 31 December or
 * 31 March — on or after their fifth birthday (the birthday itself when it is a prescribed day),
 * to the end of the school leaving date (the last Friday in June) of the school year in which they
 * turn 16. The school year runs from 1 September, so a child whose sixteenth birthday falls between
 * 1 September and 31 August leaves on the last Friday of the June inside that span.
 *
 * The statutory triggers (penalty-notice threshold, continuous unauthorised absence, children
 * missing education, 15 days' illness) apply only on dates inside this span. It is not the
 * statistics' `compulsory` population (aged 5–15 on the 31 August before the academic year),
 * which the DfE uses for reporting figures; see cohorts.ts.
 *
 * date-fns (with UTCDate, so no time zone can move a date) does the calendar arithmetic; a
 * pupil's span is computed once and hot paths compare ISO strings against it.
 */
import { UTCDate } from '@date-fns/utc';
import { addYears, format, getDay, lastDayOfMonth, subDays } from 'date-fns';
import { isIsoDate } from './dates.js';

export interface CompulsorySchoolAge {
  /** First date of compulsory school age (ISO). */
  from: string;
  /** Last date of compulsory school age, inclusive (ISO): the school leaving date. */
  to: string;
}

function utc(iso: string): UTCDate {
  const [y, m, d] = iso.split('-').map(Number);
  return new UTCDate(y, m - 1, d);
}

function iso(d: Date): string {
  return format(d, 'yyyy-MM-dd');
}

/** The prescribed day on or after the date: 31 March, 31 August or 31 December. */
function prescribedDayOnOrAfter(date: UTCDate): UTCDate {
  const y = date.getFullYear();
  for (const candidate of [new UTCDate(y, 2, 31), new UTCDate(y, 7, 31), new UTCDate(y, 11, 31)]) {
    if (candidate >= date) return candidate;
  }
  return new UTCDate(y + 1, 2, 31);
}

/** The last Friday in June of a calendar year (the school leaving date). */
export function schoolLeavingDate(year: number): string {
  const endOfJune = lastDayOfMonth(new UTCDate(year, 5, 1));
  const back = (getDay(endOfJune) - 5 + 7) % 7; // getDay: 0 = Sunday … 5 = Friday
  return iso(subDays(endOfJune, back));
}

/** The span of compulsory school age for a date of birth, or undefined when it is not a valid date. */
export function compulsorySchoolAge(dob: string): CompulsorySchoolAge | undefined {
  if (!isIsoDate(dob)) return undefined;
  const birth = utc(dob);
  const fifth = addYears(birth, 5);
  const sixteenth = addYears(birth, 16);
  // The school year containing the sixteenth birthday ends in the calendar year of the birthday
  // when it falls before September, otherwise in the next one.
  const leavingYear = sixteenth.getMonth() >= 8 ? sixteenth.getFullYear() + 1 : sixteenth.getFullYear();
  return { from: iso(prescribedDayOnOrAfter(fifth)), to: schoolLeavingDate(leavingYear) };
}

/**
 * Whether a pupil is of compulsory school age on a date. `undefined` when the date of birth is
 * unknown or invalid: callers flag as before but say "age unknown", so the officer checks.
 */
export function isOfCompulsorySchoolAge(dob: string | undefined, date: string): boolean | undefined {
  if (dob === undefined || dob === '') return undefined;
  const span = compulsorySchoolAge(dob);
  if (!span) return undefined;
  return date >= span.from && date <= span.to;
}
