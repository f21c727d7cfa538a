/**
 * A pupil's sessions across every school and academic year held, in date order, and the pupil's
 * school weeks (docs/design.md §2.3). The National Framework triggers (national-framework.ts) and the
 * threshold-gaming detectors read this one merged timeline.
 *
 * School week: a calendar week (Monday–Sunday) containing at least one school session at a school
 * where the pupil is on roll (between admission and leaving dates when given, otherwise between the
 * first and last dates that school's returns list the pupil). Weeks without one are skipped.
 * - A school's sessions come from its session days (`${academicYear}#${urn}` → one byte per day
 *   slot, non-zero where its register holds any mark other than `#` for any pupil).
 * - When a school's session days for a year are not supplied, the pupil's own marks at that school
 *   stand in for them (a lower bound: every such mark is a school session by definition).
 * - A week in which the pupil holds a possible mark at any school is always a school week: the mark
 *   is itself a school session at a school listing the pupil, so no counted session is ever dropped.
 *
 * Sessions across schools: one effective mark per (date, session). When more than one school holds a
 * mark for the same session (dual registration normally gives `D` at one of them), the most
 * favourable mark for the pupil wins: attendance (present or approved activity) over authorised
 * absence over unauthorised absence over not possible / administrative. A pupil can be in only one
 * place, so an `N` at one school cannot outweigh a `/` at the other, and one absence is never counted
 * twice. Equal ranks go to the single/main registration, then the lower URN (deterministic).
 *
 * Everything here works on the stored mark strings and typed arrays: no object per session.
 */
import { CODE_CATEGORY, CODE_OF_CHAR, MARK_CHAR } from './codes.js';
import {
  academicYearLength,
  academicYearStart,
  dayNumber,
  DAYS_PER_YEAR_SLOT,
  fromDayNumber,
  SESSIONS_PER_YEAR_SLOT,
  type Session,
} from './dates.js';
import type { Enrolment } from './pupil-summary.js';

// Module-local copies: hot loops read these directly, not through an import binding.
const SLOTS: number = SESSIONS_PER_YEAR_SLOT;
const DAY_SLOTS: number = DAYS_PER_YEAR_SLOT;

/** The fields of an enrolment the timeline reads (an `Enrolment` satisfies it). */
export type TimelineEnrolment = Pick<
  Enrolment,
  'urn' | 'academicYear' | 'registration' | 'admissionDate' | 'leavingDate' | 'firstListed' | 'lastListed' | 'marks'
>;

/** Session days per `${academicYear}#${urn}`: DAYS_PER_YEAR_SLOT entries, non-zero on a school day. */
export type SessionDaysByKey = ReadonlyMap<string, Uint8Array>;

/** Rank of a stored mark character when schools disagree about one session (higher wins). */
const RANK_NONE = 0;
const RANK_NOT_POSSIBLE = 1;
export const RANK_UNAUTHORISED = 2;
const RANK_AUTHORISED = 3;
const RANK_ATTENDED = 4;

/** Stored mark char code → rank; 0 for no row, unmarked and anything unknown. */
export const MARK_RANK: Uint8Array = (() => {
  const table = new Uint8Array(128);
  for (const [code, category] of Object.entries(CODE_CATEGORY)) {
    const ch = MARK_CHAR[code].charCodeAt(0);
    table[ch] =
      category === 'present' || category === 'approved_activity'
        ? RANK_ATTENDED
        : category === 'authorised'
          ? RANK_AUTHORISED
          : category === 'unauthorised'
            ? RANK_UNAUTHORISED
            : RANK_NOT_POSSIBLE;
  }
  return table;
})();

