/**
 * A school's data quality beside its unmarked sessions: `N` (reason not yet provided) that stays
 * unresolved (docs/design.md §2.5 as corrected by issue 22; the schools' policies and the statutory guidance
 * "Working together to improve school attendance": a school should establish the reason for an absence
 * and replace `N` with the right code within 5 school days).
 *
 * `N` is a data-quality fact, not an offence: it does not count towards the penalty-notice threshold
 * (by default; LaSettings.penaltyNoticeCodes), and a session still coded `N` once more than the LA's
 * limit of school days (LaSettings.unresolvedNSchoolDays, default 5) have passed since it is
 * **unresolved**. Counting: the school days strictly after the session's date up to and including
 * today, by the school's calendar (its register for the dates it covers, then its own and the LA's
 * term dates, bank holidays never; calendar.ts). With N on Monday and a limit of 5, the school has until
 * the following Monday (the fifth school day after it); on the Tuesday it is unresolved. A correction
 * of the mark (to `I`, say) removes it at once, since the list is recomputed from the register.
 *
 * Public API: `NSession`, `sessionsCodedN(register)`, `nSessionsByDate(sessions)`,
 * `schoolDaysSince(cal, date, today)`, `unresolvedNSessions(sessions, cal, today, limit)`,
 * `countUnresolvedN(byDate, cal, today, limit)`.
 */
import { MARK_CHAR } from './codes.js';
import { addDays, dateOfAcademicDay } from './dates.js';
import { countSchoolDays, type SchoolCalendar } from './calendar.js';
import type { SchoolRegister } from './register.js';

/** One session a school holds coded `N`. */
export interface NSession {
  upn: string;
  date: string;
  session: 'AM' | 'PM';
}

const N_MARK = MARK_CHAR.N;

/** Every session the register holds coded `N`, by pupil then date. Linear in the register. */
export function sessionsCodedN(register: SchoolRegister): NSession[] {
  const out: NSession[] = [];
  for (const pupil of register.pupils.values()) {
    const m = pupil.marks;
    let i = m.indexOf(N_MARK);
    while (i >= 0) {
      out.push({
        upn: pupil.upn,
        date: dateOfAcademicDay(register.academicYear, i >> 1),
        session: i & 1 ? 'PM' : 'AM',
      });
      i = m.indexOf(N_MARK, i + 1);
    }
  }
  return out.sort((a, b) =>
    a.upn < b.upn
      ? -1
      : a.upn > b.upn
        ? 1
        : a.date < b.date
          ? -1
          : a.date > b.date
            ? 1
            : a.session < b.session
              ? -1
              : 1,
  );
}

/** Sessions coded `N` per date: what a school's record keeps so that any day's count can be given. */
export function nSessionsByDate(sessions: readonly NSession[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of sessions) out[s.date] = (out[s.date] ?? 0) + 1;
  return out;
}

/** School days strictly after `date`, up to and including `today` (0 when today is not after it). */
export function schoolDaysSince(cal: SchoolCalendar, date: string, today: string): number {
  return today > date ? countSchoolDays(cal, addDays(date, 1), today) : 0;
}

/** An `N` unresolved as at `today`: more than `limit` school days have passed since its session. */
export interface UnresolvedN extends NSession {
  schoolDaysSince: number;
}

/** The sessions still coded `N` after more than `limit` school days, oldest first. */
export function unresolvedNSessions(
  sessions: readonly NSession[],
  cal: SchoolCalendar,
  today: string,
  limit: number,
): UnresolvedN[] {
  const byDate = new Map<string, number>();
  const out: UnresolvedN[] = [];
  for (const s of sessions) {
    let days = byDate.get(s.date);
    if (days === undefined) byDate.set(s.date, (days = schoolDaysSince(cal, s.date, today)));
    if (days > limit) out.push({ ...s, schoolDaysSince: days });
  }
  return out.sort((a, b) =>
    a.date < b.date
      ? -1
      : a.date > b.date
        ? 1
        : a.upn < b.upn
          ? -1
          : a.upn > b.upn
            ? 1
            : a.session < b.session
              ? -1
              : 1,
  );
}

/** How many sessions of `byDate` (nSessionsByDate) are unresolved as at `today`. */
export function countUnresolvedN(
  byDate: Readonly<Record<string, number>>,
  cal: SchoolCalendar,
  today: string,
  limit: number,
): number {
  let n = 0;
  for (const [date, count] of Object.entries(byDate)) if (schoolDaysSince(cal, date, today) > limit) n += count;
  return n;
}
