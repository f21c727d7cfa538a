/**
 * The admission-register duties' rules at their edges (issue 20), on registers built by applying
 * return rows with the real applyRows: new entries and deletions with their timing, standard
 * transitions, children missing education, part-time timetables and social-worker absences.
 */
import { describe, expect, it } from 'vitest';
import {
  isStandardTransition,
  noteReturn,
  parseDeletionGround,
  parseDestination,
  rollChanges,
  timelinessOf,
  type DeletionDetails,
  type RollNotices,
} from '../../../shared/domain/admission-register.js';
import { assessDeletion, type CmeContext, type Listing } from '../../../shared/domain/children-missing-education.js';
import { MARK_CHAR } from '../../../shared/domain/codes.js';
import { addDays, isWeekend } from '../../../shared/domain/dates.js';
import { partTimeTimetables, pastReviewLimit } from '../../../shared/domain/part-time-timetables.js';
import {
  applyRows,
  emptyRegister,
  sessionDays,
  type RegisterRow,
  type SchoolRegister,
} from '../../../shared/domain/register.js';
import { socialWorkerAbsences } from '../../../shared/domain/social-worker-absences.js';
import type { Enrolment } from '../../../shared/domain/pupil-summary.js';
import { upnFor } from '../../support/returns.js';

const URN = '100001';

function weekdaysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) if (!isWeekend(d)) out.push(d);
  return out;
}

/** School days strictly after `from` up to and including `to`: weekdays, as in a calendar with no closures. */
const weekdaysAfter = (from: string, to: string) => (to > from ? weekdaysBetween(addDays(from, 1), to).length : 0);

function register(rows: RegisterRow[], id = 'r1', reg: SchoolRegister = emptyRegister(URN, 2025)): SchoolRegister {
  applyRows(reg, rows, id);
  return reg;
}

const days = (upn: string, from: string, to: string, extra: Partial<RegisterRow> = {}): RegisterRow[] =>
  weekdaysBetween(from, to).map((date) => ({ urn: URN, upn, date, am: '/', pm: '/', ...extra }));

describe('deletion grounds and destinations as a return writes them', () => {
  it('reads a URN, EHE, ABROAD and UNKNOWN in any case, and nothing else', () => {
    expect(parseDestination('100002')).toBe('100002');
    expect(parseDestination('ehe')).toBe('elective_home_education');
    expect(parseDestination('Abroad')).toBe('another_country');
    expect(parseDestination('unknown')).toBe('unknown');
    expect(parseDestination('10002')).toBeUndefined();
    expect(parseDestination('somewhere')).toBeUndefined();
  });

  it('reads the grounds as codes, spaces or hyphens standing for underscores', () => {
    expect(parseDeletionGround('Registered at another school')).toBe('registered_at_another_school');
    expect(parseDeletionGround('permanently-excluded')).toBe('permanently_excluded');
    expect(parseDeletionGround('holiday')).toBeUndefined();
  });
});

