/**
 * Statutory triggers of the National Framework (docs/design.md §2.5, in force from 19 August 2024), across
 * every school and academic year held for the pupil (school-weeks.ts merges them into one timeline):
 *
 * - Who: only pupils of compulsory school age on the session's date (compulsory-school-age.ts). Every
 *   trigger below reads the pupil's timeline with the sessions outside that span removed (they neither
 *   count, break nor extend anything), and a window or run is on a year's summary only while the pupil
 *   is of compulsory school age. A pupil with no (valid) date of birth is flagged on every session as
 *   before, and each flag says `ageUnknown: true` so the officer checks.
 * - Penalty-notice threshold: ≥ N sessions (default 10) coded in the LA's code set (default G, O, U:
 *   "any type of unauthorised absence (G, O and/or U coded)"; N, reason not yet provided, is a data-
 *   quality matter, not an offence) within a rolling window of W school weeks (default 10). Weeks
 *   without a school session at a school where the pupil is on roll are skipped, so a window can span
 *   a half term or the summer holiday. Meeting it means a penalty notice must be considered; it is not
 *   automatic. The flag names the route the schools' policies set (`route`): leave in term time (G)
 *   → a penalty-notice request; irregular attendance (O, U) → a notice to improve first. U sessions
 *   in the evidence are marked as lateness (late after the register closed).
 * - Continuous unauthorised absence: 20 consecutive possible sessions coded G/N/O/U (10 school days)
 *   and 40 (20 school days); not-possible sessions (D, Q, X, Y1–Y7, Z, #, unmarked, no row) neither break
 *   nor extend a run, any other possible session breaks it. With N or O it is a children-missing-
 *   education risk.
 * - Illness: 30 sessions coded I in the academic year, consecutive or cumulative (section 19 duty).
 * - Persistent lateness: 10 (LaSettings.latenessWarningSessions) or more sessions coded U (late after
 *   the register closed) in a term (the DfE census terms: autumn to 31 December, spring to Easter
 *   Sunday, summer) put the pupil on the LA's lateness-warning list (`lateness_warning`), as one of
 *   the schools' policies requires before a penalty notice for lateness.
 * - Notice to improve: whether unauthorised absence occurred in the improvement period.
 *
 * What a flag on an academic year's summary means (the design is silent; decided here):
 * a flag is on year Y's summary when the trigger was met at any time during Y — including a window or
 * run met late in the previous year that was still met when Y began — so an LA officer sees every
 * pupil who met the threshold this year. `since` is the date it was first met, or, when it was carried
 * over from the previous academic year, the pupil's first school day in Y on which it was still met
 * (the true date is in `detail.metOn`). Whether it is still met now is in the detail
 * (`currentlyMet` for the window, `ongoing` for a run), as at `detail.asAt`, the latest date with a
 * possible mark at any of the pupil's schools. Flags are recomputed from the marks on every change,
 * so a correction of N to I clears them.
 *
 * Hot path: counting works on the timeline's typed arrays; evidence objects are built only for a
 * pupil who meets a trigger.
 */
import { DEFAULT_LA_SETTINGS, type LaSettings } from '../config.js';
import { CODE_OF_CHAR, MARK_CHAR } from './codes.js';
import { termPeriods } from './periods.js';
import { compulsorySchoolAge, type CompulsorySchoolAge } from './compulsory-school-age.js';
import {
  academicYearEnd,
  academicYearStart,
  dayNumber,
  DAYS_PER_YEAR_SLOT,
  fromDayNumber,
  isWeekend,
  SESSIONS_PER_YEAR_SLOT,
  type Session,
} from './dates.js';
import type { Enrolment, PupilFlag } from './pupil-summary.js';
import {
  dayOfSlot,
  daySlotOfDay,
  firstSlotOfYear,
  markSet,
  MARK_RANK,
  pupilTimeline,
  RANK_UNAUTHORISED,
  sessionEvidence,
  sessionSlotOfDay,
  yearOfSlot,
  type PupilTimeline,
  type SessionDaysByKey,
  type SessionEvidence,
  type TimelineEnrolment,
} from './school-weeks.js';

// Module-local copies: hot loops read these directly, not through an import binding.
const SLOTS: number = SESSIONS_PER_YEAR_SLOT;
const DAY_SLOTS: number = DAYS_PER_YEAR_SLOT;
const RANK: Uint8Array = MARK_RANK;
const POSSIBLE_RANK: number = RANK_UNAUTHORISED;

/** Unauthorised absence for a holiday / leave in term time (docs/design.md §2.1). */
const LEAVE_IN_TERM_TIME_CODE = 'G';
/** Late after the register closed: an unauthorised absence that is lateness, not missing the session. */
const LATE_AFTER_REGISTER_CLOSED_CODE = 'U';

