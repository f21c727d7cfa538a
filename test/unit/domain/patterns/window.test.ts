/**
 * Issue 21, second year: the holiday-adjacent test (and the family pass) look at the 12 months to the
 * run's last day, so last year's breaks count; a pupil new to the LA this year is judged on this year
 * alone, and the finding says so.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LA_SETTINGS } from '../../../../shared/config.js';
import { schoolDays, schoolCalendar, type Closure } from '../../../../shared/domain/calendar.js';
import {
  analysisWindow,
  detectPatterns,
  patternSettings,
  type FamilyFinding,
  type HolidayAdjacentFinding,
  type SchoolPatternSource,
} from '../../../../shared/domain/patterns/index.js';
import {
  ADJ,
  BANK_HOLIDAYS,
  BESIDE_FOUR_BREAKS,
  LA_CLOSURES,
  calendarOf,
  marksFor,
  on,
  registerOf,
  termDays,
  type Codes,
  type HandPupil,
} from './fixtures.js';

/** 2024/25 on the LA calendar (K = 2 days either side in the comments). */
const LAST_YEAR_CLOSURES: Closure[] = [
  { start: '2024-07-24', end: '2024-09-03', label: 'Summer holiday' },
  { start: '2024-10-28', end: '2024-11-01', label: 'October half term' },
  { start: '2024-12-23', end: '2025-01-03', label: 'Christmas holiday' },
  { start: '2025-02-17', end: '2025-02-21', label: 'February half term' }, // before: 13, 14 Feb; after: 24, 25 Feb
  { start: '2025-04-07', end: '2025-04-18', label: 'Easter holiday' }, // before: 3, 4 Apr; after: 22, 23 Apr (21 Apr a bank holiday)
  { start: '2025-05-26', end: '2025-05-30', label: 'May half term' },
];
const CLOSURES = [...LAST_YEAR_CLOSURES, ...LA_CLOSURES];
const LAST_YEAR_DAYS = schoolDays(
  schoolCalendar({ urn: '100001', closures: CLOSURES, bankHolidays: BANK_HOLIDAYS }),
  '2024-08-01',
  '2025-07-31',
);
const DAYS = termDays(CLOSURES);
const LAST_FEB = ['2025-02-13', '2025-02-14', '2025-02-24', '2025-02-25'];
const LAST_EASTER = ['2025-04-03', '2025-04-04', '2025-04-22', '2025-04-23'];
const JAN = '2026-01-31';

type Pupil = { upn: string; codes: Codes; uprn?: string };

/** One school with this year's register to `to` and, for the pupils given, last year's. */
function school(thisYear: Pupil[], lastYear: Pupil[], to: string, urn = '100001'): SchoolPatternSource {
  const now: HandPupil[] = thisYear.map((p) => ({ upn: p.upn, uprn: p.uprn, marks: marksFor(DAYS, p.codes, { to }) }));
  const before: HandPupil[] = lastYear.map((p) => ({
    upn: p.upn,
    uprn: p.uprn,
    marks: marksFor(LAST_YEAR_DAYS, p.codes),
  }));
  const registers = [registerOf(urn, before, 2024), registerOf(urn, now, 2025)];
  return { urn, registers, calendar: calendarOf(urn, registers, CLOSURES) };
}

function families(schools: SchoolPatternSource[], to: string, windowMonths = 12): FamilyFinding[] {
  const settings = patternSettings(DEFAULT_LA_SETTINGS, { holidayAdjacent: { windowMonths } });
  return detectPatterns({ schools, period: { from: '2025-08-01', to }, settings }).findings.filter(
    (f): f is FamilyFinding => f.type === 'family_pattern',
  );
}

/** Pupils present every day at a school, so it has a register and a calendar of its own. */
const others = (prefix: string): Pupil[] => Array.from({ length: 3 }, (_, i) => ({ upn: `${prefix}${i}`, codes: {} }));

function holiday(source: SchoolPatternSource, to: string, windowMonths = 12): HolidayAdjacentFinding[] {
  const settings = patternSettings(DEFAULT_LA_SETTINGS, { holidayAdjacent: { windowMonths } });
  return detectPatterns({ schools: [source], period: { from: '2025-08-01', to }, settings }).findings.filter(
    (f): f is HolidayAdjacentFinding => f.type === 'holiday_adjacent_absence',
  );
}