export interface PupilTimeline {
  /** First academic year held; slot i belongs to year `firstYear + floor(i / SESSIONS_PER_YEAR_SLOT)`. */
  firstYear: number;
  /** Academic years covered (firstYear … firstYear + years − 1). */
  years: number;
  /** Day number (days since 1970-01-01) of 1 August of each year covered. */
  yearStartDay: Int32Array;
  /** Real days in each year covered (365 or 366); slots beyond are never used. */
  yearLength: Int32Array;
  /**
   * The effective stored mark per session slot (years × SESSIONS_PER_YEAR_SLOT, slot = day × 2 + PM),
   * as a char code; 0 where no school holds a mark.
   */
  marks: Uint8Array;
  /** Per slot, the index in `urns` of the school whose mark is effective. */
  school: Uint8Array;
  /** URNs of the pupil's schools, in tie-break order. */
  urns: string[];
  /** Monday (day number) of the first calendar week covered. */
  firstMonday: number;
  /** Per calendar week from `firstMonday`: the school-week ordinal, or −1 when not a school week. */
  weekOrdinal: Int32Array;
  /** Monday (day number) of each school week, ascending; `weeks[k]` is school week k. */
  weeks: Int32Array;
  /**
   * Per day slot (years × DAYS_PER_YEAR_SLOT): 1 when a school where the pupil is on roll held a
   * session that day (or the pupil holds a possible mark that day), else 0.
   */
  schoolDay: Uint8Array;
  /** Last slot holding a possible mark at any school, or −1. */
  lastPossibleSlot: number;
  /** Last slot holding any mark (possible, not possible or administrative) at any school, or −1. */
  lastMarkedSlot: number;
}

const EMPTY_TIMELINE: PupilTimeline = {
  firstYear: 0,
  years: 0,
  yearStartDay: new Int32Array(0),
  yearLength: new Int32Array(0),
  marks: new Uint8Array(0),
  school: new Uint8Array(0),
  urns: [],
  firstMonday: 0,
  weekOrdinal: new Int32Array(0),
  weeks: new Int32Array(0),
  schoolDay: new Uint8Array(0),
  lastPossibleSlot: -1,
  lastMarkedSlot: -1,
};

const NO_ROW = '.'.charCodeAt(0);
const NOT_MARKED = '-'.charCodeAt(0);
const CLOSED = '#'.charCodeAt(0);

function mondayOf(day: number): number {
  return day - ((((day + 3) % 7) + 7) % 7);
}

/** Single and main registrations before subsidiary ones, then by URN. */
function tieBreakOrder(a: TimelineEnrolment, b: TimelineEnrolment): number {
  const ra = a.registration === 'S' ? 1 : 0;
  const rb = b.registration === 'S' ? 1 : 0;
  if (ra !== rb) return ra - rb;
  return a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : a.academicYear - b.academicYear;
}

/**
 * Merge every enrolment (all schools, all academic years) into one timeline with the pupil's school
 * weeks. Linear in (years × SESSIONS_PER_YEAR_SLOT × enrolments).
 */