/** The unauthorised absence codes (docs/design.md §2.1), used for continuous absence (not LA-configurable). */
export const UNAUTHORISED_CODES: readonly string[] = ['G', 'N', 'O', 'U'];
/** No reason / not known: a run containing one is a children-missing-education risk. */
const MISSING_EDUCATION_CODES: readonly string[] = ['N', 'O'];
/** Consecutive unauthorised sessions for 10 and 20 school days. */
const TEN_DAY_SESSIONS = 20;
const TWENTY_DAY_SESSIONS = 40;
/** Illness sessions in the academic year for 15 school days. */
const ILLNESS_SESSIONS = 30;

export type PenaltyNoticeSettings = Pick<
  LaSettings,
  'penaltyNoticeCodes' | 'penaltyNoticeSessions' | 'penaltyNoticeWeeks'
> &
  Partial<Pick<LaSettings, 'latenessWarningSessions'>>;
/** Sessions coded U in a term that put a pupil on the lateness-warning list (LaSettings default). */
const LATENESS_WARNING_SESSIONS = 10;

// ---- Rolling window of school weeks (shared with the threshold-gaming detectors) -----------------

/** Sessions in a code set per school week and per rolling window of school weeks. */
export interface RollingWindowCounts {
  codes: readonly string[];
  windowWeeks: number;
  /** Monday (day number, days since 1970-01-01) of each of the pupil's school weeks, ascending. */
  weeks: Int32Array;
  /** Sessions coded in the set in each school week. */
  weekSessions: Int32Array;
  /**
   * Sessions coded in the set in the window of `windowWeeks` school weeks ending with each school week
   * (the pupil's first windows hold fewer weeks).
   */
  windowSessions: Int32Array;
  /** Highest window count, and the first school week whose window reaches it (−1 with no school weeks). */
  peak: number;
  peakWeek: number;
}

/**
 * Count sessions coded in `codes` per school week of the timeline and per rolling window of
 * `windowWeeks` school weeks. Linear in the timeline; no allocation per session.
 */
export function rollingWindowCounts(
  t: PupilTimeline,
  codes: readonly string[],
  windowWeeks: number,
): RollingWindowCounts {
  const set = markSet(codes);
  const n = t.weeks.length;
  const weekSessions = new Int32Array(n);
  const { marks, weekOrdinal, firstMonday } = t;
  for (let y = 0; y < t.years; y++) {
    const base = y * SLOTS;
    const offset = t.yearStartDay[y] - firstMonday;
    for (let d = 0, len = t.yearLength[y]; d < len; d++) {
      const count = set[marks[base + 2 * d]] + set[marks[base + 2 * d + 1]];
      if (count === 0) continue;
      const w = weekOrdinal[((offset + d) / 7) | 0];
      if (w >= 0) weekSessions[w] += count;
    }
  }
  const windowSessions = new Int32Array(n);
  let sum = 0;
  let peak = 0;
  let peakWeek = n > 0 ? 0 : -1;
  for (let k = 0; k < n; k++) {
    sum += weekSessions[k];
    if (k >= windowWeeks) sum -= weekSessions[k - windowWeeks];
    windowSessions[k] = sum;
    if (sum > peak) {
      peak = sum;
      peakWeek = k;
    }
  }
  return { codes, windowWeeks, weeks: t.weeks, weekSessions, windowSessions, peak, peakWeek };
}

/** School weeks [from, to) of `counts` (or a timeline's weeks) whose Monday falls in the academic year. */
export function schoolWeeksOfYear(weeks: Int32Array, academicYear: number): { from: number; to: number } {
  const lo = dayNumber(academicYearStart(academicYear));
  const hi = dayNumber(academicYearStart(academicYear + 1));
  let from = 0;
  while (from < weeks.length && weeks[from] < lo) from++;
  let to = from;
  while (to < weeks.length && weeks[to] < hi) to++;
  return { from, to };
}

/** The penalty-notice rolling window counts for a pupil, from their enrolments (all schools, all years). */
export function penaltyNoticeWindowCounts(
  enrolments: readonly TimelineEnrolment[],
  sessionDays: SessionDaysByKey,
  settings: PenaltyNoticeSettings = DEFAULT_LA_SETTINGS,
): RollingWindowCounts {
  return rollingWindowCounts(
    pupilTimeline(enrolments, sessionDays),
    settings.penaltyNoticeCodes,
    settings.penaltyNoticeWeeks,
  );
}

// ---- Penalty-notice threshold -------------------------------------------------------------------

/** A rolling window as evidence: its first and last school week (Mondays) and the sessions in it. */
export interface ThresholdWindow {
  firstWeek: string;
  lastWeek: string;
  /** School weeks in the window (the window size, or fewer at the start of the pupil's record). */
  schoolWeeks: number;
  sessionCount: number;
  /** Sessions per code in the window. */
  sessionsByCode: Record<string, number>;
  /** Sessions coded U in the window: lateness (late after the register closed), not a missed session. */
  lateSessions: number;
  /** Sessions coded in the set, in date order, with the school whose mark each is. */
  sessions: ThresholdSession[];
}