describe('new entries', () => {
  const first = upnFor(1);
  const newcomer = upnFor(2);
  const base = () => register(days(first, '2025-09-01', '2025-09-30'));

  function entryTiming(admission: string, receivedOn: string) {
    const reg = base();
    const rows = days(newcomer, admission, '2025-09-30', { admissionDate: admission });
    applyRows(reg, rows, 'r2');
    const notices: RollNotices = { urn: URN, academicYear: 2025, pupils: {} };
    noteReturn(notices, reg, days(first, '2025-09-01', '2025-09-30'), '2025-09-01');
    noteReturn(notices, reg, rows, receivedOn);
    return rollChanges({ register: reg, notices, heldFrom: '2025-09-01', schoolDays: weekdaysAfter }).entries;
  }

  it('is on time notified on the fifth school day after admission, late on the sixth (weekends are not school days)', () => {
    // Admitted Wednesday 10 September: Thu 11, Fri 12, Mon 15, Tue 16, Wed 17 is the fifth school day.
    expect(entryTiming('2025-09-10', '2025-09-17')).toEqual([
      expect.objectContaining({ upn: newcomer, schoolDaysToNotice: 5, timeliness: 'on_time' }),
    ]);
    expect(entryTiming('2025-09-10', '2025-09-18')).toEqual([
      expect.objectContaining({ upn: newcomer, schoolDaysToNotice: 6, timeliness: 'late' }),
    ]);
    // Admitted Friday 5 September, notified Saturday 13th, the day after the fifth school day: still five.
    expect(entryTiming('2025-09-05', '2025-09-13')[0]).toMatchObject({ schoolDaysToNotice: 5, timeliness: 'on_time' });
  });

  it('is on time when notified before the admission date', () => {
    expect(entryTiming('2025-09-22', '2025-09-19')[0]).toMatchObject({ schoolDaysToNotice: 0, timeliness: 'on_time' });
  });

  it('does not count pupils continuing from last year, nor the pupils of the first register held, as new', () => {
    const reg = register([...days(first, '2025-09-03', '2025-09-10'), ...days(newcomer, '2025-09-03', '2025-09-10')]);
    const notices: RollNotices = { urn: URN, academicYear: 2025, pupils: {} };
    noteReturn(notices, reg, [], '2025-09-10');
    expect(rollChanges({ register: reg, notices, heldFrom: '2025-09-03', schoolDays: weekdaysAfter }).entries).toEqual(
      [],
    );
    const continuing = new Set([first]);
    const entries = rollChanges({
      register: reg,
      notices,
      heldFrom: '2024-09-04',
      continuing,
      schoolDays: weekdaysAfter,
    }).entries;
    expect(entries.map((e) => e.upn)).toEqual([newcomer]);
    expect(entries[0]).toMatchObject({ source: 'derived', timeliness: 'unknown' });
  });
});

