import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALL_CODES, CODE_CATEGORY, MARK_CHAR } from '../../../shared/domain/codes.js';
import {
  cohortMasksByDay,
  cohortsEver,
  positiveCohortsOf,
  type CareEpisodeSpan,
} from '../../../shared/domain/cohorts.js';
import {
  addDays,
  dateOfAcademicDay,
  dayOfAcademicYear,
  DAYS_PER_YEAR_SLOT,
  isWeekend,
  sessionIndex,
  weekdayIndex,
  weekStart,
} from '../../../shared/domain/dates.js';
import { EMPTY_MARKS, NOT_STATED, CHARACTERISTICS, type Characteristic } from '../../../shared/domain/register.js';
import {
  summarisePupilYear,
  type Enrolment,
  type EnrolmentSummary,
  type PupilFlag,
  type PupilYearSummary,
  type SummaryOptions,
} from '../../../shared/domain/pupil-summary.js';
import {
  absenceOf,
  countMarks,
  emptyCounts,
  INDEX_OF_CHAR,
  isAtRiskOfPersistentAbsence,
  isEmergingPersistentAbsence,
  isPersistentAbsence,
  isSevereAbsence,
  CODE_INDEX,
  toStats,
  type CodeCounts,
} from '../../../shared/domain/stats.js';
import { makeUpn } from '../../../shared/domain/upn.js';

const UPN = makeUpn('999400125001');
const YEAR = 2025;
const OPTIONS: SummaryOptions = { atRiskLowerPercent: 5, emergingWeeks: 4 };

/** School days (Mon–Fri) from a start date. */
function schoolDays(from: string, n: number): string[] {
  const out: string[] = [];
  for (let d = from; out.length < n; d = addDays(d, 1)) if (!isWeekend(d)) out.push(d);
  return out;
}

/** Marks string with one [am, pm] pair of DfE codes per date. */
function marksOf(days: Array<[date: string, am: string, pm: string]>): string {
  const m = EMPTY_MARKS.split('');
  for (const [date, am, pm] of days) {
    m[sessionIndex(date, 'AM')] = am === '' ? '-' : MARK_CHAR[am];
    m[sessionIndex(date, 'PM')] = pm === '' ? '-' : MARK_CHAR[pm];
  }
  return m.join('');
}

function noStatements(): Record<Characteristic, string> {
  return Object.fromEntries(CHARACTERISTICS.map((c) => [c, NOT_STATED.repeat(366)])) as Record<Characteristic, string>;
}

function enrolment(urn: string, days: Array<[string, string, string]>, extra: Partial<Enrolment> = {}): Enrolment {
  const dates = days.map((d) => d[0]).sort();
  return {
    upn: UPN,
    urn,
    academicYear: YEAR,
    registration: 'C',
    firstListed: dates[0],
    lastListed: dates[dates.length - 1],
    marks: marksOf(days),
    stated: noStatements(),
    ...extra,
  };
}

/** `n` school days from `from`, each day coded `code` in both sessions. */
const run = (from: string, n: number, code: string) =>
  schoolDays(from, n).map((d): [string, string, string] => [d, code, code]);

/** 95 school days = 190 sessions, `absent` of them coded I (absent days first, whole days). */
function year190(absentSessions: number): Array<[string, string, string]> {
  const days = schoolDays('2025-09-01', 95);
  return days.map((d, i): [string, string, string] => {
    const am = i * 2 < absentSessions ? 'I' : '/';
    const pm = i * 2 + 1 < absentSessions ? 'I' : '/';
    return [d, am, pm];
  });
}