/** A session in a threshold window; a U is marked as lateness so the evidence reads as it happened. */
export type ThresholdSession = SessionEvidence & { lateness?: true };

/**
 * The two routes of the schools' policies to a penalty notice (docs/design.md §2.5):
 * - `leave_in_term_time`: the threshold is met by leave in term time alone (G sessions): the school
 *   requests a penalty notice;
 * - `irregular_attendance`: otherwise (O and U, with or without some G): a notice to improve first,
 *   then a penalty notice if unauthorised absence continues within the improvement period.
 */
export type PenaltyNoticeRouteType = 'leave_in_term_time' | 'irregular_attendance';

export interface PenaltyNoticeRoute {
  route: PenaltyNoticeRouteType;
  /** What the LA does first: request the penalty notice, or issue a notice to improve. */
  firstStep: 'penalty_notice_request' | 'notice_to_improve';
  /** Why this route applies, in plain words with the window's counts. */
  why: string;
}

export interface PenaltyNoticeFinding {
  codes: string[];
  sessionsThreshold: number;
  windowWeeks: number;
  /** The date the threshold was first met: the session that brought the window to the threshold. */
  metOn: string;
  /** The window of `windowWeeks` school weeks ending with the week in which it was first met. */
  window: ThresholdWindow;
  /** Separate times the threshold was met in the period (the window fell below it in between). */
  episodes: number;
  /** Highest window count in the period. */
  peakSessions: number;
  /** Monday of the last school week in the period whose window meets the threshold. */
  lastMetWeek: string;
  /** Whether the window ending with the pupil's latest school week still meets the threshold. */
  currentlyMet: boolean;
  /** The window ending with the pupil's latest school week. */
  currentWindow: ThresholdWindow;
  /** Latest date with a possible mark at any of the pupil's schools (null when none). */
  asAt: string | null;
  /** The policies' route to a penalty notice, decided on the window in which the threshold was first met. */
  route: PenaltyNoticeRoute;
}

/** The route to a penalty notice for a window that meets the threshold (see PenaltyNoticeRouteType). */
export function penaltyNoticeRoute(
  window: Pick<ThresholdWindow, 'sessionsByCode' | 'sessionCount' | 'lateSessions'>,
  threshold: number,
): PenaltyNoticeRoute {
  const leave = window.sessionsByCode[LEAVE_IN_TERM_TIME_CODE] ?? 0;
  const counts = Object.entries(window.sessionsByCode)
    .map(([code, n]) => `${n} ${code}`)
    .join(', ');
  if (leave >= threshold) {
    return {
      route: 'leave_in_term_time',
      firstStep: 'penalty_notice_request',
      why: `Leave in term time: ${leave} sessions coded G (unauthorised holiday) in the window meet the threshold of ${threshold} on their own; the policies have the school request a penalty notice.`,
    };
  }
  const late =
    window.lateSessions > 0 ? ` ${window.lateSessions} of them U (late after the register closed) are lateness.` : '';
  return {
    route: 'irregular_attendance',
    firstStep: 'notice_to_improve',
    why: `Irregular attendance: the window holds ${counts}; leave in term time alone (${leave} G) does not meet the threshold of ${threshold}, so the policies require a notice to improve first, and a penalty notice only if unauthorised absence continues within the improvement period.${late}`,
  };
}

/**
 * The penalty-notice threshold for one academic year (school weeks whose Monday falls in it; windows
 * reach back into earlier years), or over the whole timeline when `academicYear` is omitted. Null
 * when it was never met in that period.
 */
export function penaltyNoticeThreshold(
  t: PupilTimeline,
  settings: PenaltyNoticeSettings = DEFAULT_LA_SETTINGS,
  academicYear?: number,
  counts: RollingWindowCounts = rollingWindowCounts(t, settings.penaltyNoticeCodes, settings.penaltyNoticeWeeks),
  /** Only windows ending before this school week count (the pupil is past compulsory school age from it). */
  untilWeek: number = counts.windowSessions.length,
): PenaltyNoticeFinding | null {
  const threshold = settings.penaltyNoticeSessions;
  const { windowSessions } = counts;
  const range =
    academicYear === undefined ? { from: 0, to: windowSessions.length } : schoolWeeksOfYear(t.weeks, academicYear);
  range.to = Math.min(range.to, untilWeek);
  let first = -1;
  let last = -1;
  let episodes = 0;
  let peak = 0;
  for (let k = range.from; k < range.to; k++) {
    const c = windowSessions[k];
    if (c > peak) peak = c;
    if (c < threshold) continue;
    if (first < 0) first = k;
    if (k === range.from || windowSessions[k - 1] < threshold) episodes++;
    last = k;
  }
  if (first < 0) return null;
  // The episode may have begun before the period (a window met in July still met in September).
  let start = first;
  while (start > 0 && windowSessions[start - 1] >= threshold) start--;
  const set = markSet(settings.penaltyNoticeCodes);
  const metSlot = nthCountedSlotInWeek(t, set, start, threshold - (windowSessions[start] - counts.weekSessions[start]));
  const latest = t.weeks.length - 1;
  const window = thresholdWindow(t, set, start, settings.penaltyNoticeWeeks);
  return {
    codes: [...settings.penaltyNoticeCodes],
    sessionsThreshold: threshold,
    windowWeeks: settings.penaltyNoticeWeeks,
    metOn: fromDayNumber(metSlot >= 0 ? dayOfSlot(t, metSlot) : t.weeks[start]),
    window,
    episodes,
    peakSessions: peak,
    lastMetWeek: fromDayNumber(t.weeks[last]),
    currentlyMet: latest < untilWeek && windowSessions[latest] >= threshold,
    currentWindow: thresholdWindow(t, set, latest, settings.penaltyNoticeWeeks),
    asAt: t.lastPossibleSlot >= 0 ? fromDayNumber(dayOfSlot(t, t.lastPossibleSlot)) : null,
    route: penaltyNoticeRoute(window, threshold),
  };
}

