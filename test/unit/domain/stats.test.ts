import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MARK_CHAR } from '../../../shared/domain/codes.js';
import {
  absenceOf,
  addCounts,
  CODE_INDEX,
  countMarks,
  emptyCounts,
  isAtRiskOfPersistentAbsence,
  isEmergingPersistentAbsence,
  isPersistentAbsence,
  isSevereAbsence,
  toStats,
  totalsOf,
} from '../../../shared/domain/stats.js';

/** Counts from a list of [code, sessions]. */
function counts(...entries: Array<[string, number]>): Int32Array {
  const c = emptyCounts();
  for (const [code, n] of entries) c[CODE_INDEX[code]] += n;
  return c;
}

/** Stored marks string from codes (one per session). */
const marks = (...codes: string[]) => codes.map((c) => MARK_CHAR[c] ?? c).join('');

describe('session totals (docs/design.md §2.2)', () => {
  it('counts present, approved activity, authorised and unauthorised as possible sessions, and nothing else', () => {
    const t = totalsOf(
      counts(
        ['/', 1],
        ['\\', 1],
        ['L', 1],
        ['K', 2],
        ['B', 1],
        ['I', 3],
        ['C1', 1],
        ['J1', 1],
        ['N', 2],
        ['U', 1],
        ['D', 5],
        ['Y1', 4],
        ['X', 2],
        ['Q', 1],
        ['Z', 3],
        ['#', 6],
      ),
    );
    expect(t).toEqual({ possible: 14, present: 3, approvedActivity: 3, authorised: 5, unauthorised: 3, late: 2 });
  });

  it('counts legacy codes in their category (H and F authorised, J attended, Y not possible)', () => {
    const t = totalsOf(counts(['H', 1], ['F', 1], ['J', 1], ['Y', 1]));
    expect(t).toEqual({ possible: 3, present: 0, approvedActivity: 1, authorised: 2, unauthorised: 0, late: 0 });
  });

  it('counts late sessions as L plus U', () => {
    expect(totalsOf(counts(['L', 3], ['U', 2], ['/', 10], ['N', 4])).late).toBe(5);
  });

  it('ignores no-row and not-yet-marked characters when counting marks', () => {
    const c = countMarks(marks('/', '.', '-', 'N', '-', '.'), emptyCounts());
    expect(totalsOf(c)).toMatchObject({ possible: 2, present: 1, unauthorised: 1 });
    expect(toStats(c).codes).toEqual({ '/': 1, N: 1 });
  });

  it('counts only the sessions in [from, to)', () => {
    const c = countMarks(marks('N', 'N', '/', '/'), emptyCounts(), 1, 3);
    expect(toStats(c).codes).toEqual({ N: 1, '/': 1 });
  });

  it('adds counts code by code', () => {
    const sum = addCounts(counts(['/', 2]), counts(['/', 1], ['N', 1]));
    expect(toStats(sum).codes).toEqual({ '/': 3, N: 1 });
  });
});

describe('toStats', () => {
  it('computes every Stats field by the DfE methodology', () => {
    // 200 possible: 150 present (incl. 4 L), 10 approved, 30 authorised, 10 unauthorised (incl. 2 U); plus 6 not possible.
    const s = toStats(counts(['/', 146], ['L', 4], ['V', 10], ['I', 20], ['M', 10], ['G', 8], ['U', 2], ['D', 6]));
    expect(s).toEqual({
      possibleSessions: 200,
      attendedSessions: 160,
      presentSessions: 150,
      approvedActivitySessions: 10,
      authorisedAbsenceSessions: 30,
      unauthorisedAbsenceSessions: 10,
      absenceSessions: 40,
      lateSessions: 6,
      attendanceRate: 80,
      absenceRate: 20,
      authorisedAbsenceRate: 15,
      unauthorisedAbsenceRate: 5,
      codes: { '/': 146, L: 4, V: 10, I: 20, M: 10, G: 8, U: 2, D: 6 },
    });
  });

  it('gives null rates (not 0 %) when there are no possible sessions', () => {
    const s = toStats(counts(['D', 4], ['#', 2]));
    expect(s).toMatchObject({
      possibleSessions: 0,
      attendanceRate: null,
      absenceRate: null,
      authorisedAbsenceRate: null,
      unauthorisedAbsenceRate: null,
    });
    expect(s.codes).toEqual({ D: 4, '#': 2 });
  });

  it('makes attendance and absence rates sum to 100 for any counts with a possible session', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('/', 'L', 'K', 'I', 'C2', 'N', 'U', 'D', 'Y3', 'Z', '#'), fc.nat(50))),
        (entries) => {
          const s = toStats(counts(...entries));
          if (s.possibleSessions === 0) return s.attendanceRate === null;
          return (
            Math.abs((s.attendanceRate ?? 0) + (s.absenceRate ?? 0) - 100) < 1e-9 &&
            s.attendedSessions + s.absenceSessions === s.possibleSessions
          );
        },
      ),
    );
  });
});