describe('deletions', () => {
  const stays = upnFor(1);
  const leaver = upnFor(2);

  function deletionOf(leaving: string, receivedOn: string) {
    const reg = register([...days(stays, '2025-09-01', '2025-09-30'), ...days(leaver, '2025-09-01', leaving)]);
    const rows: DeletionDetails[] = [
      { upn: leaver, date: leaving, deletionGround: 'moved_away', destination: 'unknown' },
    ];
    applyRows(reg, [{ urn: URN, upn: leaver, date: leaving, am: '/', pm: '/', leavingDate: leaving }], 'r2');
    const notices: RollNotices = { urn: URN, academicYear: 2025, pupils: {} };
    noteReturn(notices, reg, rows, receivedOn);
    return rollChanges({ register: reg, notices, heldFrom: '2025-09-01', schoolDays: weekdaysAfter }).deletions;
  }

  it('is on time notified on the leaving date and late the day after', () => {
    expect(deletionOf('2025-09-19', '2025-09-19')).toEqual([
      expect.objectContaining({ upn: leaver, ground: 'moved_away', destination: 'unknown', timeliness: 'on_time' }),
    ]);
    expect(deletionOf('2025-09-19', '2025-09-20')[0].timeliness).toBe('late');
  });

  it('keeps the first notification when the same return is applied again or a later return restates it', () => {
    const reg = register(days(leaver, '2025-09-01', '2025-09-19', { leavingDate: '2025-09-19' }));
    const notices: RollNotices = { urn: URN, academicYear: 2025, pupils: {} };
    const rows = [{ upn: leaver, date: '2025-09-19', destination: '100002' }];
    noteReturn(notices, reg, rows, '2025-09-19');
    const once = JSON.stringify(notices);
    noteReturn(notices, reg, rows, '2025-09-19');
    expect(JSON.stringify(notices)).toBe(once);
    noteReturn(notices, reg, rows, '2025-09-25');
    expect(notices.pupils[leaver].leaving).toEqual({
      date: '2025-09-19',
      notifiedOn: '2025-09-19',
      destination: '100002',
    });
  });

  it('derives a deletion when the school goes on listing others but not the pupil, notified by the next return', () => {
    const reg = register([...days(stays, '2025-09-01', '2025-09-12'), ...days(leaver, '2025-09-01', '2025-09-05')]);
    const notices: RollNotices = { urn: URN, academicYear: 2025, pupils: {} };
    noteReturn(notices, reg, days(stays, '2025-09-08', '2025-09-12'), '2025-09-12');
    const [d] = rollChanges({ register: reg, notices, heldFrom: '2025-09-01', schoolDays: weekdaysAfter }).deletions;
    expect(d).toMatchObject({
      upn: leaver,
      leavingDate: '2025-09-05',
      source: 'derived',
      notifiedOn: '2025-09-12',
      timeliness: 'late',
    });
  });

  it("keeps a leaving date in the August after the year as that year's deletion", () => {
    const reg = register([
      ...days(stays, '2026-07-13', '2026-07-22', { yearGroup: '6' }),
      ...days(leaver, '2026-07-13', '2026-07-22', { leavingDate: '2026-08-31', yearGroup: '4' }),
    ]);
    const notices: RollNotices = { urn: URN, academicYear: 2025, pupils: {} };
    noteReturn(notices, reg, days(leaver, '2026-07-22', '2026-07-22'), '2026-07-22');
    expect(
      rollChanges({ register: reg, notices, heldFrom: '2026-07-13', schoolDays: weekdaysAfter }).deletions,
    ).toEqual([
      expect.objectContaining({
        upn: leaver,
        leavingDate: '2026-08-31',
        standardTransition: false,
        timeliness: 'on_time',
      }),
    ]);
  });

  it('does not derive a deletion from one day the school left the pupil off, only from two', () => {
    const notices: RollNotices = { urn: URN, academicYear: 2025, pupils: {} };
    const derivedUntil = (othersUntil: string) =>
      rollChanges({
        register: register([...days(stays, '2025-09-01', othersUntil), ...days(leaver, '2025-09-01', '2025-09-05')]),
        notices,
        heldFrom: '2025-09-01',
        schoolDays: weekdaysAfter,
      }).deletions.map((d) => d.upn);
    // The leaver is listed to Friday 5th; the school lists others on Monday 8th (one day) or also Tuesday 9th (two).
    expect(derivedUntil('2025-09-08')).toEqual([]);
    expect(derivedUntil('2025-09-09')).toEqual([leaver]);
  });

  it('treats the top year group or Year 11 leaving from the last Friday in June as a standard transition, and not the day before', () => {
    // 2026's last Friday in June is 26 June.
    expect(isStandardTransition('6', '2026-06-26', 2025, 6)).toBe(true);
    expect(isStandardTransition('6', '2026-06-25', 2025, 6)).toBe(false);
    expect(isStandardTransition('11', '2026-07-17', 2025, 13)).toBe(true);
    expect(isStandardTransition('5', '2026-07-22', 2025, 6)).toBe(false);
    expect(isStandardTransition(undefined, '2026-07-22', 2025, 6)).toBe(false);
    expect(isStandardTransition('6', '2026-08-31', 2025, 6)).toBe(true);
    expect(isStandardTransition('6', '2026-09-01', 2025, 6)).toBe(false);
  });

  it('figures timeliness as on time over on time and late, leaving exempt and unknown aside', () => {
    const f = timelinessOf([
      { timeliness: 'on_time' },
      { timeliness: 'late' },
      { timeliness: 'exempt' },
      { timeliness: 'unknown' },
      { timeliness: 'on_time' },
    ]);
    expect(f).toMatchObject({ total: 5, onTime: 2, late: 1, exempt: 1, unknown: 1 });
    expect(f.onTimeRate).toBeCloseTo(200 / 3, 9);
    expect(timelinessOf([{ timeliness: 'exempt' }]).onTimeRate).toBeNull();
  });
});