/** The slot of the n-th session (1-based) coded in `set` within school week `k`, or −1. */
function nthCountedSlotInWeek(t: PupilTimeline, set: Uint8Array, k: number, n: number): number {
  let seen = 0;
  const monday = t.weeks[k];
  for (let day = monday; day < monday + 7; day++) {
    const slot = sessionSlotOfDay(t, day);
    if (slot < 0) continue;
    for (let s = slot; s <= slot + 1; s++) {
      if (set[t.marks[s]] && ++seen >= n) return s;
    }
  }
  return -1;
}

/** The window of `size` school weeks ending with school week `k`, with its sessions in `set`. */
function thresholdWindow(t: PupilTimeline, set: Uint8Array, k: number, size: number): ThresholdWindow {
  const firstK = Math.max(0, k - size + 1);
  const sessions: ThresholdSession[] = [];
  const sessionsByCode: Record<string, number> = {};
  let lateSessions = 0;
  const add = (slot: number) => {
    const s: ThresholdSession = sessionEvidence(t, slot);
    sessionsByCode[s.code] = (sessionsByCode[s.code] ?? 0) + 1;
    if (s.code === LATE_AFTER_REGISTER_CLOSED_CODE) {
      s.lateness = true;
      lateSessions++;
    }
    sessions.push(s);
  };
  for (let w = firstK; w <= k; w++) {
    const monday = t.weeks[w];
    for (let day = monday; day < monday + 7; day++) {
      const slot = sessionSlotOfDay(t, day);
      if (slot < 0) continue;
      if (set[t.marks[slot]]) add(slot);
      if (set[t.marks[slot + 1]]) add(slot + 1);
    }
  }
  return {
    firstWeek: fromDayNumber(t.weeks[firstK]),
    lastWeek: fromDayNumber(t.weeks[k]),
    schoolWeeks: k - firstK + 1,
    sessionCount: sessions.length,
    sessionsByCode,
    lateSessions,
    sessions,
  };
}

// ---- Continuous unauthorised absence ------------------------------------------------------------

export interface UnauthorisedRun {
  firstDate: string;
  firstSession: Session;
  lastDate: string;
  lastSession: Session;
  /** Consecutive possible sessions coded G/N/O/U. */
  sessionCount: number;
  /** Date of the 20th session (10 school days), and of the 40th (20 school days) when reached. */
  tenDaysOn: string | null;
  twentyDaysOn: string | null;
  /** No possible session follows the run: it runs to the pupil's latest possible session. */
  ongoing: boolean;
  /** The run contains N or O (no reason yet / not known): children-missing-education risk. */
  missingEducationRisk: boolean;
  /** Sessions per code in the run. */
  codes: Record<string, number>;
  /** Schools whose marks make up the run, in order of first appearance. */
  urns: string[];
}

interface RunSpan {
  first: number;
  last: number;
  length: number;
  /** Slot of the 20th and 40th session, −1 when not reached. */
  tenDaysSlot: number;
  twentyDaysSlot: number;
}

const UNAUTHORISED_MARKS = markSet(UNAUTHORISED_CODES);
const MISSING_EDUCATION_MARKS = markSet(MISSING_EDUCATION_CODES);
const ILLNESS_MARK = MARK_CHAR.I.charCodeAt(0);

/** Runs of at least `minSessions` consecutive unauthorised possible sessions, as slot spans. */
function runSpans(t: PupilTimeline, minSessions: number): RunSpan[] {
  const out: RunSpan[] = [];
  const marks = t.marks;
  let first = -1;
  let last = -1;
  let length = 0;
  let ten = -1;
  let twenty = -1;
  const close = () => {
    if (length >= minSessions) out.push({ first, last, length, tenDaysSlot: ten, twentyDaysSlot: twenty });
    length = 0;
    ten = -1;
    twenty = -1;
  };
  for (let i = 0; i < marks.length; i++) {
    const ch = marks[i];
    if (RANK[ch] < POSSIBLE_RANK) continue; // not possible, or no mark: neither breaks nor extends
    if (UNAUTHORISED_MARKS[ch]) {
      if (length === 0) first = i;
      last = i;
      length++;
      if (length === TEN_DAY_SESSIONS) ten = i;
      if (length === TWENTY_DAY_SESSIONS) twenty = i;
    } else if (length > 0) {
      close();
    }
  }
  if (length > 0) close();
  return out;
}

