import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MARK_CHAR, NO_MARK, UNMARKED } from '../../../shared/domain/codes.js';
import { addDays, dayOfAcademicYear, sessionIndex } from '../../../shared/domain/dates.js';
import {
  applyRows,
  decodeRuns,
  deserializeRegister,
  effectiveByDay,
  EMPTY_MARKS,
  emptyRegister,
  encodeRuns,
  NOT_STATED,
  serializeRegister,
  sessionDays,
  unmarkedSessions,
  type RegisterRow,
  type SchoolRegister,
} from '../../../shared/domain/register.js';
import { makeUpn } from '../../../shared/domain/upn.js';

const URN = '100001';
const YEAR = 2025;
const UPN = makeUpn('999400125001');
const UPN2 = makeUpn('999400125002');

/** A validated row; am/pm given as DfE codes ('' = not yet marked). */
function row(date: string, am: string, pm: string, extra: Partial<RegisterRow> = {}, upn = UPN): RegisterRow {
  const stored = (c: string) => (c === '' ? UNMARKED : MARK_CHAR[c]);
  return { urn: URN, upn, date, am: stored(am), pm: stored(pm), ...extra };
}

function fresh(): SchoolRegister {
  return emptyRegister(URN, YEAR);
}

function markAt(r: SchoolRegister, date: string, session: 'AM' | 'PM', upn = UPN): string {
  return r.pupils.get(upn)!.marks[sessionIndex(date, session)];
}

/** The register as plain data, for comparing two registers (ignoring which returns built them). */
function content(r: SchoolRegister) {
  const s = serializeRegister(r);
  return { pupils: s.pupils, statedRuns: s.statedRuns, detailDateSets: s.detailDateSets };
}

describe('sessionDays', () => {
  it('marks a day when any pupil has a mark other than no row, not yet marked or #, whatever the marks', () => {
    const chars = ['.', '-', '#', '/', '\\', 'N', 'B'];
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.tuple(fc.nat(731), fc.constantFrom(...chars)), { maxLength: 40 }), { maxLength: 6 }),
        (pupils) => {
          const r = fresh();
          pupils.forEach((slots, n) => {
            const marks = EMPTY_MARKS.split('');
            for (const [i, ch] of slots) marks[i] = ch;
            r.pupils.set(`P${n}`, { ...newPupilLike(), upn: `P${n}`, marks: marks.join('') });
          });
          const want = new Uint8Array(366);
          for (const p of r.pupils.values())
            for (let i = 0; i < p.marks.length; i++) if (!'.-#'.includes(p.marks[i])) want[i >> 1] = 1;
          expect(sessionDays(r)).toEqual(want);
        },
      ),
    );
  });
});

function newPupilLike() {
  const r = fresh();
  applyRows(r, [row('2025-09-01', '', '')], 'x');
  return r.pupils.get(UPN)!;
}