describe('summarisePupilYear: PA and SA for one enrolment', () => {
  it('counts exactly 10% absence (19 of 190, 90.0% attendance) as persistent absence', () => {
    const s = summarisePupilYear(UPN, YEAR, [enrolment('100001', year190(19))], [], OPTIONS);
    expect([s.absence, s.possible]).toEqual([19, 190]);
    expect(s.persistentAbsence).toBe(true);
    expect(s.enrolments[0].persistentAbsence).toBe(true);
    expect(s.flags.map((f) => f.type)).toEqual(['persistent_absence']);
  });

  it('does not count 18 of 190 (9.47%) as PA, but flags it at risk', () => {
    const s = summarisePupilYear(UPN, YEAR, [enrolment('100001', year190(18))], [], OPTIONS);
    expect(s.persistentAbsence).toBe(false);
    expect(s.flags.map((f) => f.type)).toEqual(['at_risk_pa']);
  });

  it('counts exactly 50% (95 of 190) as severe absence, and SA pupils as PA too', () => {
    const s = summarisePupilYear(UPN, YEAR, [enrolment('100001', year190(95))], [], OPTIONS);
    expect([s.persistentAbsence, s.severeAbsence]).toEqual([true, true]);
    expect(s.flags.map((f) => f.type)).toEqual(['persistent_absence', 'severe_absence']);
    const s94 = summarisePupilYear(UPN, YEAR, [enrolment('100001', year190(94))], [], OPTIONS);
    expect(s94.severeAbsence).toBe(false);
  });

  it('starts at risk at exactly 5% (10 of 200) and not at 9 of 200', () => {
    const days = (absent: number) =>
      schoolDays('2025-09-01', 100).map((d, i): [string, string, string] => [
        d,
        i * 2 < absent ? 'N' : '/',
        i * 2 + 1 < absent ? 'N' : '/',
      ]);
    expect(
      summarisePupilYear(UPN, YEAR, [enrolment('100001', days(10))], [], OPTIONS).flags.map((f) => f.type),
    ).toEqual(['at_risk_pa']);
    expect(summarisePupilYear(UPN, YEAR, [enrolment('100001', days(9))], [], OPTIONS).flags).toEqual([]);
  });

  it('uses the LA-configured at-risk lower bound', () => {
    const s = summarisePupilYear(UPN, YEAR, [enrolment('100001', year190(12))], [], {
      ...OPTIONS,
      atRiskLowerPercent: 7,
    });
    expect(s.flags).toEqual([]); // 6.3% < 7%
  });

  it('leaves a pupil with no possible sessions unflagged, with zero counts', () => {
    const s = summarisePupilYear(UPN, YEAR, [enrolment('100001', run('2025-09-01', 5, 'Y1'))], [], OPTIONS);
    expect([s.possible, s.absence, s.persistentAbsence, s.severeAbsence]).toEqual([0, 0, false, false]);
    expect(s.flags).toEqual([]);
  });

  it('does not count not-yet-marked sessions as possible', () => {
    const s = summarisePupilYear(
      UPN,
      YEAR,
      [
        enrolment('100001', [
          ['2025-09-01', '', 'N'],
          ['2025-09-02', '/', ''],
        ]),
      ],
      [],
      OPTIONS,
    );
    expect([s.possible, s.absence]).toEqual([2, 1]);
  });

  it('says since when the pupil has been PA without a break', () => {
    // 9 present days, then absent for 2 days: year-to-date first reaches 10% on day 10's AM (2/20)…
    const days: Array<[string, string, string]> = [...run('2025-09-01', 9, '/'), ...run('2025-09-12', 1, 'N')];
    const s = summarisePupilYear(UPN, YEAR, [enrolment('100001', days)], [], OPTIONS);
    expect(s.flags[0]).toMatchObject({ type: 'persistent_absence', since: '2025-09-12' });
  });
});