function describeRun(t: PupilTimeline, span: RunSpan): UnauthorisedRun {
  const codes: Record<string, number> = {};
  const urns: string[] = [];
  let missing = false;
  for (let i = span.first; i <= span.last; i++) {
    const ch = t.marks[i];
    if (!UNAUTHORISED_MARKS[ch]) continue;
    const code = CODE_OF_CHAR[String.fromCharCode(ch)];
    codes[code] = (codes[code] ?? 0) + 1;
    if (MISSING_EDUCATION_MARKS[ch]) missing = true;
    const urn = t.urns[t.school[i]];
    if (!urns.includes(urn)) urns.push(urn);
  }
  const date = (slot: number) => fromDayNumber(dayOfSlot(t, slot));
  return {
    firstDate: date(span.first),
    firstSession: span.first & 1 ? 'PM' : 'AM',
    lastDate: date(span.last),
    lastSession: span.last & 1 ? 'PM' : 'AM',
    sessionCount: span.length,
    tenDaysOn: span.tenDaysSlot >= 0 ? date(span.tenDaysSlot) : null,
    twentyDaysOn: span.twentyDaysSlot >= 0 ? date(span.twentyDaysSlot) : null,
    ongoing: span.last === t.lastPossibleSlot,
    missingEducationRisk: missing,
    codes,
    urns,
  };
}

/**
 * Every run of at least `minSessions` (default 20) consecutive possible sessions coded G/N/O/U across
 * the pupil's schools, in date order.
 */
export function continuousUnauthorisedRuns(
  t: PupilTimeline,
  minSessions: number = TEN_DAY_SESSIONS,
): UnauthorisedRun[] {
  return runSpans(t, minSessions).map((s) => describeRun(t, s));
}

// ---- Illness ------------------------------------------------------------------------------------

export interface IllnessFinding {
  sessionsThreshold: number;
  /** Sessions coded I in the academic year. */
  sessionCount: number;
  /** Date of the session that reached the threshold. */
  metOn: string;
  firstDate: string;
  lastDate: string;
  urns: string[];
}

/** 30 (default) sessions coded I in the academic year, consecutive or cumulative; null below it. */
export function illnessThreshold(
  t: PupilTimeline,
  academicYear: number,
  threshold: number = ILLNESS_SESSIONS,
): IllnessFinding | null {
  if (academicYear < t.firstYear || academicYear >= t.firstYear + t.years) return null;
  const from = firstSlotOfYear(t, academicYear);
  const to = from + SLOTS;
  let count = 0;
  let metSlot = -1;
  for (let i = from; i < to; i++) {
    if (t.marks[i] === ILLNESS_MARK && ++count === threshold) metSlot = i;
  }
  if (metSlot < 0) return null;
  let firstSlot = -1;
  let lastSlot = -1;
  const urns: string[] = [];
  for (let i = from; i < to; i++) {
    if (t.marks[i] !== ILLNESS_MARK) continue;
    if (firstSlot < 0) firstSlot = i;
    lastSlot = i;
    const urn = t.urns[t.school[i]];
    if (!urns.includes(urn)) urns.push(urn);
  }
  const date = (slot: number) => fromDayNumber(dayOfSlot(t, slot));
  return {
    sessionsThreshold: threshold,
    sessionCount: count,
    metOn: date(metSlot),
    firstDate: date(firstSlot),
    lastDate: date(lastSlot),
    urns,
  };
}

// ---- Persistent lateness -------------------------------------------------------------------------

export interface LatenessTerm {
  term: string;
  label: string;
  from: string;
  to: string;
  /** Sessions coded U in the term. */
  lateSessions: number;
  /** Date of the session that reached the threshold. */
  metOn: string;
  sessions: ThresholdSession[];
}

interface LatenessFinding {
  sessionsThreshold: number;
  /** Terms of the academic year in which the pupil was late after the register closed `sessionsThreshold` times or more. */
  terms: LatenessTerm[];
}

const LATE_MARK = MARK_CHAR[LATE_AFTER_REGISTER_CLOSED_CODE].charCodeAt(0);

