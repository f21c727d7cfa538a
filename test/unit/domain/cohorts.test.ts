import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COHORT_BIT,
  COHORTS,
  cohortMasksByDay,
  cohortsEver,
  complementOf,
  episodesOverlapping,
  isCohort,
  inCompulsoryAgePopulation,
  positiveCohortsOf,
  type CareEpisodeSpan,
  type Cohort,
} from '../../../shared/domain/cohorts.js';
import {
  academicYearLength,
  academicYearStart,
  dayNumber,
  dayOfAcademicYear,
  fromDayNumber,
} from '../../../shared/domain/dates.js';
import { CHARACTERISTICS, effectiveByDay, NOT_STATED, type Characteristic } from '../../../shared/domain/register.js';

const YEAR = 2025;

/** Per-day statements: `{ fsm: { '2025-09-01': 'N', '2026-01-05': 'Y' } }`. */
function stated(spec: Partial<Record<Characteristic, Record<string, string>>> = {}): Record<Characteristic, string> {
  const out = {} as Record<Characteristic, string>;
  for (const c of CHARACTERISTICS) {
    const days = NOT_STATED.repeat(366).split('');
    for (const [date, v] of Object.entries(spec[c] ?? {})) days[dayOfAcademicYear(date)] = v;
    out[c] = days.join('');
  }
  return out;
}

const inCohort = (masks: Int32Array, date: string, c: Cohort) => (masks[dayOfAcademicYear(date)] & COHORT_BIT[c]) !== 0;

describe('cohort names', () => {
  it('has every cohort of docs/design.md §2.4 with its complement, and all', () => {
    for (const c of [
      'fsm',
      'sen_ehcp',
      'sen_support',
      'sen_none',
      'cin',
      'cpp',
      'cla',
      'plac',
      'social_worker',
    ] as const) {
      expect(isCohort(c)).toBe(true);
      expect(complementOf(c)).toBe(`non_${c}`);
      expect(complementOf(`non_${c}` as Cohort)).toBe(c);
    }
    expect(complementOf('all')).toBeUndefined();
    expect(isCohort('lac')).toBe(false);
    expect(COHORTS).toHaveLength(19);
  });

  it('gives every cohort its own bit within a 32-bit mask', () => {
    const bits = COHORTS.map((c) => COHORT_BIT[c]);
    expect(new Set(bits).size).toBe(COHORTS.length);
    for (const b of bits) expect(b).toBeGreaterThan(0);
  });
});

describe('cohortMasksByDay: school statements (date-effective)', () => {
  it('puts every day in exactly one of each cohort and its complement, and in all', () => {
    const masks = cohortMasksByDay(
      YEAR,
      stated({ fsm: { '2025-10-01': 'Y' }, sen: { '2025-09-01': 'K' }, cin: { '2025-11-01': 'Y' } }),
    );
    for (let d = 0; d < 366; d++) {
      expect(masks[d] & COHORT_BIT.all).not.toBe(0);
      for (const c of COHORTS) {
        const comp = complementOf(c);
        if (comp === undefined) continue;
        expect(((masks[d] & COHORT_BIT[c]) !== 0) !== ((masks[d] & COHORT_BIT[comp]) !== 0)).toBe(true);
      }
    }
  });

  it('counts a characteristic never stated as "no" (non_fsm, sen_none, no flags)', () => {
    const masks = cohortMasksByDay(YEAR, stated());
    expect(positiveCohortsOf(masks[0])).toEqual(['sen_none']);
    expect(inCohort(masks, '2025-09-01', 'non_fsm')).toBe(true);
    expect(inCohort(masks, '2025-09-01', 'non_social_worker')).toBe(true);
  });

  it('moves a pupil into fsm from the date of the row that says so, and out again from a later row', () => {
    const masks = cohortMasksByDay(YEAR, stated({ fsm: { '2025-09-01': 'N', '2026-01-05': 'Y', '2026-03-02': 'N' } }));
    expect(inCohort(masks, '2026-01-04', 'fsm')).toBe(false);
    expect(inCohort(masks, '2026-01-05', 'fsm')).toBe(true);
    expect(inCohort(masks, '2026-03-01', 'fsm')).toBe(true);
    expect(inCohort(masks, '2026-03-02', 'fsm')).toBe(false);
    expect(inCohort(masks, '2026-03-02', 'non_fsm')).toBe(true);
  });

  it('places sen E in sen_ehcp, K in sen_support and N in sen_none, each exclusive', () => {
    const masks = cohortMasksByDay(YEAR, stated({ sen: { '2025-09-01': 'E', '2025-10-01': 'K', '2025-11-03': 'N' } }));
    expect(positiveCohortsOf(masks[dayOfAcademicYear('2025-09-15')])).toEqual(['sen_ehcp']);
    expect(positiveCohortsOf(masks[dayOfAcademicYear('2025-10-15')])).toEqual(['sen_support']);
    expect(positiveCohortsOf(masks[dayOfAcademicYear('2025-11-15')])).toEqual(['sen_none']);
  });

  it('makes social_worker the union of cin, cpp and cla — not plac', () => {
    for (const c of ['cin', 'cpp', 'cla'] as const) {
      const masks = cohortMasksByDay(YEAR, stated({ [c]: { '2025-09-01': 'Y' } }));
      expect(inCohort(masks, '2025-09-01', 'social_worker')).toBe(true);
    }
    const plac = cohortMasksByDay(YEAR, stated({ plac: { '2025-09-01': 'Y' } }));
    expect(inCohort(plac, '2025-09-01', 'plac')).toBe(true);
    expect(inCohort(plac, '2025-09-01', 'social_worker')).toBe(false);
    expect(inCohort(plac, '2025-09-01', 'non_social_worker')).toBe(true);
  });
});

