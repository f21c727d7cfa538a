/**
 * Reporting periods. The standard periods of an academic year are materialised on ingest (docs/design.md §3
 * "Periods and PA"): the year, the DfE census terms and each calendar week. PA is a threshold per
 * enrolment, so a period's PA can never be summed from shorter periods; any other period is computed
 * exactly from the marks.
 *
 * Census terms (DfE absence statistics): autumn 1 August – 31 December, spring 1 January – Easter
 * Sunday, summer Easter Monday – 31 July.
 */
import { academicYearEnd, academicYearStart, addDays, dayNumber, dayOfAcademicYear, weekStart } from './dates.js';

export type PeriodKind = 'year' | 'term' | 'week' | 'custom';

export interface Period {
  id: string;
  kind: PeriodKind;
  academicYear: number;
  /** Inclusive ISO dates, within the academic year. */
  from: string;
  to: string;
  label: string;
}

/** Easter Sunday (Gregorian; anonymous algorithm, Meeus/Jones/Butcher). */
export function easterSunday(year: number): string {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export function yearPeriod(academicYear: number): Period {
  return {
    id: 'year',
    kind: 'year',
    academicYear,
    from: academicYearStart(academicYear),
    to: academicYearEnd(academicYear),
    label: `${academicYear}/${String((academicYear + 1) % 100).padStart(2, '0')}`,
  };
}

export function termPeriods(academicYear: number): Period[] {
  const easter = easterSunday(academicYear + 1);
  return [
    {
      id: 'autumn',
      kind: 'term',
      academicYear,
      from: academicYearStart(academicYear),
      to: `${academicYear}-12-31`,
      label: 'Autumn term',
    },
    { id: 'spring', kind: 'term', academicYear, from: `${academicYear + 1}-01-01`, to: easter, label: 'Spring term' },
    {
      id: 'summer',
      kind: 'term',
      academicYear,
      from: addDays(easter, 1),
      to: academicYearEnd(academicYear),
      label: 'Summer term',
    },
  ];
}

/** Calendar weeks (Monday–Sunday) of the academic year, clipped to its first and last day; id = the Monday. */
export function weekPeriods(academicYear: number): Period[] {
  const start = academicYearStart(academicYear);
  const end = academicYearEnd(academicYear);
  const out: Period[] = [];
  for (let monday = weekStart(start); monday <= end; monday = addDays(monday, 7)) {
    const sunday = addDays(monday, 6);
    out.push({
      id: `week:${monday}`,
      kind: 'week',
      academicYear,
      from: monday < start ? start : monday,
      to: sunday > end ? end : sunday,
      label: `Week commencing ${monday}`,
    });
  }
  return out;
}

export function standardPeriods(academicYear: number): Period[] {
  return [yearPeriod(academicYear), ...termPeriods(academicYear), ...weekPeriods(academicYear)];
}

/** The Monday date of a week period id. */
export function weekOfPeriod(p: Period): string | undefined {
  return p.kind === 'week' ? p.id.slice(5) : undefined;
}

/** Day-slot range [fromDay, toDay] of a period within its academic year. */
export function dayRange(p: Period): [number, number] {
  return [dayOfAcademicYear(p.from), dayNumber(p.to) - dayNumber(academicYearStart(p.academicYear))];
}

export function customPeriod(academicYear: number, from: string, to: string): Period {
  const yFrom = academicYearStart(academicYear);
  const yTo = academicYearEnd(academicYear);
  return {
    id: `custom:${from}..${to}`,
    kind: 'custom',
    academicYear,
    from: from < yFrom ? yFrom : from,
    to: to > yTo ? yTo : to,
    label: `${from} to ${to}`,
  };
}