describe('summarisePupilYear: across schools (docs/design.md §2.2)', () => {
  it("sums counts over the pupil's enrolments, then applies the thresholds to the combined figures", () => {
    // School A: 10 absent of 100 (PA on its own). School B: 0 of 100. Combined 10 of 200 = 5%: not PA.
    const a = enrolment('100001', [...run('2025-09-01', 5, 'N'), ...run('2025-09-08', 45, '/')]);
    const b = enrolment('100002', run('2026-01-05', 50, '/'));
    const s = summarisePupilYear(UPN, YEAR, [a, b], [], OPTIONS);
    expect(s.enrolments.map((e) => [e.urn, e.persistentAbsence])).toEqual([
      ['100001', true],
      ['100002', false],
    ]);
    expect([s.absence, s.possible, s.persistentAbsence]).toEqual([10, 200, false]);
  });

  it('never double-counts a dual-registered pupil: D at one school is not a possible session', () => {
    // Main school (M) Mon–Wed, subsidiary (S) Thu–Fri; each codes D when the pupil is at the other.
    const days = schoolDays('2025-09-01', 20);
    const atMain = (d: string) => weekdayIndex(d) <= 2;
    const main = enrolment(
      '100001',
      days.map((d): [string, string, string] => (atMain(d) ? [d, '/', 'N'] : [d, 'D', 'D'])),
      { registration: 'M' },
    );
    const sub = enrolment(
      '100002',
      days.map((d): [string, string, string] => (atMain(d) ? [d, 'D', 'D'] : [d, '/', '/'])),
      { registration: 'S' },
    );
    const s = summarisePupilYear(UPN, YEAR, [main, sub], [], OPTIONS);
    // 20 days = 40 sessions in all, each attended or absent at exactly one school.
    expect(s.possible).toBe(40);
    expect(s.absence).toBe(12); // the 12 Mon–Wed afternoons
    expect(s.counts[CODE_INDEX.D]).toBe(40);
    expect(toStats(s.counts).possibleSessions).toBe(40);
    expect(s.persistentAbsence).toBe(true);
    expect(s.severeAbsence).toBe(false);
  });

  it('ignores enrolments of other academic years', () => {
    const other = { ...enrolment('100001', run('2025-09-01', 5, 'N')), academicYear: 2024 };
    const s = summarisePupilYear(UPN, YEAR, [other, enrolment('100002', run('2025-09-01', 5, '/'))], [], OPTIONS);
    expect(s.enrolments.map((e) => e.urn)).toEqual(['100002']);
    expect(s.absence).toBe(0);
  });

  it("takes the pupil's details and current cohorts from the most recent enrolment", () => {
    const stated = noStatements();
    stated.fsm = 'Y'.repeat(366);
    const a = enrolment('100001', run('2025-09-01', 5, '/'), { forename: 'Old', yearGroup: '6' });
    const b = enrolment('100002', run('2025-10-01', 5, '/'), { forename: 'New', yearGroup: '7', stated });
    const s = summarisePupilYear(UPN, YEAR, [b, a], [], OPTIONS);
    expect([s.forename, s.yearGroup]).toEqual(['New', '7']);
    expect(s.cohorts).toContain('fsm');
    expect(s.lastDate).toBe(b.lastListed);
  });
});

describe('summarisePupilYear: cohorts', () => {
  it('lists cohorts held on the latest listed date, and every cohort held while on roll in the year', () => {
    const e = enrolment('100001', run('2025-09-01', 30, '/'));
    const s = summarisePupilYear(
      UPN,
      YEAR,
      [e],
      [
        { cohort: 'cla', start: '2025-09-10', end: '2025-09-20' },
        { cohort: 'cin', start: '2025-10-01' },
      ],
      OPTIONS,
    );
    expect(s.everCohorts).toEqual(expect.arrayContaining(['cla', 'cin', 'social_worker']));
    expect(s.cohorts).toEqual(expect.arrayContaining(['cin', 'social_worker']));
    expect(s.cohorts).not.toContain('cla');
  });

  it('does not count a care episode entirely outside the pupil\'s time on roll as "ever" in the cohort', () => {
    const e = enrolment('100001', run('2025-09-01', 10, '/'));
    const s = summarisePupilYear(UPN, YEAR, [e], [{ cohort: 'cla', start: '2026-03-01' }], OPTIONS);
    expect(s.everCohorts).not.toContain('cla');
  });
});