describe('applyRows: marks', () => {
  it('stores each mark at its date and session, and nothing elsewhere', () => {
    const r = fresh();
    applyRows(r, [row('2025-09-01', '/', 'N')], 'r1');
    const p = r.pupils.get(UPN)!;
    expect(p.marks).toHaveLength(732);
    expect(markAt(r, '2025-09-01', 'AM')).toBe('/');
    expect(markAt(r, '2025-09-01', 'PM')).toBe('N');
    expect(p.marks.replace(/\./g, '')).toBe('/N');
    expect(p.firstListed).toBe('2025-09-01');
    expect(p.lastListed).toBe('2025-09-01');
  });

  it('stores two-character codes as their single stored character', () => {
    const r = fresh();
    applyRows(r, [row('2025-09-01', 'C1', 'Y7')], 'r1');
    expect([markAt(r, '2025-09-01', 'AM'), markAt(r, '2025-09-01', 'PM')]).toEqual(['1', 'g']);
  });

  it('replaces an earlier mark with a later return for the same pupil, date and session', () => {
    const r = fresh();
    applyRows(r, [row('2025-09-01', 'N', 'N')], 'r1');
    const result = applyRows(r, [row('2025-09-01', 'I', 'N')], 'r2');
    expect(markAt(r, '2025-09-01', 'AM')).toBe('I');
    expect(markAt(r, '2025-09-01', 'PM')).toBe('N');
    expect(result).toEqual({ changed: true, changedUpns: new Set([UPN]), alreadyApplied: false });
  });

  it('never lets an unmarked value erase a code already received', () => {
    const r = fresh();
    applyRows(r, [row('2025-09-01', '/', 'N')], 'r1');
    const result = applyRows(r, [row('2025-09-01', '', '')], 'r2');
    expect(markAt(r, '2025-09-01', 'AM')).toBe('/');
    expect(markAt(r, '2025-09-01', 'PM')).toBe('N');
    expect(result.changed).toBe(false);
  });

  it('records an unmarked session where nothing was held, and lets a later code fill it', () => {
    const r = fresh();
    applyRows(r, [row('2025-09-01', '', '/')], 'r1');
    expect(markAt(r, '2025-09-01', 'AM')).toBe(UNMARKED);
    expect(unmarkedSessions(r)).toBe(1);
    applyRows(r, [row('2025-09-01', 'L', '/')], 'r2');
    expect(markAt(r, '2025-09-01', 'AM')).toBe('L');
    expect(unmarkedSessions(r)).toBe(0);
  });

  it('applies a return already applied (same return id) as a no-op', () => {
    const r = fresh();
    applyRows(r, [row('2025-09-01', '/', '/')], 'r1');
    const before = JSON.stringify(serializeRegister(r));
    const again = applyRows(r, [row('2025-09-01', 'N', 'N')], 'r1');
    expect(again).toEqual({ changed: false, changedUpns: new Set(), alreadyApplied: true });
    expect(JSON.stringify(serializeRegister(r))).toBe(before);
    expect(r.version).toBe(1);
  });

  it('counts a version only for a return that changes something', () => {
    const r = fresh();
    applyRows(r, [row('2025-09-01', '/', '/')], 'r1');
    const same = applyRows(r, [row('2025-09-01', '/', '/')], 'r2');
    expect(same.changed).toBe(false);
    expect(r.version).toBe(1);
    expect(r.appliedReturns).toEqual(['r1', 'r2']);
  });

  it('widens the first and last listed dates whatever order days arrive in', () => {
    const r = fresh();
    applyRows(r, [row('2025-09-10', '/', '/')], 'r1');
    applyRows(r, [row('2025-09-02', '/', '/')], 'r2');
    applyRows(r, [row('2025-09-05', '/', '/')], 'r3');
    const p = r.pupils.get(UPN)!;
    expect([p.firstListed, p.lastListed]).toEqual(['2025-09-02', '2025-09-10']);
  });

  it('refuses a row for another school or another academic year (a caller bug, not input)', () => {
    expect(() => applyRows(fresh(), [{ ...row('2025-09-01', '/', '/'), urn: '100002' }], 'r1')).toThrow(RangeError);
    expect(() => applyRows(fresh(), [row('2025-07-31', '/', '/')], 'r1')).toThrow(RangeError);
  });

  it('holds the last day of a leap academic year (31 July, day slot 365)', () => {
    const r = emptyRegister(URN, 2023);
    applyRows(r, [row('2024-07-31', 'N', '/')], 'r1');
    expect(r.pupils.get(UPN)!.marks.slice(730)).toBe('N/');
  });
});