describe('cohortMasksByDay: LA care episodes', () => {
  it('counts a pupil entering care mid-year in cla only from that date (inclusive)', () => {
    const care: CareEpisodeSpan[] = [{ cohort: 'cla', start: '2026-01-12' }];
    const masks = cohortMasksByDay(YEAR, stated(), care);
    expect(inCohort(masks, '2026-01-11', 'cla')).toBe(false);
    expect(inCohort(masks, '2026-01-11', 'non_cla')).toBe(true);
    expect(inCohort(masks, '2026-01-12', 'cla')).toBe(true);
    expect(inCohort(masks, '2026-07-31', 'cla')).toBe(true);
  });

  it('ends an episode on its end date (inclusive)', () => {
    const masks = cohortMasksByDay(YEAR, stated(), [{ cohort: 'cpp', start: '2025-09-01', end: '2025-10-31' }]);
    expect(inCohort(masks, '2025-10-31', 'cpp')).toBe(true);
    expect(inCohort(masks, '2025-11-01', 'cpp')).toBe(false);
    expect(inCohort(masks, '2025-08-31', 'cpp')).toBe(false);
  });

  it('clips episodes that begin before or end after the academic year, and ignores ones outside it', () => {
    const masks = cohortMasksByDay(YEAR, stated(), [
      { cohort: 'cin', start: '2023-05-01', end: '2025-08-05' },
      { cohort: 'cla', start: '2026-06-01', end: '2027-01-01' },
      { cohort: 'plac', start: '2020-01-01', end: '2021-01-01' },
      { cohort: 'cpp', start: '2026-08-01' },
    ]);
    expect(inCohort(masks, '2025-08-01', 'cin')).toBe(true);
    expect(inCohort(masks, '2025-08-05', 'cin')).toBe(true);
    expect(inCohort(masks, '2025-08-06', 'cin')).toBe(false);
    expect(inCohort(masks, '2026-07-31', 'cla')).toBe(true);
    expect(inCohort(masks, '2026-05-31', 'cla')).toBe(false);
    // 2025/26 has 365 days: slot 365 (the next 1 August) belongs to no session and no cohort episode.
    for (let d = 0; d < 366; d++) {
      expect(masks[d] & COHORT_BIT.plac).toBe(0);
      expect(masks[d] & COHORT_BIT.cpp).toBe(0);
    }
    expect(positiveCohortsOf(cohortsEver(masks))).not.toContain('cpp');
  });

  it('keeps an open episode to the last day of a leap academic year (31 July in slot 365)', () => {
    const masks = cohortMasksByDay(2023, stated(), [{ cohort: 'cla', start: '2024-07-01' }]);
    expect(masks[365] & COHORT_BIT.cla).not.toBe(0);
  });

  it('puts a pupil in a care cohort when either the LA episode or the school flag covers the date', () => {
    const masks = cohortMasksByDay(YEAR, stated({ cla: { '2025-09-01': 'Y', '2025-10-01': 'N' } }), [
      { cohort: 'cla', start: '2025-12-01', end: '2025-12-31' },
    ]);
    expect(inCohort(masks, '2025-09-15', 'cla')).toBe(true); // school flag
    expect(inCohort(masks, '2025-11-15', 'cla')).toBe(false); // neither
    expect(inCohort(masks, '2025-12-15', 'cla')).toBe(true); // LA episode, despite the school's N
  });

  it('counts an LA cin episode towards social_worker', () => {
    const masks = cohortMasksByDay(YEAR, stated(), [{ cohort: 'cin', start: '2025-11-01', end: '2025-11-30' }]);
    expect(inCohort(masks, '2025-11-10', 'social_worker')).toBe(true);
    expect(inCohort(masks, '2025-12-01', 'social_worker')).toBe(false);
  });
});