describe('summarisePupilYear: emerging PA (last 4 school weeks ≥ 10 % while the period is below 10 %)', () => {
  // 16 school weeks: 12 fully present, then the last 4 weeks with 4 of 40 sessions absent (exactly 10%).
  const days: Array<[string, string, string]> = [
    ...run('2025-09-01', 60, '/'),
    ...schoolDays(addDays('2025-09-01', 12 * 7), 20).map((d, i): [string, string, string] => [
      d,
      i < 4 ? 'N' : '/',
      '/',
    ]),
  ];
  const weeks = [...new Set(days.map((d) => weekStart(d[0])))].sort();

  it('flags recent absence of exactly 10% while the year is at 2.5%', () => {
    const s = summarisePupilYear(UPN, YEAR, [enrolment('100001', days)], [], { ...OPTIONS, schoolWeeks: weeks });
    expect(weeks).toHaveLength(16);
    expect([s.absence, s.possible]).toEqual([4, 160]);
    const emerging = s.flags.find((f) => f.type === 'emerging_pa');
    expect(emerging).toMatchObject({
      since: weeks[12],
      detail: { recentAbsenceSessions: 4, recentPossibleSessions: 40, weeks: 4 },
    });
  });

  it('does not flag when the last 4 school weeks are just below 10%', () => {
    const fewer = days.map((d): [string, string, string] =>
      d[0] === days[days.length - 20 + 3][0] ? [d[0], '/', '/'] : d,
    );
    const s = summarisePupilYear(UPN, YEAR, [enrolment('100001', fewer)], [], { ...OPTIONS, schoolWeeks: weeks });
    expect(s.flags.find((f) => f.type === 'emerging_pa')).toBeUndefined();
  });

  it("does not flag without the pupil's school weeks", () => {
    const s = summarisePupilYear(UPN, YEAR, [enrolment('100001', days)], [], OPTIONS);
    expect(s.flags.find((f) => f.type === 'emerging_pa')).toBeUndefined();
  });

  it('does not flag a pupil already PA over the period', () => {
    const allAbsent = days.map((d): [string, string, string] => [d[0], 'N', 'N']);
    const s = summarisePupilYear(UPN, YEAR, [enrolment('100001', allAbsent)], [], { ...OPTIONS, schoolWeeks: weeks });
    expect(s.flags.map((f) => f.type)).toEqual(['persistent_absence', 'severe_absence']);
  });
});

// ---- The single-pass summary against the straightforward full scans it replaced ---------------------

const ABSENT = ALL_CODES.map((c) => CODE_CATEGORY[c] === 'authorised' || CODE_CATEGORY[c] === 'unauthorised');
const POSSIBLE = ALL_CODES.map((c) =>
  ['present', 'approved_activity', 'authorised', 'unauthorised'].includes(CODE_CATEGORY[c]),
);