export function pupilTimeline(enrolments: readonly TimelineEnrolment[], sessionDays: SessionDaysByKey): PupilTimeline {
  if (enrolments.length === 0) return EMPTY_TIMELINE;
  let firstYear = Infinity;
  let lastYear = -Infinity;
  for (const e of enrolments) {
    if (e.academicYear < firstYear) firstYear = e.academicYear;
    if (e.academicYear > lastYear) lastYear = e.academicYear;
  }
  const years = lastYear - firstYear + 1;
  const yearStartDay = new Int32Array(years);
  const yearLength = new Int32Array(years);
  for (let y = 0; y < years; y++) {
    yearStartDay[y] = dayNumber(academicYearStart(firstYear + y));
    yearLength[y] = academicYearLength(firstYear + y);
  }

  const ordered = [...enrolments].sort(tieBreakOrder);
  const urns: string[] = [];
  const urnIndex = new Map<string, number>();
  for (const e of ordered) {
    if (!urnIndex.has(e.urn)) {
      urnIndex.set(e.urn, urns.length);
      urns.push(e.urn);
    }
  }

  const marks = new Uint8Array(years * SLOTS);
  const school = new Uint8Array(years * SLOTS);
  const firstMonday = mondayOf(yearStartDay[0]);
  const lastDay = yearStartDay[years - 1] + yearLength[years - 1] - 1;
  const calendarWeeks = Math.floor((lastDay - firstMonday) / 7) + 1;
  const isSchoolWeek = new Uint8Array(calendarWeeks);
  const schoolDay = new Uint8Array(years * DAY_SLOTS);

  for (const e of ordered) {
    const y = e.academicYear - firstYear;
    const base = y * SLOTS;
    const dayBase = y * DAY_SLOTS;
    const start = yearStartDay[y];
    const len = yearLength[y];
    const ix = urnIndex.get(e.urn) as number;
    const m = e.marks;
    const n = Math.min(m.length, len * 2);
    for (let s = 0; s < n; s++) {
      const ch = m.charCodeAt(s);
      if (ch >= 128) continue;
      const rank = MARK_RANK[ch];
      if (rank === RANK_NONE) continue;
      if (rank > MARK_RANK[marks[base + s]]) {
        marks[base + s] = ch;
        school[base + s] = ix;
      }
      if (rank >= RANK_UNAUTHORISED) schoolDay[dayBase + (s >> 1)] = 1;
    }

    // The school's sessions while the pupil is on roll.
    const lo = Math.max(0, dayNumber(e.admissionDate ?? e.firstListed) - start);
    const hi = Math.min(len - 1, dayNumber(e.leavingDate ?? e.lastListed) - start);
    const days = sessionDays.get(`${e.academicYear}#${e.urn}`);
    if (days) {
      for (let d = lo; d <= hi; d++) if (days[d]) schoolDay[dayBase + d] = 1;
    } else {
      for (let d = lo; d <= hi && d * 2 + 1 < m.length; d++) {
        const am = m.charCodeAt(d * 2);
        const pm = m.charCodeAt(d * 2 + 1);
        if (
          (am !== NO_ROW && am !== NOT_MARKED && am !== CLOSED) ||
          (pm !== NO_ROW && pm !== NOT_MARKED && pm !== CLOSED)
        )
          schoolDay[dayBase + d] = 1;
      }
    }
  }

  for (let y = 0; y < years; y++) {
    const offset = yearStartDay[y] - firstMonday;
    for (let d = 0, dayBase = y * DAY_SLOTS; d < yearLength[y]; d++) {
      if (schoolDay[dayBase + d]) isSchoolWeek[((offset + d) / 7) | 0] = 1;
    }
  }

  const weekOrdinal = new Int32Array(calendarWeeks);
  let count = 0;
  for (let w = 0; w < calendarWeeks; w++) count += isSchoolWeek[w];
  const weeks = new Int32Array(count);
  for (let w = 0, k = 0; w < calendarWeeks; w++) {
    if (isSchoolWeek[w]) {
      weekOrdinal[w] = k;
      weeks[k++] = firstMonday + w * 7;
    } else {
      weekOrdinal[w] = -1;
    }
  }

  let lastPossibleSlot = -1;
  for (let i = marks.length - 1; i >= 0; i--) {
    if (MARK_RANK[marks[i]] >= RANK_UNAUTHORISED) {
      lastPossibleSlot = i;
      break;
    }
  }
  let lastMarkedSlot = -1;
  for (let i = marks.length - 1; i >= 0; i--) {
    if (marks[i] !== 0) {
      lastMarkedSlot = i;
      break;
    }
  }

  return {
    firstYear,
    years,
    yearStartDay,
    yearLength,
    marks,
    school,
    urns,
    firstMonday,
    weekOrdinal,
    weeks,
    schoolDay,
    lastPossibleSlot,
    lastMarkedSlot,
  };
}

// ---- Reading a timeline ----------------------------------------------------------------------------