describe('applyRows: characteristics and details', () => {
  it('holds a characteristic from the row that states it until a later-dated row states otherwise', () => {
    const r = fresh();
    applyRows(r, [row('2025-09-01', '/', '/', { fsm: false }), row('2025-10-01', '/', '/', { fsm: true })], 'r1');
    const effective = effectiveByDay(r.pupils.get(UPN)!.stated.fsm, 'N');
    expect(effective[dayOfAcademicYear('2025-09-30')]).toBe('N');
    expect(effective[dayOfAcademicYear('2025-10-01')]).toBe('Y');
    expect(effective[dayOfAcademicYear('2026-07-31')]).toBe('Y');
  });

  it('gives the same characteristics whatever order the rows arrive in', () => {
    const a = fresh();
    const b = fresh();
    const early = row('2025-09-01', '/', '/', { fsm: false, sen: 'K', cla: false });
    const late = row('2025-10-01', '/', '/', { fsm: true, sen: 'E' });
    applyRows(a, [early], 'r1');
    applyRows(a, [late], 'r2');
    applyRows(b, [late], 'r2');
    applyRows(b, [early], 'r1');
    expect(a.pupils.get(UPN)!.stated).toEqual(b.pupils.get(UPN)!.stated);
    expect(effectiveByDay(b.pupils.get(UPN)!.stated.sen, 'N')[dayOfAcademicYear('2025-09-15')]).toBe('K');
  });

  it('leaves a characteristic not stated when the row leaves it empty', () => {
    const r = fresh();
    applyRows(r, [row('2025-09-01', '/', '/')], 'r1');
    expect(r.pupils.get(UPN)!.stated.cla).toBe(NOT_STATED.repeat(366));
  });

  it('takes each pupil detail from the latest-dated row stating it, whatever order the rows arrive in', () => {
    const monday = row('2025-09-01', '/', '/', { forename: 'Ann', yearGroup: '5', registration: 'C' });
    const friday = row('2025-09-05', '/', '/', { yearGroup: '6', registration: 'M' });
    const a = fresh();
    applyRows(a, [monday], 'r1');
    applyRows(a, [friday], 'r2');
    const b = fresh();
    applyRows(b, [friday], 'r2');
    applyRows(b, [monday], 'r1');
    for (const r of [a, b]) {
      expect(r.pupils.get(UPN)).toMatchObject({ forename: 'Ann', yearGroup: '6', registration: 'M' });
    }
    expect(content(a)).toEqual(content(b));
  });

  it('lets a later return for the same date correct a detail', () => {
    const r = fresh();
    applyRows(r, [row('2025-09-01', '/', '/', { surname: 'Smiht' })], 'r1');
    applyRows(r, [row('2025-09-01', '/', '/', { surname: 'Smith' })], 'r2');
    expect(r.pupils.get(UPN)!.surname).toBe('Smith');
  });

  it('defaults the registration to single (C) until a row states it', () => {
    const r = fresh();
    applyRows(r, [row('2025-09-01', '/', '/')], 'r1');
    expect(r.pupils.get(UPN)!.registration).toBe('C');
  });

  it('reports only the pupils whose marks, details or characteristics changed', () => {
    const r = fresh();
    applyRows(r, [row('2025-09-01', '/', '/'), row('2025-09-01', '/', '/', {}, UPN2)], 'r1');
    const result = applyRows(r, [row('2025-09-01', '/', '/'), row('2025-09-01', 'N', '/', {}, UPN2)], 'r2');
    expect([...result.changedUpns]).toEqual([UPN2]);
  });
});