function summaryByFullScan(
  upn: string,
  academicYear: number,
  enrolments: readonly Enrolment[],
  care: readonly CareEpisodeSpan[],
  options: SummaryOptions,
): PupilYearSummary {
  const mine = enrolments
    .filter((e) => e.academicYear === academicYear)
    .sort((a, b) => (a.lastListed < b.lastListed ? -1 : a.lastListed > b.lastListed ? 1 : a.urn < b.urn ? -1 : 1));
  const total = emptyCounts();
  const enrolmentSummaries: EnrolmentSummary[] = mine.map((e) => {
    const counts = countMarks(e.marks, emptyCounts());
    for (let i = 0; i < counts.length; i++) total[i] += counts[i];
    const { absence, possible } = absenceOf(counts);
    return {
      urn: e.urn,
      academicYear: e.academicYear,
      registration: e.registration,
      admissionDate: e.admissionDate,
      leavingDate: e.leavingDate,
      firstListed: e.firstListed,
      lastListed: e.lastListed,
      counts: Array.from(counts),
      persistentAbsence: isPersistentAbsence(absence, possible),
      severeAbsence: isSevereAbsence(absence, possible),
    };
  });
  const { absence, possible } = absenceOf(total);
  const latest = mine[mine.length - 1];

  // Cohorts: union over the pupil's schools (school statements) and the LA's care episodes.
  let everMask = 0;
  let currentMask = 0;
  let lastDay = -1;
  const dailyAbsent = new Int32Array(DAYS_PER_YEAR_SLOT);
  const dailyPossible = new Int32Array(DAYS_PER_YEAR_SLOT);
  for (const e of mine) {
    const masks = cohortMasksByDay(academicYear, e.stated, care);
    const first = dayOfAcademicYear(e.firstListed);
    const last = dayOfAcademicYear(e.lastListed);
    everMask |= cohortsEver(masks, first, last);
    if (last >= lastDay) {
      currentMask = last > lastDay ? masks[last] : currentMask | masks[last];
      lastDay = last;
    }
    for (let s = 0; s < e.marks.length; s++) {
      const ix = INDEX_OF_CHAR[e.marks.charCodeAt(s)];
      if (ix < 0) continue;
      if (POSSIBLE[ix]) dailyPossible[s >> 1]++;
      if (ABSENT[ix]) dailyAbsent[s >> 1]++;
    }
  }

  const flags: PupilFlag[] = [];
  const since = (test: (a: number, p: number) => boolean) =>
    sinceDateByFullScan(academicYear, dailyAbsent, dailyPossible, test);
  if (isPersistentAbsence(absence, possible)) {
    flags.push({
      type: 'persistent_absence',
      since: since(isPersistentAbsence),
      detail: { absenceSessions: absence, possibleSessions: possible },
    });
  }
  if (isSevereAbsence(absence, possible)) {
    flags.push({
      type: 'severe_absence',
      since: since(isSevereAbsence),
      detail: { absenceSessions: absence, possibleSessions: possible },
    });
  }
  if (isAtRiskOfPersistentAbsence(absence, possible, options.atRiskLowerPercent)) {
    flags.push({
      type: 'at_risk_pa',
      since: since((a, p) => isAtRiskOfPersistentAbsence(a, p, options.atRiskLowerPercent)),
      detail: { absenceSessions: absence, possibleSessions: possible, lowerPercent: options.atRiskLowerPercent },
    });
  }
  const weeks = options.schoolWeeks ?? [];
  if (weeks.length > 0) {
    const recentWeeks = weeks.slice(-options.emergingWeeks);
    const fromDay = Math.max(
      0,
      dayOfAcademicYear(recentWeeks[0] < `${academicYear}-08-01` ? `${academicYear}-08-01` : recentWeeks[0]),
    );
    let ra = 0;
    let rp = 0;
    for (let d = fromDay; d < DAYS_PER_YEAR_SLOT; d++) {
      ra += dailyAbsent[d];
      rp += dailyPossible[d];
    }
    if (isEmergingPersistentAbsence({ absence: ra, possible: rp }, { absence, possible })) {
      flags.push({
        type: 'emerging_pa',
        since: dateOfAcademicDay(academicYear, fromDay),
        detail: {
          recentAbsenceSessions: ra,
          recentPossibleSessions: rp,
          weeks: recentWeeks.length,
          absenceSessions: absence,
          possibleSessions: possible,
        },
      });
    }
  }

  return {
    upn,
    academicYear,
    forename: latest?.forename,
    surname: latest?.surname,
    dob: latest?.dob,
    sex: latest?.sex,
    yearGroup: latest?.yearGroup,
    uprn: latest?.uprn,
    cohorts: positiveCohortsOf(currentMask),
    everCohorts: positiveCohortsOf(everMask),
    enrolments: enrolmentSummaries,
    counts: Array.from(total as CodeCounts),
    absence,
    possible,
    persistentAbsence: isPersistentAbsence(absence, possible),
    severeAbsence: isSevereAbsence(absence, possible),
    flags,
    lastDate: lastDay >= 0 ? dateOfAcademicDay(academicYear, lastDay) : undefined,
  };
}