describe('the 12-month window', () => {
  it('runs over the 12 months to the last day, never less than the period', () => {
    expect(analysisWindow({ from: '2025-08-01', to: '2026-01-31' }, 12)).toEqual({
      from: '2025-02-01',
      to: '2026-01-31',
    });
    expect(analysisWindow({ from: '2025-08-01', to: '2026-07-31' }, 12)).toEqual({
      from: '2025-08-01',
      to: '2026-07-31',
    });
    expect(analysisWindow({ from: '2025-08-01', to: '2026-03-31' }, 1)).toEqual({
      from: '2025-08-01',
      to: '2026-03-31',
    });
    expect(analysisWindow({ from: '2025-08-01', to: '2026-01-31' }, 0)).toEqual({
      from: '2025-08-01',
      to: '2026-01-31',
    });
  });

  // This year to 31 January: the school day before October half term and the one after Christmas — too little alone.
  const thisYear = on([ADJ.octBefore[1], ADJ.xmasAfter[0]], 'I');
  const lastYear = on([...LAST_FEB, ...LAST_EASTER], 'I');

  it("counts last year's breaks: by January a pupil off beside October and Christmas and last year's February and Easter is a finding, naming each break with its year", () => {
    const source = school([{ upn: 'P1', codes: thisYear }], [{ upn: 'P1', codes: lastYear }], JAN);
    const [f] = holiday(source, JAN);
    expect(f).toBeDefined();
    expect(f).toMatchObject({ upn: 'P1', observed: 20, absenceSessions: 20, window: { from: '2025-02-01', to: JAN } });
    expect(f.registersFrom).toBeUndefined();
    expect(f.breaks.map((b) => `${b.label} ${b.start.slice(0, 4)}`)).toEqual([
      'February half term 2025',
      'Easter holiday 2025',
      'October half term 2025',
      'Christmas holiday 2025',
    ]);
    expect(f.explanation).toMatch(
      /next to 4 different holidays \(February half term 2025, Easter holiday 2025, October half term 2025 and Christmas holiday 2025\)/,
    );
    expect(f.explanation).toMatch(/between 3 February 2025 and 30 January 2026/);
    // The same registers with the academic year alone: no finding.
    expect(holiday(source, JAN, 0)).toEqual([]);
  });

  it('judges a pupil new to the LA this year on this year alone, and says so', () => {
    // P2 has the same year as P1 but no register last year: nothing to add, no finding.
    const p2 = school(
      [
        { upn: 'P2', codes: thisYear },
        { upn: 'OLD', codes: {} },
      ],
      [{ upn: 'OLD', codes: {} }],
      JAN,
    );
    expect(holiday(p2, JAN)).toEqual([]);
    // P3, new this year, both sides of the October and February half terms and the day after Christmas
    // and Easter (four separate absences), nothing else: a finding on this year's evidence, which it states.
    const to = '2026-06-30';
    const p3 = school(
      [
        {
          upn: 'P3',
          codes: on(BESIDE_FOUR_BREAKS, 'I'),
        },
        { upn: 'OLD', codes: {} },
      ],
      [{ upn: 'OLD', codes: {} }],
      to,
    );
    const [f] = holiday(p3, to);
    expect(f).toMatchObject({
      upn: 'P3',
      observed: 20,
      registersFrom: '2025-09-03',
      window: { from: '2025-07-01', to },
    });
    expect(f.explanation).toMatch(
      /The LA holds no register for this pupil before 3 September 2025, so only this school year's absence was tested\.$/,
    );
    expect(f.explanation).toMatch(/\(October half term, Christmas holiday, February half term and Easter holiday\)/);
  });

  it("still never flags one illness spanning a half term when it was last year's and this year has no absence", () => {
    const source = school([{ upn: 'P4', codes: {} }], [{ upn: 'P4', codes: on(LAST_FEB, 'I') }], JAN);
    expect(holiday(source, JAN)).toEqual([]);
  });

  it("counts last year's shared days for a family: two children at different schools off together beside last year's February and Easter and this year's October and Christmas", () => {
    const shared = { ...on([ADJ.octBefore[1], ADJ.xmasAfter[0]], 'I') };
    const last = on([...LAST_FEB, ...LAST_EASTER], 'I');
    const a = school(
      [{ upn: 'C1', uprn: 'H1', codes: shared }, ...others('A')],
      [{ upn: 'C1', uprn: 'H1', codes: last }, ...others('A')],
      JAN,
      '100001',
    );
    const b = school(
      [{ upn: 'C2', uprn: 'H1', codes: shared }, ...others('B')],
      [{ upn: 'C2', uprn: 'H1', codes: last }, ...others('B')],
      JAN,
      '100002',
    );
    const [f] = families([a, b], JAN);
    expect(f).toBeDefined();
    expect(f.children.map((c) => c.upn)).toEqual(['C1', 'C2']);
    expect(f.sharedDates).toHaveLength(10);
    expect(f.explanation).toMatch(
      /\(February half term 2025, Easter holiday 2025, October half term 2025 and Christmas holiday 2025\)/,
    );
    expect(f.explanation).not.toMatch(/no register/);
    // The academic year alone: two shared days, no finding.
    expect(families([a, b], JAN, 0)).toEqual([]);
  });

  it('judges a child new to the LA this year on this year alone, and the family finding says so', () => {
    const both = on([...ADJ.octBefore, ...ADJ.octAfter, ...ADJ.xmasBefore, ...ADJ.xmasAfter], 'I');
    const a = school(
      [{ upn: 'C1', uprn: 'H2', codes: both }, ...others('A')],
      [{ upn: 'C1', uprn: 'H2', codes: {} }, ...others('A')],
      JAN,
      '100001',
    );
    const b = school([{ upn: 'C2', uprn: 'H2', codes: both }, ...others('B')], others('B'), JAN, '100002');
    const [f] = families([a, b], JAN);
    expect(f).toBeDefined();
    expect(f.children.find((c) => c.upn === 'C2')?.registersFrom).toBe('2025-09-03');
    expect(f.children.find((c) => c.upn === 'C1')?.registersFrom).toBeUndefined();
    expect(f.explanation).toMatch(
      /The LA holds no register for one of the children before 3 September 2025, so only this school year's absence was tested for that child\.$/,
    );
  });
});