/** Terms of the academic year with ≥ `threshold` sessions coded U across the pupil's schools; null when none. */
function latenessWarning(
  t: PupilTimeline,
  academicYear: number,
  threshold: number = LATENESS_WARNING_SESSIONS,
): LatenessFinding | null {
  const y = academicYear - t.firstYear;
  if (y < 0 || y >= t.years) return null;
  const terms: LatenessTerm[] = [];
  for (const term of termPeriods(academicYear)) {
    const lo = y * SLOTS + 2 * (dayNumber(term.from) - t.yearStartDay[y]);
    const hi = y * SLOTS + 2 * (dayNumber(term.to) - t.yearStartDay[y]) + 1;
    let count = 0;
    let metSlot = -1;
    for (let i = lo; i <= hi; i++) if (t.marks[i] === LATE_MARK && ++count === threshold) metSlot = i;
    if (metSlot < 0) continue;
    const sessions: ThresholdSession[] = [];
    for (let i = lo; i <= hi; i++)
      if (t.marks[i] === LATE_MARK) sessions.push({ ...sessionEvidence(t, i), lateness: true });
    terms.push({
      term: term.id,
      label: term.label,
      from: term.from,
      to: term.to,
      lateSessions: count,
      metOn: fromDayNumber(dayOfSlot(t, metSlot)),
      sessions,
    });
  }
  return terms.length ? { sessionsThreshold: threshold, terms } : null;
}

// ---- Compulsory school age (docs/design.md §2.5) ----------------------------------------------------------

/** Who the statutory triggers apply to, as every statutory flag states it. */
export interface StatutoryAge {
  /** The pupil's span of compulsory school age; null when the date of birth is unknown or invalid. */
  compulsorySchoolAge: CompulsorySchoolAge | null;
  /** No usable date of birth: the pupil is flagged on every session, and the officer checks the age. */
  ageUnknown: boolean;
}

const AGE_UNKNOWN: StatutoryAge = Object.freeze({ compulsorySchoolAge: null, ageUnknown: true });

/** Spans by date of birth: most pupils of a school share a few thousand birth dates. */
const spanByBirthDate = new Map<string, CompulsorySchoolAge | null>();

/** The statutory age of a pupil from their date of birth (unknown when missing or not a valid date). */
export function statutoryAgeOf(dob: string | null | undefined): StatutoryAge {
  if (!dob) return AGE_UNKNOWN;
  let span = spanByBirthDate.get(dob);
  if (span === undefined) {
    if (spanByBirthDate.size >= 20_000) spanByBirthDate.clear();
    spanByBirthDate.set(dob, (span = compulsorySchoolAge(dob) ?? null));
  }
  return span ? { compulsorySchoolAge: span, ageUnknown: false } : AGE_UNKNOWN;
}

/**
 * The pupil's date of birth as their schools state it: the valid one on the most recently listed
 * enrolment that states one (a correction by the school replaces an earlier date).
 */
export function pupilDateOfBirth(enrolments: readonly Pick<Enrolment, 'dob' | 'lastListed'>[]): string | undefined {
  let best: Pick<Enrolment, 'dob' | 'lastListed'> | undefined;
  for (const e of enrolments) {
    if (!e.dob || statutoryAgeOf(e.dob).ageUnknown) continue;
    if (!best || e.lastListed > best.lastListed) best = e;
  }
  return best?.dob;
}

/** Whether the span of compulsory school age overlaps the academic year at all. */
function compulsoryInAcademicYear(span: CompulsorySchoolAge, academicYear: number): boolean {
  return span.from <= academicYearEnd(academicYear) && span.to >= academicYearStart(academicYear);
}

/**
 * The timeline with every session outside compulsory school age removed (as if no school held a mark:
 * it neither counts, breaks nor extends a run). School weeks, school days and the latest possible
 * session are the pupil's own, unchanged: a window still spans the pupil's real school weeks, and a
 * run that stops at the school leaving date while the pupil stays on roll is not "ongoing". Returns
 * the timeline itself when the span covers it (most pupils): one copy of the marks otherwise.
 */
export function compulsoryAgeTimeline(t: PupilTimeline, span: CompulsorySchoolAge): PupilTimeline {
  if (t.years === 0) return t;
  const from = dayNumber(span.from);
  const to = dayNumber(span.to);
  const last = t.yearStartDay[t.years - 1] + t.yearLength[t.years - 1] - 1;
  if (from <= t.yearStartDay[0] && to >= last) return t;
  const marks = new Uint8Array(t.marks);
  for (let y = 0; y < t.years; y++) {
    const start = t.yearStartDay[y];
    for (let d = 0, len = t.yearLength[y]; d < len; d++) {
      const day = start + d;
      if (day >= from && day <= to) continue;
      marks[y * SLOTS + 2 * d] = 0;
      marks[y * SLOTS + 2 * d + 1] = 0;
    }
  }
  return { ...t, marks };
}

/** School weeks (ordinal, exclusive) whose windows may count: those whose Monday is on or before the leaving date. */
function weeksUntil(t: PupilTimeline, span: CompulsorySchoolAge | null): number {
  if (!span) return t.weeks.length;
  const to = dayNumber(span.to);
  let k = t.weeks.length;
  while (k > 0 && t.weeks[k - 1] > to) k--;
  return k;
}

