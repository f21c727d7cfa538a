/**
 * Part-time timetables (code C2, "temporarily reduced timetable"; issue 20): which pupils are on
 * one, since when, how many C2 sessions a week, and for how many school weeks so far — flagged
 * once past the review limit the LA sets (default six school weeks).
 *
 * - A **school week** is a calendar week (Monday–Sunday) with at least one school session at the
 *   school (docs/design.md §2.3); weeks without one (holidays) are skipped, so a half term neither ends a
 *   timetable nor counts towards it.
 * - A **part-time timetable** is a run of consecutive school weeks in each of which the pupil has
 *   at least one C2 session; a school week without C2 ends it. The latest run is reported.
 * - **Weeks so far**: the school weeks of the run. Exactly six weeks (Monday of the first to
 *   Friday of the sixth) is not past a limit of six; six weeks and a day (into a seventh school
 *   week) is.
 * - **Current**: the run's last week is the week of the last date the school listed the pupil.
 *
 * Within one school's register for one academic year (a timetable restarts in September).
 */
import { MARK_CHAR } from './codes.js';
import { dateOfAcademicDay, dayOfAcademicYear, weekdayIndex } from './dates.js';
import type { SchoolRegister } from './register.js';

const C2 = MARK_CHAR.C2;

export interface PartTimeTimetable {
  upn: string;
  urn: string;
  forename?: string;
  surname?: string;
  yearGroup?: string;
  /** First C2 session's date in the run. */
  start: string;
  /** Last C2 session's date in the run. */
  latest: string;
  weeks: number;
  c2Sessions: number;
  /** C2 sessions in the run's last school week. */
  sessionsLatestWeek: number;
  /** Mean C2 sessions per school week over the run (one decimal place). */
  sessionsPerWeek: number;
  current: boolean;
}

/**
 * The latest part-time timetable of every pupil on the register with a C2 session.
 * `sessionDays`: the school's session days (one flag per day slot of the academic year).
 */
export function partTimeTimetables(register: SchoolRegister, sessionDays: Uint8Array): PartTimeTimetable[] {
  const year = register.academicYear;
  // School weeks: index of each day slot's school week (−1 when its week has no school session).
  const weekOfDay = new Int32Array(sessionDays.length).fill(-1);
  let week = -1;
  let weekStartSlot = -Infinity;
  for (let d = 0; d < sessionDays.length; d++) {
    const monday = d - weekdayIndex(dateOfAcademicDay(year, d));
    if (monday !== weekStartSlot) {
      weekStartSlot = monday;
      // A week is a school week when any of its days (within the year) has sessions.
      let school = false;
      for (let i = Math.max(0, monday); i < Math.min(sessionDays.length, monday + 7); i++)
        if (sessionDays[i]) school = true;
      if (school) week++;
      for (let i = Math.max(0, monday); i < Math.min(sessionDays.length, monday + 7); i++)
        weekOfDay[i] = school ? week : -1;
    }
  }

  const out: PartTimeTimetable[] = [];
  for (const p of register.pupils.values()) {
    const m = p.marks;
    if (m.indexOf(C2) < 0) continue;
    // C2 sessions per school week.
    const perWeek = new Map<number, number>();
    const firstOfWeek = new Map<number, number>();
    const lastOfWeek = new Map<number, number>();
    for (let s = 0; s < m.length; s++) {
      if (m[s] !== C2) continue;
      const w = weekOfDay[s >> 1];
      if (w < 0) continue;
      perWeek.set(w, (perWeek.get(w) ?? 0) + 1);
      if (!firstOfWeek.has(w)) firstOfWeek.set(w, s >> 1);
      lastOfWeek.set(w, s >> 1);
    }
    if (perWeek.size === 0) continue;
    const weeks = [...perWeek.keys()].sort((a, b) => a - b);
    // The latest run of consecutive school weeks.
    let startIdx = weeks.length - 1;
    while (startIdx > 0 && weeks[startIdx - 1] === weeks[startIdx] - 1) startIdx--;
    const run = weeks.slice(startIdx);
    const c2Sessions = run.reduce((n, w) => n + (perWeek.get(w) ?? 0), 0);
    const lastWeek = run[run.length - 1];
    const lastListedWeek = weekOfDay[dayOfAcademicYear(p.lastListed)] ?? -1;
    out.push({
      upn: p.upn,
      urn: register.urn,
      ...(p.forename !== undefined ? { forename: p.forename } : {}),
      ...(p.surname !== undefined ? { surname: p.surname } : {}),
      ...(p.yearGroup !== undefined ? { yearGroup: p.yearGroup } : {}),
      start: dateOfAcademicDay(year, firstOfWeek.get(run[0])!),
      latest: dateOfAcademicDay(year, lastOfWeek.get(lastWeek)!),
      weeks: run.length,
      c2Sessions,
      sessionsLatestWeek: perWeek.get(lastWeek) ?? 0,
      sessionsPerWeek: Math.round((c2Sessions / run.length) * 10) / 10,
      current: lastWeek === lastListedWeek,
    });
  }
  return out.sort((a, b) => b.weeks - a.weeks || (a.upn < b.upn ? -1 : 1));
}

/** Past the review limit: more school weeks than the LA's limit. */
export function pastReviewLimit(t: Pick<PartTimeTimetable, 'weeks'>, reviewWeeks: number): boolean {
  return t.weeks > reviewWeeks;
}