describe('children missing education', () => {
  const deletion = {
    upn: upnFor(3),
    urn: URN,
    leavingDate: '2025-09-19',
    source: 'stated' as const,
    destination: '100002',
    dob: '2016-05-01',
    yearGroup: '4',
    standardTransition: false,
    timeliness: 'on_time' as const,
  };
  const ctx = (today: string): CmeContext => ({
    today,
    inLa: (urn) => urn.startsWith('1'),
    schoolDays: (_urn, from, to) => weekdaysAfter(from, to),
    nthSchoolDayAfter: (_urn, from, n) => weekdaysBetween(addDays(from, 1), addDays(from, 30))[n - 1],
  });
  const at = (from: string): Listing => ({
    urn: '100002',
    admissionDate: from,
    firstListed: from,
    lastListed: '2025-10-31',
  });

  it('waits until the tenth school day after the leaving date and flags from the eleventh', () => {
    // Leaving Friday 19 September: the tenth school day after is Friday 3 October.
    expect(assessDeletion(deletion, [], ctx('2025-10-03'))).toMatchObject({
      status: 'awaiting',
      flagged: false,
      listingDeadline: '2025-10-03',
    });
    expect(assessDeletion(deletion, [], ctx('2025-10-06'))).toMatchObject({ status: 'missing', flagged: true });
  });

  it('counts a listing on the tenth school day as in time and on the eleventh as late, and clears the flag either way', () => {
    expect(assessDeletion(deletion, [at('2025-10-03')], ctx('2025-10-20'))).toMatchObject({
      status: 'listed',
      flagged: false,
      schoolDaysToListing: 10,
      withinTenSchoolDays: true,
    });
    expect(assessDeletion(deletion, [at('2025-10-06')], ctx('2025-10-20'))).toMatchObject({
      status: 'listed',
      flagged: false,
      schoolDaysToListing: 11,
      withinTenSchoolDays: false,
    });
  });

  it("does not count the deleting school's own earlier listing, but does count a re-admission there", () => {
    const own: Listing = { urn: URN, firstListed: '2025-09-01', lastListed: '2025-09-19', leavingDate: '2025-09-19' };
    expect(assessDeletion({ ...deletion, destination: 'unknown' }, [own], ctx('2025-09-22')).status).toBe('missing');
    const back: Listing = {
      urn: URN,
      admissionDate: '2025-09-29',
      firstListed: '2025-09-01',
      lastListed: '2025-10-01',
    };
    expect(assessDeletion({ ...deletion, destination: 'unknown' }, [back], ctx('2025-10-02'))).toMatchObject({
      status: 'listed',
      listedBy: URN,
    });
  });

  it('flags an unknown destination at once, never a child below compulsory school age, and flags an unknown age in Years 1–11 saying so', () => {
    expect(assessDeletion({ ...deletion, destination: 'unknown' }, [], ctx('2025-09-20'))).toMatchObject({
      status: 'missing',
      flagged: true,
      ageUnknown: false,
    });
    expect(
      assessDeletion({ ...deletion, destination: 'unknown', dob: '2021-05-01', yearGroup: 'R' }, [], ctx('2025-09-20'))
        .status,
    ).toBe('not_compulsory_school_age');
    expect(
      assessDeletion({ ...deletion, destination: 'unknown', dob: undefined }, [], ctx('2025-09-20')),
    ).toMatchObject({ status: 'missing', ageUnknown: true });
    expect(assessDeletion({ ...deletion, destination: '300001' }, [], ctx('2025-12-20')).status).toBe(
      'confirm_with_other_la',
    );
  });
});