// ---- Flags on the pupil's year summary ----------------------------------------------------------

/** The first school day in `academicYear` at or after `fromDay` on which the pupil had a school session. */
function firstSchoolDayInYear(t: PupilTimeline, academicYear: number, fromDay: number): number {
  const start = Math.max(fromDay, dayNumber(academicYearStart(academicYear)));
  const end = dayNumber(academicYearStart(academicYear + 1));
  for (let d = start; d < end; d++) {
    const ds = daySlotOfDay(t, d);
    if (ds >= 0 && t.schoolDay[ds]) return d;
  }
  return start;
}

/**
 * The statutory-trigger flags for a pupil's academic year: `penalty_notice_threshold`,
 * `ten_day_unauthorised`, `twenty_day_unauthorised`, `illness_15_days`, `lateness_warning` (see the module comment for
 * what a flag on a year means). `full` is the pupil's timeline over every enrolment held; `age` who
 * the triggers apply to (statutoryAgeOf(dob)): only sessions of compulsory school age count, and a
 * pupil of unknown age is flagged on every session with `ageUnknown: true` in each flag's detail.
 */
export function nationalFrameworkFlags(
  full: PupilTimeline,
  academicYear: number,
  settings: PenaltyNoticeSettings = DEFAULT_LA_SETTINGS,
  age: StatutoryAge = AGE_UNKNOWN,
): PupilFlag[] {
  const flags: PupilFlag[] = [];
  const span = age.compulsorySchoolAge;
  if (span && !compulsoryInAcademicYear(span, academicYear)) return flags;
  const t = span ? compulsoryAgeTimeline(full, span) : full;
  const who = { compulsorySchoolAge: span ? { ...span } : null, ageUnknown: age.ageUnknown };
  const yearStart = academicYearStart(academicYear);

  const penalty = penaltyNoticeThreshold(t, settings, academicYear, undefined, weeksUntil(t, span));
  if (penalty) {
    let since = penalty.metOn;
    if (since < yearStart) {
      const { from } = schoolWeeksOfYear(t.weeks, academicYear);
      since = fromDayNumber(firstSchoolDayInYear(t, academicYear, t.weeks[from]));
    }
    flags.push({ type: 'penalty_notice_threshold', since, detail: { ...penalty, ...who } });
  }

  const spans = runSpans(t, TEN_DAY_SESSIONS);
  const inYear = (metSlot: number, span: RunSpan) =>
    metSlot >= 0 && yearOfSlot(t, metSlot) <= academicYear && yearOfSlot(t, span.last) >= academicYear;
  for (const [type, sessions, slotOf] of [
    ['ten_day_unauthorised', TEN_DAY_SESSIONS, (s: RunSpan) => s.tenDaysSlot],
    ['twenty_day_unauthorised', TWENTY_DAY_SESSIONS, (s: RunSpan) => s.twentyDaysSlot],
  ] as const) {
    const mine = spans.filter((s) => inYear(slotOf(s), s));
    if (mine.length === 0) continue;
    const runs = mine.map((s) => describeRun(t, s));
    const firstMet = slotOf(mine[0]);
    let since = fromDayNumber(dayOfSlot(t, firstMet));
    if (yearOfSlot(t, firstMet) < academicYear) {
      // Carried over: the run's first session in this academic year.
      let slot = firstSlotOfYear(t, academicYear);
      while (slot < mine[0].last && RANK[t.marks[slot]] < POSSIBLE_RANK) slot++;
      since = fromDayNumber(dayOfSlot(t, slot));
    }
    flags.push({
      type,
      since,
      detail: {
        sessionsThreshold: sessions,
        metOn: fromDayNumber(dayOfSlot(t, firstMet)),
        ongoing: runs.some((r) => r.ongoing),
        missingEducationRisk: runs.some((r) => r.missingEducationRisk),
        longestRunSessions: Math.max(...runs.map((r) => r.sessionCount)),
        runs,
        asAt: t.lastPossibleSlot >= 0 ? fromDayNumber(dayOfSlot(t, t.lastPossibleSlot)) : null,
        ...who,
      },
    });
  }

  const illness = illnessThreshold(t, academicYear);
  if (illness) flags.push({ type: 'illness_15_days', since: illness.metOn, detail: { ...illness, ...who } });

  const lateness = latenessWarning(t, academicYear, settings.latenessWarningSessions ?? LATENESS_WARNING_SESSIONS);
  if (lateness)
    flags.push({ type: 'lateness_warning', since: lateness.terms[0].metOn, detail: { ...lateness, ...who } });
  return flags;
}

// ---- Notice to improve ----------------------------------------------------------------------------

export type NoticeToImproveStatus = 'in_progress' | 'met' | 'not_met';