/** Academic year of a slot. */
export function yearOfSlot(t: PupilTimeline, slot: number): number {
  return t.firstYear + Math.floor(slot / SLOTS);
}

/** Day number (days since 1970-01-01) of a slot. */
export function dayOfSlot(t: PupilTimeline, slot: number): number {
  const y = Math.floor(slot / SLOTS);
  return t.yearStartDay[y] + ((slot - y * SLOTS) >> 1);
}

/** The first slot of an academic year in the timeline (clamped to the timeline's range). */
export function firstSlotOfYear(t: PupilTimeline, academicYear: number): number {
  return Math.min(Math.max(0, academicYear - t.firstYear), t.years) * SLOTS;
}

/** Index into `schoolDay` of a day number, or −1 outside the timeline's years. */
export function daySlotOfDay(t: PupilTimeline, day: number): number {
  for (let y = 0; y < t.years; y++) {
    const d = day - t.yearStartDay[y];
    if (d >= 0 && d < t.yearLength[y]) return y * DAY_SLOTS + d;
  }
  return -1;
}

/** The AM session slot of a day number, or −1 outside the timeline's years (PM is the next slot). */
export function sessionSlotOfDay(t: PupilTimeline, day: number): number {
  const d = daySlotOfDay(t, day);
  return d < 0 ? -1 : d * 2;
}

/** School-week ordinal of a day number, or −1 when its calendar week is not one of the pupil's school weeks. */
export function schoolWeekOfDay(t: PupilTimeline, day: number): number {
  const w = Math.floor((day - t.firstMonday) / 7);
  return w >= 0 && w < t.weekOrdinal.length ? t.weekOrdinal[w] : -1;
}

/** The pupil's school weeks as Monday dates (ISO), ascending; optionally only those whose Monday is in [from, to]. */
export function schoolWeekDates(t: PupilTimeline, from?: string, to?: string): string[] {
  const lo = from === undefined ? -Infinity : dayNumber(from);
  const hi = to === undefined ? Infinity : dayNumber(to);
  const out: string[] = [];
  for (let k = 0; k < t.weeks.length; k++)
    if (t.weeks[k] >= lo && t.weeks[k] <= hi) out.push(fromDayNumber(t.weeks[k]));
  return out;
}

/** One session as evidence: date, AM/PM, DfE code and the school whose mark it is. */
export interface SessionEvidence {
  date: string;
  session: Session;
  code: string;
  urn: string;
}

export function sessionEvidence(t: PupilTimeline, slot: number): SessionEvidence {
  return {
    date: fromDayNumber(dayOfSlot(t, slot)),
    session: slot & 1 ? 'PM' : 'AM',
    code: CODE_OF_CHAR[String.fromCharCode(t.marks[slot])] ?? '',
    urn: t.urns[t.school[slot]],
  };
}

/** Stored mark characters of DfE codes → a char-code lookup table (non-zero for a code in the set). */
export function markSet(codes: readonly string[]): Uint8Array {
  const key = codes.join('\u0000');
  let table = markSetCache.get(key);
  if (!table) {
    table = new Uint8Array(128);
    for (const code of codes) {
      const ch = MARK_CHAR[code];
      if (ch !== undefined) table[ch.charCodeAt(0)] = 1;
    }
    if (markSetCache.size > 64) markSetCache.clear();
    markSetCache.set(key, table);
  }
  return table;
}
const markSetCache = new Map<string, Uint8Array>();

/** The pupil's school weeks (Monday dates) in one academic year (weeks whose Monday falls in it). */
export function pupilSchoolWeeks(
  enrolments: readonly TimelineEnrolment[],
  sessionDays: SessionDaysByKey,
  academicYear?: number,
): string[] {
  const t = pupilTimeline(enrolments, sessionDays);
  if (academicYear === undefined) return schoolWeekDates(t);
  return schoolWeekDates(t, academicYearStart(academicYear), `${academicYear + 1}-07-31`);
}
