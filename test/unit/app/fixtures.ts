/** A pupil for the use-case tests: present for ten days at one school, then absent (unauthorised) for ten at another. */
import { MARK_CHAR } from '../../../shared/domain/codes.js';
import { addDays, isWeekend, sessionIndex } from '../../../shared/domain/dates.js';
import { summarisePupilYear, type Enrolment } from '../../../shared/domain/pupil-summary.js';
import { CHARACTERISTICS, EMPTY_MARKS, NOT_STATED, type Characteristic } from '../../../shared/domain/register.js';
import { makeUpn } from '../../../shared/domain/upn.js';
import { MemoryPupils } from './memory.js';

export const UPN = makeUpn('999400125001');
export const YEAR = 2025;
export const A = '100001';
export const B = '100002';

export function enrolment(urn: string, from: string, days: number, code: string): Enrolment {
  const marks = EMPTY_MARKS.split('');
  const dates: string[] = [];
  for (let d = from; dates.length < days; d = addDays(d, 1)) if (!isWeekend(d)) dates.push(d);
  for (const d of dates) for (const s of ['AM', 'PM'] as const) marks[sessionIndex(d, s)] = MARK_CHAR[code];
  const stated = Object.fromEntries(CHARACTERISTICS.map((c) => [c, NOT_STATED.repeat(366)])) as Record<
    Characteristic,
    string
  >;
  return {
    upn: UPN,
    urn,
    academicYear: YEAR,
    registration: 'C',
    firstListed: dates[0],
    lastListed: dates[dates.length - 1],
    marks: marks.join(''),
    stated,
    forename: 'Ada',
    surname: 'Lovelace',
  };
}

/** A child who was 10 days present at A, then 10 days absent (unauthorised) at B. */
export function pupilAtTwoSchools(): MemoryPupils {
  const pupils = new MemoryPupils();
  const enrolments = [enrolment(A, '2025-09-01', 10, '/'), enrolment(B, '2025-09-15', 10, 'O')];
  const summary = summarisePupilYear(UPN, YEAR, enrolments, [], { atRiskLowerPercent: 5, emergingWeeks: 4 });
  pupils.records.set(UPN, {
    upn: UPN,
    version: 1,
    computedAt: '2025-10-01T00:00:00Z',
    enrolmentKeys: [`${YEAR}#${A}`, `${YEAR}#${B}`],
    enrolments,
    years: { [YEAR]: summary },
  });
  return pupils;
}