export interface NoticeToImproveInput {
  /** First day of the improvement period (the period starts on the first school day on or after it). */
  start: string;
  /** Length in school days; default LaSettings.noticeToImprovePeriodDays (15). */
  periodDays?: number;
  enrolments: readonly TimelineEnrolment[];
  sessionDays: SessionDaysByKey;
  /** England and Wales bank holidays (a Map from bankHolidayMap, or a Set of dates): never school days. */
  bankHolidays?: { has(date: string): boolean };
  settings?: Pick<LaSettings, 'penaltyNoticeCodes' | 'noticeToImprovePeriodDays'>;
}

export interface NoticeToImproveResult {
  start: string;
  periodDays: number;
  /** The period's school days, in order. */
  schoolDays: string[];
  /** First and last school day of the period. */
  firstDay: string;
  lastDay: string;
  /**
   * The first of the period's days that lies beyond the schools' registers, where a weekday that is
   * not a bank holiday is assumed to be a school day; null when every day is known from the registers.
   */
  projectedFrom: string | null;
  /** Sessions in the period coded in the LA's unauthorised code set. */
  unauthorisedSessions: SessionEvidence[];
  /** Latest date with any mark for the pupil at any school (null when none). */
  markedThrough: string | null;
  /**
   * not_met: unauthorised absence occurred in the period (as soon as it does); met: the whole period
   * is marked and none occurred; in_progress: otherwise.
   */
  status: NoticeToImproveStatus;
}

/**
 * Evaluate a notice to improve. School days come from the pupil's schools' sessions while on roll,
 * up to the last day any of them held a session; beyond that (future dates) a weekday that is not a
 * bank holiday. The period is complete once the pupil holds marks through its last school day.
 */
export function noticeToImprove(input: NoticeToImproveInput): NoticeToImproveResult {
  const settings = input.settings ?? DEFAULT_LA_SETTINGS;
  const periodDays = Math.max(1, Math.floor(input.periodDays ?? settings.noticeToImprovePeriodDays));
  const t = pupilTimeline(input.enrolments, input.sessionDays);
  const set = markSet(settings.penaltyNoticeCodes);

  let knownThrough = -Infinity;
  for (let y = t.years - 1; y >= 0 && knownThrough === -Infinity; y--) {
    for (let d = t.yearLength[y] - 1; d >= 0; d--) {
      if (t.schoolDay[y * DAY_SLOTS + d]) {
        knownThrough = t.yearStartDay[y] + d;
        break;
      }
    }
  }

  const days: number[] = [];
  let projectedFrom: number | null = null;
  // A period of n school days ends within a few years even across closures; the cap guards bad input.
  for (let day = dayNumber(input.start), guard = 0; days.length < periodDays && guard < 3 * 366; day++, guard++) {
    let school: boolean;
    if (day <= knownThrough) {
      const ds = daySlotOfDay(t, day);
      school = ds >= 0 && t.schoolDay[ds] === 1;
    } else {
      const iso = fromDayNumber(day);
      school = !isWeekend(iso) && !(input.bankHolidays?.has(iso) ?? false);
      if (school && projectedFrom === null) projectedFrom = day;
    }
    if (school) days.push(day);
  }

  const unauthorisedSessions: SessionEvidence[] = [];
  for (const day of days) {
    const slot = sessionSlotOfDay(t, day);
    if (slot < 0) continue;
    if (set[t.marks[slot]]) unauthorisedSessions.push(sessionEvidence(t, slot));
    if (set[t.marks[slot + 1]]) unauthorisedSessions.push(sessionEvidence(t, slot + 1));
  }
  const markedThrough = t.lastMarkedSlot >= 0 ? dayOfSlot(t, t.lastMarkedSlot) : null;
  const lastDay = days[days.length - 1];
  const complete =
    projectedFrom === null && markedThrough !== null && lastDay !== undefined && markedThrough >= lastDay;
  const status: NoticeToImproveStatus = unauthorisedSessions.length > 0 ? 'not_met' : complete ? 'met' : 'in_progress';
  return {
    start: input.start,
    periodDays,
    schoolDays: days.map(fromDayNumber),
    firstDay: days.length > 0 ? fromDayNumber(days[0]) : input.start,
    lastDay: lastDay !== undefined ? fromDayNumber(lastDay) : input.start,
    projectedFrom: projectedFrom === null ? null : fromDayNumber(projectedFrom),
    unauthorisedSessions,
    markedThrough: markedThrough === null ? null : fromDayNumber(markedThrough),
    status,
  };
}

/** Convenience for callers holding enrolments: the flags for one academic year. */
export function nationalFrameworkFlagsFor(
  enrolments: readonly TimelineEnrolment[],
  sessionDays: SessionDaysByKey,
  academicYear: number,
  settings: PenaltyNoticeSettings = DEFAULT_LA_SETTINGS,
  age: StatutoryAge = statutoryAgeOf(pupilDateOfBirth(enrolments)),
): PupilFlag[] {
  return nationalFrameworkFlags(pupilTimeline(enrolments, sessionDays), academicYear, settings, age);
}
