import { describe, expect, it } from 'vitest';
import {
  detectPatterns,
  laPatterns,
  pupilPatternContext,
  pupilPatterns,
  schoolPatternDigest,
  DEFAULT_PATTERN_SETTINGS,
  type HolidayAdjacentFinding,
  type HouseholdMember,
  type PatternEnrolment,
  type PatternFinding,
  type SchoolCodingExclusion,
} from '../../../../shared/domain/patterns/index.js';
import {
  ADJ,
  MID_TERM,
  PERIOD,
  academyClosures,
  calendarOf,
  marksFor,
  on,
  registerOf,
  schoolOf,
  termDays,
  LA_CLOSURES,
} from './fixtures.js';

const DAYS = termDays();
const FIVE = [ADJ.octBefore[1], ADJ.xmasAfter[0], ADJ.febBefore[1], ADJ.easterAfter[0], ADJ.mayBefore[1]];

describe('the three passes', () => {
  it('give the same findings run separately (per school, per pupil, LA-wide) as detectPatterns in one call', () => {
    const schools = [
      schoolOf('100001', [
        { upn: 'A1', marks: marksFor(DAYS, on(FIVE, 'I')), uprn: 'U1' },
        { upn: 'A2', marks: marksFor(DAYS, on(MID_TERM, 'I')) },
        {
          upn: 'A3',
          marks: marksFor(DAYS, {
            '2025-10-20': ['/', 'G'],
            ...on(['2025-10-21', '2025-10-22', '2025-10-23', '2025-10-24'], 'G'),
          }),
        },
      ]),
      schoolOf('100002', [{ upn: 'B1', marks: marksFor(DAYS, on(FIVE.slice(0, 4), 'I')), uprn: 'U1' }]),
      ...['100003', '100004', '100005'].map((urn) =>
        schoolOf(urn, [{ upn: `${urn}-1`, marks: marksFor(DAYS, on(MID_TERM.slice(0, 4), 'I')) }]),
      ),
    ];
    const whole = detectPatterns({ schools, period: PERIOD });

    const digests = schools.map((s) => schoolPatternDigest(s, PERIOD));
    const ctx = pupilPatternContext(digests, PERIOD);
    const findings: PatternFinding[] = [];
    const households: HouseholdMember[] = [];
    const exclusions: SchoolCodingExclusion[] = [];
    const enrolments = new Map<string, PatternEnrolment[]>();
    for (const s of schools) {
      for (const r of s.registers) {
        for (const p of r.pupils.values()) {
          enrolments.set(p.upn, [
            ...(enrolments.get(p.upn) ?? []),
            {
              urn: r.urn,
              academicYear: r.academicYear,
              registration: p.registration,
              firstListed: p.firstListed,
              lastListed: p.lastListed,
              marks: p.marks,
              uprn: p.uprn,
            },
          ]);
        }
      }
    }
    for (const [upn, list] of [...enrolments].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const r = pupilPatterns({ upn, enrolments: list }, ctx);
      findings.push(...r.findings);
      if (r.household) households.push(r.household);
      exclusions.push(...r.codingExclusions);
    }
    findings.push(
      ...laPatterns(
        households,
        digests.flatMap((d) => d.coding),
        DEFAULT_PATTERN_SETTINGS,
        exclusions,
      ),
    );

    expect(findings).toEqual(whole.findings);
    // A1 (five breaks). B1 (the day next to each of four breaks and no other absence) is not a finding
    // since a lone day counts 0.8 of a piece (docs/patterns.md, seventh pass): four make 3.2 of the 4 needed.
    expect(whole.counts).toEqual({
      holiday_adjacent_absence: 1,
      near_threshold_unauthorised: 1,
      family_pattern: 1,
      school_coding: 0,
    });
    expect(whole.pupilsAnalysed).toBe(7);
  });

  it('keep the household record compact: only children who could be part of a family finding', () => {
    const school = schoolOf('100001', [
      { upn: 'A1', marks: marksFor(DAYS, on(FIVE, 'I')), uprn: 'U1' },
      { upn: 'A2', marks: marksFor(DAYS, on(MID_TERM, 'I')), uprn: 'U2' },
      { upn: 'A3', marks: marksFor(DAYS, on(FIVE, 'I')) },
    ]);
    const ctx = pupilPatternContext([schoolPatternDigest(school, PERIOD)], PERIOD);
    const member = (upn: string) => {
      const p = school.registers[0].pupils.get(upn);
      if (!p) throw new Error(upn);
      return pupilPatterns(
        {
          upn,
          enrolments: [
            {
              urn: '100001',
              academicYear: 2025,
              registration: 'C',
              firstListed: p.firstListed,
              lastListed: p.lastListed,
              marks: p.marks,
              uprn: p.uprn,
            },
          ],
        },
        ctx,
      ).household;
    };
    expect(member('A1')).toMatchObject({
      household: 'uprn:U1',
      absences: expect.arrayContaining([expect.objectContaining({ date: FIVE[0], code: 'I' })]),
    });
    expect(member('A1')?.absences).toHaveLength(10);
    expect(member('A2')).toBeNull(); // no absence next to holidays
    expect(member('A3')).toBeNull(); // no household key
  });
});

describe('pupils across schools and periods', () => {
  it("follows a pupil who moves school mid-year, each day's adjacency from the school whose mark it is", () => {
    // At the LA school until Christmas, then at an academy whose October half term differs (irrelevant after the move).
    const la = registerOf('100001', [
      { upn: 'P1', marks: marksFor(DAYS, on([ADJ.octBefore[1], ADJ.xmasBefore[1]], 'I'), { to: '2025-12-19' }) },
      { upn: 'X', marks: marksFor(DAYS) },
    ]);
    const academyDays = termDays(academyClosures('100002'), '100002');
    const academy = registerOf('100002', [
      {
        upn: 'P1',
        marks: marksFor(academyDays, on([ADJ.febBefore[1], ADJ.easterAfter[0], ADJ.mayBefore[1]], 'I'), {
          from: '2026-01-05',
        }),
      },
      { upn: 'Y', marks: marksFor(academyDays) },
    ]);
    const result = detectPatterns({
      schools: [
        { urn: '100001', registers: [la], calendar: calendarOf('100001', [la], LA_CLOSURES) },
        {
          urn: '100002',
          registers: [academy],
          calendar: calendarOf('100002', [academy], [...LA_CLOSURES, ...academyClosures('100002')]),
        },
      ],
      period: PERIOD,
    });
    const [f] = result.findings.filter((x): x is HolidayAdjacentFinding => x.type === 'holiday_adjacent_absence');
    expect(f).toBeDefined();
    expect(f.urns).toEqual(['100001', '100002']);
    expect(f.urn).toBe('100002');
    expect(f.breaks.map((b) => b.urn)).toEqual(['100001', '100001', '100002', '100002', '100002']);
    expect(f.observed).toBe(10);
  });

  it('analyses only the period asked for', () => {
    const school = schoolOf('100001', [{ upn: 'P1', marks: marksFor(DAYS, on(FIVE, 'I')) }]);
    expect(detectPatterns({ schools: [school], period: PERIOD }).counts.holiday_adjacent_absence).toBe(1);
    // Up to the Christmas holiday only: one of the five breaks' absences, not a finding.
    expect(
      detectPatterns({ schools: [school], period: { from: '2025-09-01', to: '2025-12-31' } }).counts
        .holiday_adjacent_absence,
    ).toBe(0);
  });
});
