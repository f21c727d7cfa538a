/**
 * Attendance statistics by the DfE methodology (docs/design.md §2.2): rates over possible sessions, and the
 * persistent (≥ 10 %) and severe (≥ 50 %) absence thresholds, applied per enrolment.
 *
 * Counting happens on compact arrays of per-code counts (`CodeCounts`, indexed by CODE_INDEX) because
 * the aggregation paths add up millions of sessions; `toStats` turns counts into the API's `Stats`.
 */
import { ALL_CODES, CODE_CATEGORY, CODE_OF_CHAR, type CodeCategory } from './codes.js';

export const CODE_COUNT = ALL_CODES.length;
export const CODE_INDEX: Readonly<Record<string, number>> = Object.fromEntries(ALL_CODES.map((c, i) => [c, i]));

/** Per-code session counts, indexed by CODE_INDEX. */
export type CodeCounts = Int32Array | number[];

export function emptyCounts(): Int32Array {
  return new Int32Array(CODE_COUNT);
}

/** Stored mark character → code index, or -1 for no mark / unmarked. */
export const INDEX_OF_CHAR: Int16Array = (() => {
  const table = new Int16Array(128).fill(-1);
  for (const [ch, code] of Object.entries(CODE_OF_CHAR)) table[ch.charCodeAt(0)] = CODE_INDEX[code];
  return table;
})();

const CATEGORY_OF_INDEX: readonly CodeCategory[] = ALL_CODES.map((c) => CODE_CATEGORY[c]);
const IS_L = CODE_INDEX.L;
const IS_U = CODE_INDEX.U;

export interface SessionTotals {
  possible: number;
  present: number;
  approvedActivity: number;
  authorised: number;
  unauthorised: number;
  late: number;
}

export function totalsOf(counts: CodeCounts): SessionTotals {
  const t: SessionTotals = { possible: 0, present: 0, approvedActivity: 0, authorised: 0, unauthorised: 0, late: 0 };
  for (let i = 0; i < CODE_COUNT; i++) {
    const n = counts[i];
    if (!n) continue;
    switch (CATEGORY_OF_INDEX[i]) {
      case 'present':
        t.present += n;
        break;
      case 'approved_activity':
        t.approvedActivity += n;
        break;
      case 'authorised':
        t.authorised += n;
        break;
      case 'unauthorised':
        t.unauthorised += n;
        break;
      default:
        break;
    }
  }
  t.possible = t.present + t.approvedActivity + t.authorised + t.unauthorised;
  t.late = counts[IS_L] + counts[IS_U];
  return t;
}

/** The API's `Stats` (docs/design.md §4): integers are session counts, rates are percentages of possible sessions. */
export interface Stats {
  possibleSessions: number;
  attendedSessions: number;
  presentSessions: number;
  approvedActivitySessions: number;
  authorisedAbsenceSessions: number;
  unauthorisedAbsenceSessions: number;
  absenceSessions: number;
  lateSessions: number;
  attendanceRate: number | null;
  absenceRate: number | null;
  authorisedAbsenceRate: number | null;
  unauthorisedAbsenceRate: number | null;
  codes: Record<string, number>;
}

/** Rates are null when there are no possible sessions (0/0 is not 0 %). */
export function toStats(counts: CodeCounts): Stats {
  const t = totalsOf(counts);
  const absence = t.authorised + t.unauthorised;
  const attended = t.present + t.approvedActivity;
  const rate = (n: number) => (t.possible > 0 ? (n / t.possible) * 100 : null);
  const codes: Record<string, number> = {};
  for (let i = 0; i < CODE_COUNT; i++) if (counts[i]) codes[ALL_CODES[i]] = counts[i];
  return {
    possibleSessions: t.possible,
    attendedSessions: attended,
    presentSessions: t.present,
    approvedActivitySessions: t.approvedActivity,
    authorisedAbsenceSessions: t.authorised,
    unauthorisedAbsenceSessions: t.unauthorised,
    absenceSessions: absence,
    lateSessions: t.late,
    attendanceRate: rate(attended),
    absenceRate: rate(absence),
    authorisedAbsenceRate: rate(t.authorised),
    unauthorisedAbsenceRate: rate(t.unauthorised),
    codes,
  };
}

/** Add the sessions of `marks` (stored characters) in [from, to) into `into`. */
export function countMarks(marks: string, into: CodeCounts, from = 0, to = marks.length): CodeCounts {
  for (let i = from; i < to; i++) {
    const ix = INDEX_OF_CHAR[marks.charCodeAt(i)];
    if (ix >= 0) into[ix]++;
  }
  return into;
}

export function addCounts(into: CodeCounts, from: CodeCounts): CodeCounts {
  for (let i = 0; i < CODE_COUNT; i++) into[i] += from[i];
  return into;
}

export function absenceOf(counts: CodeCounts): { absence: number; possible: number } {
  const t = totalsOf(counts);
  return { absence: t.authorised + t.unauthorised, possible: t.possible };
}

// ---- Thresholds -------------------------------------------------------------------------------
// Compared in integers so that exactly 10 % (e.g. 19 of 190) is never lost to floating point.

/** Persistently absent: overall absence ≥ 10 % of possible sessions (exactly 10.0 % is PA). */
export function isPersistentAbsence(absence: number, possible: number): boolean {
  return possible > 0 && absence * 10 >= possible;
}

/** Severely absent: overall absence ≥ 50 % of possible sessions. SA pupils are also PA. */
export function isSevereAbsence(absence: number, possible: number): boolean {
  return possible > 0 && absence * 2 >= possible;
}

/** Absence as a percentage in [lowerPercent, upperPercent); e.g. at risk of PA is 5 ≤ rate < 10. */
function isAbsenceInBand(absence: number, possible: number, lowerPercent: number, upperPercent: number): boolean {
  if (possible <= 0) return false;
  return absence * 100 >= lowerPercent * possible && absence * 100 < upperPercent * possible;
}

/** At risk of PA (LA-configurable lower bound, default 5 %): absence ≥ lower and below the PA line. */
export function isAtRiskOfPersistentAbsence(absence: number, possible: number, lowerPercent = 5): boolean {
  return isAbsenceInBand(absence, possible, lowerPercent, 10);
}

/**
 * Emerging PA: absence in the last 4 school weeks ≥ 10 % while the whole period is below 10 %.
 */
export function isEmergingPersistentAbsence(
  recent: { absence: number; possible: number },
  period: { absence: number; possible: number },
): boolean {
  return (
    isPersistentAbsence(recent.absence, recent.possible) &&
    period.possible > 0 &&
    !isPersistentAbsence(period.absence, period.possible)
  );
}