describe('persistent absence (≥ 10 %)', () => {
  it('counts exactly 10% absence as persistent absence (19 of 190, i.e. 90.0% attendance)', () => {
    expect(isPersistentAbsence(19, 190)).toBe(true);
    expect(isPersistentAbsence(1, 10)).toBe(true);
  });

  it('does not count 9.99% absence as persistent absence', () => {
    expect(isPersistentAbsence(999, 10_000)).toBe(false);
    expect(isPersistentAbsence(18, 190)).toBe(false);
  });

  it('counts 10.01% absence as persistent absence', () => {
    expect(isPersistentAbsence(1001, 10_000)).toBe(true);
  });

  it('judges PA from counts, not from a rounded rate (19 of 190 via Stats is PA too)', () => {
    const c = counts(['/', 171], ['I', 19]);
    const s = toStats(c);
    expect(s.attendanceRate).toBeCloseTo(90, 10);
    const { absence, possible } = absenceOf(c);
    expect(isPersistentAbsence(absence, possible)).toBe(true);
  });

  it('never counts an enrolment with 0 possible sessions as PA or SA', () => {
    expect(isPersistentAbsence(0, 0)).toBe(false);
    expect(isSevereAbsence(0, 0)).toBe(false);
  });

  it('has no minimum number of sessions: 1 absence in 1 session is PA and SA', () => {
    expect(isPersistentAbsence(1, 1)).toBe(true);
    expect(isSevereAbsence(1, 1)).toBe(true);
  });
});

describe('severe absence (≥ 50 %)', () => {
  it('counts exactly 50% absence as severe absence', () => {
    expect(isSevereAbsence(95, 190)).toBe(true);
    expect(isSevereAbsence(5000, 10_000)).toBe(true);
  });

  it('does not count 49.99% absence as severe absence, and counts 50.01%', () => {
    expect(isSevereAbsence(4999, 10_000)).toBe(false);
    expect(isSevereAbsence(5001, 10_000)).toBe(true);
  });

  it('makes every severely absent enrolment persistently absent too (SA ⊂ PA)', () => {
    fc.assert(
      fc.property(fc.nat(2000), fc.nat(2000), (a, extra) => {
        const possible = a + extra;
        return !isSevereAbsence(a, possible) || isPersistentAbsence(a, possible);
      }),
    );
  });
});

describe('at risk of PA (5 % ≤ absence < 10 %)', () => {
  it('starts at exactly 5% and stops just below 10%', () => {
    expect(isAtRiskOfPersistentAbsence(499, 10_000)).toBe(false);
    expect(isAtRiskOfPersistentAbsence(500, 10_000)).toBe(true);
    expect(isAtRiskOfPersistentAbsence(999, 10_000)).toBe(true);
    expect(isAtRiskOfPersistentAbsence(1000, 10_000)).toBe(false);
  });

  it('takes an LA-configured lower bound', () => {
    expect(isAtRiskOfPersistentAbsence(7, 100, 8)).toBe(false);
    expect(isAtRiskOfPersistentAbsence(8, 100, 8)).toBe(true);
  });

  it('is never true without possible sessions', () => {
    expect(isAtRiskOfPersistentAbsence(0, 0)).toBe(false);
  });
});

describe('emerging PA (last 4 school weeks ≥ 10 % while the period is below 10 %)', () => {
  it('flags recent absence of exactly 10% when the period is just below 10%', () => {
    expect(isEmergingPersistentAbsence({ absence: 4, possible: 40 }, { absence: 18, possible: 190 })).toBe(true);
  });

  it('does not flag when recent absence is below 10%', () => {
    expect(isEmergingPersistentAbsence({ absence: 3, possible: 40 }, { absence: 5, possible: 190 })).toBe(false);
  });

  it('does not flag a pupil already PA over the period', () => {
    expect(isEmergingPersistentAbsence({ absence: 20, possible: 40 }, { absence: 19, possible: 190 })).toBe(false);
  });

  it('does not flag without possible sessions in either span', () => {
    expect(isEmergingPersistentAbsence({ absence: 0, possible: 0 }, { absence: 0, possible: 100 })).toBe(false);
    expect(isEmergingPersistentAbsence({ absence: 5, possible: 10 }, { absence: 0, possible: 0 })).toBe(false);
  });
});