describe('applyRows: out-of-order arrival', () => {
  const dates = Array.from({ length: 8 }, (_, i) => addDays('2025-09-01', i));
  const code = fc.constantFrom('/', 'L', 'N', 'I', 'D', 'C1', 'Y2', '#', '');
  const rowArb = fc.record({
    upn: fc.constantFrom(UPN, UPN2),
    date: fc.constantFrom(...dates),
    am: code,
    pm: code,
    fsm: fc.option(fc.boolean(), { nil: undefined }),
    yearGroup: fc.option(fc.constantFrom('5', '6'), { nil: undefined }),
  });

  it('gives the same register when one-day returns arrive in any order (one return per day)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(rowArb, { selector: (x) => `${x.upn}|${x.date}`, minLength: 1, maxLength: 12 }),
        fc.func(fc.nat()),
        (rows, rank) => {
          const make = (x: (typeof rows)[number]) =>
            row(
              x.date,
              x.am,
              x.pm,
              {
                ...(x.fsm === undefined ? {} : { fsm: x.fsm }),
                ...(x.yearGroup === undefined ? {} : { yearGroup: x.yearGroup }),
              },
              x.upn,
            );
          const inOrder = fresh();
          for (const x of [...rows].sort((p, q) => (p.date < q.date ? -1 : p.date > q.date ? 1 : 0)))
            applyRows(inOrder, [make(x)], `day-${x.upn}-${x.date}`);
          const shuffled = fresh();
          for (const x of [...rows].sort((p, q) => rank(p.date + p.upn) - rank(q.date + q.upn)))
            applyRows(shuffled, [make(x)], `day-${x.upn}-${x.date}`);
          expect(content(shuffled)).toEqual(content(inOrder));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('school session days and unmarked sessions (docs/design.md §2.3)', () => {
  it('makes a day a school session day when any pupil has any mark other than #', () => {
    const r = fresh();
    applyRows(
      r,
      [
        row('2025-09-01', '/', '/'),
        row('2025-09-02', '#', '#'),
        row('2025-09-03', '', ''),
        row('2025-09-04', 'Z', '#'),
        row('2025-09-05', '#', 'D', {}, UPN2),
      ],
      'r1',
    );
    const days = sessionDays(r);
    const on = (d: string) => days[dayOfAcademicYear(d)];
    expect(['2025-09-01', '2025-09-02', '2025-09-03', '2025-09-04', '2025-09-05', '2025-09-06'].map(on)).toEqual([
      1, 0, 0, 1, 1, 0,
    ]);
  });

  it("counts listed-but-unmarked sessions across pupils as the school's data-quality gap", () => {
    const r = fresh();
    applyRows(r, [row('2025-09-01', '', '/'), row('2025-09-01', '', '', {}, UPN2)], 'r1');
    expect(unmarkedSessions(r)).toBe(3);
  });
});

describe('serialisation', () => {
  it('run-length encodes characteristic strings and decodes them back', () => {
    expect(encodeRuns('???YYN')).toBe('?3Y2N1');
    expect(decodeRuns('?3Y2N1')).toBe('???YYN');
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('?', 'Y', 'N', 'K', 'E'), maxLength: 400 }),
        (s) => decodeRuns(encodeRuns(s)) === s,
      ),
    );
  });

  it('decodes any stored text as every (non-digit, count) pair in it, well formed or not, and the same on a second read', () => {
    const byPairs = (encoded: string) =>
      [...encoded.matchAll(/(\D)(\d+)/g)].map((m) => m[1].repeat(Number(m[2]))).join('');
    const text = fc.string({ unit: fc.constantFrom('?', 'Y', 'N', 'K', '1', '2', '0', '9', 'x'), maxLength: 30 });
    fc.assert(
      fc.property(
        text,
        (encoded) => decodeRuns(encoded) === byPairs(encoded) && decodeRuns(encoded) === byPairs(encoded),
      ),
    );
    expect(decodeRuns('Y2N')).toBe('YY');
    expect(decodeRuns('12Y3')).toBe('YYY');
    expect(encodeRuns('')).toBe('');
    expect(encodeRuns('?'.repeat(366))).toBe('?366');
  });

  it('round-trips a register through its serialised form', () => {
    const r = fresh();
    applyRows(
      r,
      [
        row('2025-09-01', '/', 'N', { fsm: true, sen: 'K', forename: 'Ann', admissionDate: '2025-09-01' }),
        row('2025-09-02', 'C2', '', {}, UPN2),
      ],
      'r1',
    );
    const back = deserializeRegister(JSON.parse(JSON.stringify(serializeRegister(r))));
    expect(back).toEqual(r);
    expect(back.pupils.get(UPN2)!.marks).not.toBe(EMPTY_MARKS);
    expect(EMPTY_MARKS).toBe(NO_MARK.repeat(732));
  });

  it("stores each pupil's marks from the first row to the last, and each distinct statement and detail-date set once", () => {
    const r = fresh();
    const weekdays = ['2025-09-01', '2025-09-02', '2025-09-03', '2025-09-04', '2025-09-05', '2025-09-08', '2025-09-09'];
    applyRows(
      r,
      weekdays.map((d) => row(d, '/', 'N', { fsm: false, sen: 'N', forename: 'Ann' })),
      'r1',
    );
    applyRows(
      r,
      weekdays.map((d) => row(d, 'C', '', { fsm: false, sen: 'N', forename: 'Bea' }, UPN2)),
      'r2',
    );
    // Slots at both ends of the year, and a pupil listed with no marks stored at all.
    const UPN3 = makeUpn('999400125003');
    applyRows(r, [row('2025-08-01', 'B', '/', {}, UPN3), row('2026-07-31', '/', 'L', {}, UPN3)], 'r3');
    const UPN4 = makeUpn('999400125004');
    r.pupils.set(UPN4, { ...r.pupils.get(UPN3)!, upn: UPN4, marks: EMPTY_MARKS, detailDates: undefined });
    const s = JSON.parse(JSON.stringify(serializeRegister(r)));
    const at = (upn: string) => s.pupils.find((p: { upn: string }) => p.upn === upn);
    const [a, b, c, d] = [at(UPN), at(UPN2), at(UPN3), at(UPN4)];
    expect(a.marks).toBe(
      r.pupils.get(UPN)!.marks.slice(sessionIndex('2025-09-01', 'AM'), sessionIndex('2025-09-09', 'PM') + 1),
    );
    expect(a.marksFrom).toBe(sessionIndex('2025-09-01', 'AM'));
    expect(c.marks).toHaveLength(sessionIndex('2026-07-31', 'PM') + 1);
    expect(c.marksFrom).toBeUndefined();
    expect(d.marks).toBe('');
    // Ann's and Bea's statements are the same strings: one encoding each, shared.
    expect(a.stated).toEqual(b.stated);
    expect(s.statedRuns).toHaveLength(2);
    expect(a.stated.fsm).toBe(a.stated.sen);
    expect(s.statedRuns[a.stated.cla]).toBe('?366');
    expect(c.stated.fsm).toBe(a.stated.cla);
    expect(a.detailDates).toBe(b.detailDates);
    expect(s.detailDateSets).toEqual([{ forename: '2025-09-09' }]);
    expect(c.detailDates).toBeUndefined();
    const back = deserializeRegister(s);
    expect(back).toEqual(r);
    // Detail dates are changed in place by the next return: each pupil has its own copy.
    expect(back.pupils.get(UPN)!.detailDates).not.toBe(back.pupils.get(UPN2)!.detailDates);
    applyRows(back, [row('2025-09-10', '/', '\\', { forename: 'Anna' })], 'r4');
    expect(back.pupils.get(UPN2)!.detailDates).toEqual(r.pupils.get(UPN2)!.detailDates);
  });

  it('reads registers stored in the earlier form (whole marks, each encoding in full)', () => {
    const r = fresh();
    applyRows(
      r,
      [row('2025-09-01', '/', 'N', { fsm: true, forename: 'Ann' }), row('2025-09-02', 'C2', '', {}, UPN2)],
      'r1',
    );
    const earlier = {
      urn: r.urn,
      academicYear: r.academicYear,
      version: r.version,
      appliedReturns: r.appliedReturns,
      pupils: [...r.pupils.values()].map((p) => ({
        ...p,
        stated: Object.fromEntries(Object.entries(p.stated).map(([c, v]) => [c, encodeRuns(v)])),
      })),
    };
    expect(deserializeRegister(JSON.parse(JSON.stringify(earlier)))).toEqual(r);
  });
});