/**
 * The definition spelled out day by day: the statement in force per characteristic (effectiveByDay,
 * "no" where nothing was ever stated or beyond the statements), or an LA episode covering the day.
 */
function masksByDefinition(
  year: number,
  st: Record<Characteristic, string>,
  care: readonly CareEpisodeSpan[],
): number[] {
  const eff = Object.fromEntries(CHARACTERISTICS.map((c) => [c, effectiveByDay(st[c], 'N')])) as Record<
    Characteristic,
    string
  >;
  const start = dayNumber(academicYearStart(year));
  const inCare = (c: string, d: number) =>
    d < academicYearLength(year) &&
    care.some(
      (e) =>
        e.cohort === c && dayNumber(e.start) - start <= d && (e.end === undefined || dayNumber(e.end) - start >= d),
    );
  return Array.from({ length: 366 }, (_, d) => {
    const on: Cohort[] = ['all'];
    const sen = eff.sen[d];
    const flag = (c: 'cla' | 'cin' | 'cpp' | 'plac') => eff[c][d] === 'Y' || inCare(c, d);
    const pairs: Array<[Cohort, boolean]> = [
      ['fsm', eff.fsm[d] === 'Y'],
      ['sen_ehcp', sen === 'E'],
      ['sen_support', sen === 'K'],
      ['sen_none', sen !== 'E' && sen !== 'K'],
      ['cin', flag('cin')],
      ['cpp', flag('cpp')],
      ['cla', flag('cla')],
      ['plac', flag('plac')],
      ['social_worker', flag('cin') || flag('cpp') || flag('cla')],
    ];
    for (const [c, yes] of pairs) on.push(yes ? c : complementOf(c)!);
    return on.reduce((m, c) => m | COHORT_BIT[c], 0);
  });
}