describe('part-time timetables', () => {
  const c2 = upnFor(4);
  const other = upnFor(5);
  const timetableOf = (rows: RegisterRow[]) => {
    const reg = register(rows);
    return partTimeTimetables(reg, sessionDays(reg)).find((t) => t.upn === c2);
  };

  it('counts school weeks, skipping a half-term week, so six weeks either side of one is still six weeks', () => {
    // 13 Oct – 7 Nov with a half term 27–31 Oct: four school weeks with C2 afternoons, then on.
    const rows = [
      ...days(other, '2025-10-13', '2025-11-21').filter((r) => r.date < '2025-10-27' || r.date > '2025-10-31'),
      ...days(c2, '2025-10-13', '2025-11-21', { pm: MARK_CHAR.C2 }).filter(
        (r) => (r.date < '2025-10-27' || r.date > '2025-10-31') && r.date <= '2025-11-14',
      ),
    ];
    const t = timetableOf(rows)!;
    expect(t).toMatchObject({ start: '2025-10-13', latest: '2025-11-14', weeks: 4, c2Sessions: 20, current: true });
    expect(pastReviewLimit(t, 6)).toBe(false);
  });

  it('is past a limit of six at six weeks and a day, not at exactly six', () => {
    const six = timetableOf([
      ...days(other, '2025-09-08', '2025-10-24'),
      ...days(c2, '2025-09-08', '2025-10-17', { pm: MARK_CHAR.C2 }),
    ])!;
    const sixAndADay = timetableOf([
      ...days(other, '2025-09-08', '2025-10-24'),
      ...days(c2, '2025-09-08', '2025-10-20', { pm: MARK_CHAR.C2 }),
    ])!;
    expect(six.weeks).toBe(6);
    expect(pastReviewLimit(six, 6)).toBe(false);
    expect(sixAndADay.weeks).toBe(7);
    expect(pastReviewLimit(sixAndADay, 6)).toBe(true);
  });

  it('starts a new timetable after a school week with no C2', () => {
    const rows = [
      ...days(other, '2025-09-08', '2025-10-03'),
      ...days(c2, '2025-09-08', '2025-09-12', { am: MARK_CHAR.C2 }),
      ...days(c2, '2025-09-15', '2025-09-19'),
      ...days(c2, '2025-09-22', '2025-10-03', { am: MARK_CHAR.C2 }),
    ];
    expect(timetableOf(rows)).toMatchObject({ start: '2025-09-22', weeks: 2, c2Sessions: 10, sessionsPerWeek: 5 });
  });
});

describe('social-worker absences', () => {
  const enrolment = (upn: string, rows: RegisterRow[]): Enrolment => {
    const reg = register(rows);
    return { ...reg.pupils.get(upn)!, urn: URN, academicYear: 2025 };
  };
  const DAY = '2025-10-08';

  it('lists a child in need marked O and not one marked L', () => {
    const o = upnFor(6);
    const l = upnFor(7);
    const children = [
      {
        upn: o,
        enrolments: [enrolment(o, [{ urn: URN, upn: o, date: DAY, am: 'O', pm: '/' }])],
        care: [{ cohort: 'cin' as const, start: '2025-09-01' }],
      },
      {
        upn: l,
        enrolments: [enrolment(l, [{ urn: URN, upn: l, date: DAY, am: 'L', pm: '/' }])],
        care: [{ cohort: 'cin' as const, start: '2025-09-01' }],
      },
    ];
    expect(socialWorkerAbsences(DAY, children)).toEqual([
      {
        alertKey: `${DAY}#AM#${o}#${URN}`,
        upn: o,
        urn: URN,
        date: DAY,
        session: 'AM',
        code: 'O',
        reason: 'unauthorised_no_reason',
        cohorts: ['cin'],
      },
    ]);
  });

  it('counts only the days the child is in need or on a plan (an episode starting the next day does not)', () => {
    const o = upnFor(8);
    const child = {
      upn: o,
      enrolments: [enrolment(o, [{ urn: URN, upn: o, date: DAY, am: 'O', pm: 'O' }])],
      care: [{ cohort: 'cpp' as const, start: addDays(DAY, 1) }],
    };
    expect(socialWorkerAbsences(DAY, [child])).toEqual([]);
    expect(socialWorkerAbsences(DAY, [{ ...child, care: [{ cohort: 'cla' as const, start: '2025-09-01' }] }])).toEqual(
      [],
    );
  });
});