/**
 * (Reference) The first date from which the running year-to-date figures have met `test` on every day since
 * (so "PA since 3 October" means the pupil has been PA on every school day from 3 October on).
 */
function sinceDateByFullScan(
  academicYear: number,
  absent: Int32Array,
  possible: Int32Array,
  test: (a: number, p: number) => boolean,
): string {
  let a = 0;
  let p = 0;
  let since = -1;
  for (let d = 0; d < DAYS_PER_YEAR_SLOT; d++) {
    if (possible[d] === 0 && absent[d] === 0) continue;
    a += absent[d];
    p += possible[d];
    if (test(a, p)) {
      if (since < 0) since = d;
    } else {
      since = -1;
    }
  }
  return dateOfAcademicDay(academicYear, Math.max(0, since));
}

describe('summarisePupilYear: the same summary as full scans of every slot and day', () => {
  it('for any enrolments, statements, care episodes and school weeks', () => {
    const code = fc.constantFrom('/', '/', 'L', 'V', 'I', 'M', 'N', 'U', 'G', 'O', 'D', 'Z', '#', '-');
    const runArb = fc.record({
      from: fc.integer({ min: 0, max: 364 }),
      length: fc.integer({ min: 1, max: 90 }),
      am: code,
      pm: code,
    });
    const dayArb = fc.integer({ min: 0, max: 364 });
    const enrolmentArb = fc.record({
      urn: fc.constantFrom('100001', '100002', '100003'),
      registration: fc.constantFrom('C', 'M', 'S' as const),
      runs: fc.array(runArb, { minLength: 0, maxLength: 4 }),
      fsm: fc.array(fc.tuple(dayArb, fc.constantFrom('Y', 'N')), { maxLength: 3 }),
      listedFrom: dayArb,
      listedDays: fc.integer({ min: 0, max: 200 }),
    });
    const careArb = fc.array(
      fc.record({
        cohort: fc.constantFrom('cla', 'cin', 'cpp', 'plac' as const),
        start: dayArb,
        days: fc.integer({ min: 0, max: 120 }),
      }),
      { maxLength: 2 },
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(enrolmentArb, { selector: (e) => e.urn, minLength: 1, maxLength: 3 }),
        careArb,
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 6 }),
        (specs, careSpecs, weekCount, emergingWeeks) => {
          const enrolments: Enrolment[] = specs.map((sp) => {
            const m = EMPTY_MARKS.split('');
            for (const r of sp.runs) {
              for (let d = r.from; d < Math.min(365, r.from + r.length); d++) {
                m[d * 2] = MARK_CHAR[r.am] ?? r.am;
                m[d * 2 + 1] = MARK_CHAR[r.pm] ?? r.pm;
              }
            }
            const st = noStatements();
            const fsm = st.fsm.split('');
            for (const [d, v] of sp.fsm) fsm[d] = v;
            return {
              upn: UPN,
              urn: sp.urn,
              academicYear: YEAR,
              registration: sp.registration,
              firstListed: dateOfAcademicDay(YEAR, sp.listedFrom),
              lastListed: dateOfAcademicDay(YEAR, Math.min(364, sp.listedFrom + sp.listedDays)),
              marks: m.join(''),
              stated: { ...st, fsm: fsm.join('') },
            };
          });
          const care: CareEpisodeSpan[] = careSpecs.map((c) => ({
            cohort: c.cohort,
            start: dateOfAcademicDay(YEAR, c.start),
            end: dateOfAcademicDay(YEAR, Math.min(364, c.start + c.days)),
          }));
          const weeks = Array.from({ length: weekCount }, (_, i) => weekStart(addDays('2025-09-01', i * 7)));
          const options: SummaryOptions = { atRiskLowerPercent: 5, emergingWeeks, schoolWeeks: weeks };
          expect(summarisePupilYear(UPN, YEAR, enrolments, care, options)).toEqual(
            summaryByFullScan(UPN, YEAR, enrolments, care, options),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