describe('cohortMasksByDay: the definition', () => {
  it('equals the day-by-day definition for any statements and episodes, in leap and ordinary years', () => {
    const statement = (values: string[]) =>
      fc
        .array(fc.tuple(fc.integer({ min: 0, max: 365 }), fc.constantFrom(...values)), { maxLength: 6 })
        .map((points) => {
          const days = NOT_STATED.repeat(366).split('');
          for (const [d, v] of points) days[d] = v;
          return days.join('');
        });
    const date = fc.integer({ min: dayNumber('2023-06-01'), max: dayNumber('2024-09-30') }).map(fromDayNumber);
    const episode = fc
      .record({
        cohort: fc.constantFrom('cla', 'cin', 'cpp', 'plac' as const),
        start: date,
        end: fc.option(date, { nil: undefined }),
      })
      .map((e) => (e.end !== undefined && e.end < e.start ? { ...e, end: e.start } : e));
    fc.assert(
      fc.property(
        fc.constantFrom(2023, 2024),
        fc.record({
          fsm: statement(['Y', 'N']),
          sen: statement(['N', 'K', 'E']),
          cla: statement(['Y', 'N']),
          plac: statement(['Y', 'N']),
          cin: statement(['Y', 'N']),
          cpp: statement(['Y', 'N']),
        }),
        fc.array(episode, { maxLength: 4 }),
        (year, st, care) => {
          expect(Array.from(cohortMasksByDay(year, st, care))).toEqual(masksByDefinition(year, st, care));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('counts nothing as stated beyond the end of a short statement string', () => {
    const st = { fsm: 'Y', sen: 'E', cla: 'Y', plac: 'Y', cin: 'Y', cpp: 'Y' };
    expect(Array.from(cohortMasksByDay(YEAR, st))).toEqual(masksByDefinition(YEAR, st, []));
    expect(positiveCohortsOf(cohortMasksByDay(YEAR, st)[1])).toEqual(['sen_none']);
  });
});

describe('cohortMasksByDay: asked again for the same statements', () => {
  it('answers from the statements and episodes as they are now, even when the object was changed in place', () => {
    const st = stated();
    const before = cohortMasksByDay(YEAR, st);
    st.fsm = stated({ fsm: { '2025-09-01': 'Y' } }).fsm;
    const after = cohortMasksByDay(YEAR, st);
    expect(inCohort(before, '2025-09-02', 'fsm')).toBe(false);
    expect(inCohort(after, '2025-09-02', 'fsm')).toBe(true);
    const inCare = cohortMasksByDay(YEAR, st, [{ cohort: 'cla', start: '2025-10-01' }]);
    expect(inCohort(inCare, '2025-10-01', 'cla')).toBe(true);
    expect(inCohort(cohortMasksByDay(YEAR, st, []), '2025-10-01', 'cla')).toBe(false);
    expect(inCohort(cohortMasksByDay(2024, st), '2024-09-02', 'fsm')).toBe(true);
  });

  it('gives each caller its own array', () => {
    const st = stated();
    const first = cohortMasksByDay(YEAR, st);
    first.fill(0);
    expect(cohortMasksByDay(YEAR, st)[0] & COHORT_BIT.all).not.toBe(0);
  });
});

describe('cohort unions and episode overlap', () => {
  it('unions the masks over a range of days', () => {
    const masks = cohortMasksByDay(YEAR, stated(), [{ cohort: 'cla', start: '2026-01-12', end: '2026-01-12' }]);
    const jan12 = dayOfAcademicYear('2026-01-12');
    expect(positiveCohortsOf(cohortsEver(masks, 0, jan12 - 1))).toEqual(['sen_none']);
    expect(positiveCohortsOf(cohortsEver(masks, jan12, jan12))).toEqual(['sen_none', 'cla', 'social_worker']);
    expect(positiveCohortsOf(cohortsEver(masks))).toContain('cla');
  });

  it('finds the episodes touching a date range, open episodes included', () => {
    const care: CareEpisodeSpan[] = [
      { cohort: 'cla', start: '2025-01-01', end: '2025-08-31' },
      { cohort: 'cin', start: '2025-09-02' },
      { cohort: 'cpp', start: '2026-01-01', end: '2026-02-01' },
    ];
    expect(episodesOverlapping(care, '2025-08-31', '2025-09-01').map((e) => e.cohort)).toEqual(['cla']);
    expect(episodesOverlapping(care, '2025-09-01', '2025-09-02').map((e) => e.cohort)).toEqual(['cin']);
  });
});

describe('compulsory school age population (aged 5–15 on 31 August before the academic year)', () => {
  it('includes a pupil who turns 5 on 31 August and excludes one who turns 5 on 1 September', () => {
    expect(inCompulsoryAgePopulation({ dob: '2020-08-31' }, 2025)).toBe(true);
    expect(inCompulsoryAgePopulation({ dob: '2020-09-01' }, 2025)).toBe(false);
  });

  it('includes a pupil aged 15 on 31 August and excludes one who turned 16 by then', () => {
    expect(inCompulsoryAgePopulation({ dob: '2009-09-01' }, 2025)).toBe(true); // 15 on 2025-08-31
    expect(inCompulsoryAgePopulation({ dob: '2009-08-31' }, 2025)).toBe(false); // 16 on 2025-08-31
  });

  it("judges age on 31 August of the academic year's first calendar year, not on the day of a session", () => {
    // Turns 16 in October 2025: still in the 2025/26 compulsory population for the whole year.
    expect(inCompulsoryAgePopulation({ dob: '2009-10-10' }, 2025)).toBe(true);
  });

  it('falls back on year groups 1–11 when there is no date of birth', () => {
    for (const yg of ['1', '6', '11']) expect(inCompulsoryAgePopulation({ yearGroup: yg }, 2025)).toBe(true);
    for (const yg of ['N1', 'N2', 'R', '12', '13', '14'])
      expect(inCompulsoryAgePopulation({ yearGroup: yg }, 2025)).toBe(false);
    expect(inCompulsoryAgePopulation({}, 2025)).toBe(false);
  });

  it('prefers the date of birth over the year group (a pupil outside their normal cohort)', () => {
    expect(inCompulsoryAgePopulation({ dob: '2021-01-01', yearGroup: '1' }, 2025)).toBe(false);
  });
});
