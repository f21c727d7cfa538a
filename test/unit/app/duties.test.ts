/**
 * The admission-register duties against in-memory stores (docs/duties.md; docs/design.md §3): a school
 * sees its own school only (another is "not found"), and never whether a deleted child is on another
 * school's roll; LA-wide lists leave out schools outside the LA; a day that has not happened is refused.
 */
import { describe, expect, it } from 'vitest';
import {
  deletions,
  lookedAfterPupils,
  newEntries,
  socialWorkerAbsencesOn,
  type DutiesDeps,
} from '../../../shared/app/duties.js';
import type { DutyRecords } from '../../../shared/app/ports.js';
import type { Principal } from '../../../shared/domain/access.js';
import type { Deletion, NewEntry } from '../../../shared/domain/admission-register.js';
import { addDays, todayInEngland } from '../../../shared/domain/dates.js';
import type { SchoolDuties } from '../../../shared/store/duties.js';
import { A, B, YEAR } from './fixtures.js';
import { MemoryReferrals, MemorySchools, noViews, settingsOf, noCalendars } from './memory.js';

const OUTSIDE = '200001';
const officer: Principal = { sub: 'o1', role: 'la_officer', la: '999' };
const schoolA: Principal = { sub: 'a1', role: 'school', la: '999', urn: A };
const vsh: Principal = { sub: 'v1', role: 'vsh', la: '999' };

const entry = (urn: string, upn: string): NewEntry => ({
  upn,
  urn,
  entryDate: '2025-09-10',
  source: 'stated',
  timeliness: 'on_time',
});
const deletion = (urn: string, upn: string): Deletion => ({
  upn,
  urn,
  leavingDate: '2025-10-03',
  source: 'stated',
  destination: 'unknown',
  standardTransition: false,
  timeliness: 'late',
});

function doc(urn: string, upn: string): SchoolDuties {
  return {
    urn,
    academicYear: YEAR,
    heldFrom: '2025-09-01',
    continuing: [],
    notices: { urn, academicYear: YEAR, pupils: {} },
    entries: [entry(urn, upn)],
    deletions: [deletion(urn, upn)],
    partTimeTimetables: [],
    computedAt: '2025-10-10T00:00:00Z',
  };
}

class MemoryDuties implements DutyRecords {
  constructor(readonly docs: SchoolDuties[]) {}
  async ofYear(year: number, urn?: string) {
    return this.docs.filter((d) => d.academicYear === year && (urn === undefined || d.urn === urn));
  }
}

function deps(): DutiesDeps {
  return {
    dutyRecords: new MemoryDuties([doc(A, 'A0001'), doc(B, 'B0001'), doc(OUTSIDE, 'C0001')]),
    schools: new MemorySchools([
      { urn: A, name: 'Alpha' },
      { urn: B, name: 'Beta' },
      { urn: OUTSIDE, name: 'Elsewhere', outOfArea: true },
    ]),
    schoolCalendars: noCalendars(),
    virtualSchool: { careIndex: async () => new Map(), enrolmentsByKeys: async () => [], enrolments: async () => [] },
    referrals: new MemoryReferrals(),
    laLists: { rows: async () => new Map(), all: async () => [], page: async () => undefined, version: async () => 0 },
    lookedAfter: { among: async () => new Set<string>() },
    views: noViews,
    ...settingsOf(),
  };
}

describe('the admission-register duties', () => {
  it("gives a school its own entries, refuses another school's as not found, and the service admin's as forbidden", async () => {
    const own = await newEntries(deps(), schoolA, { academicYear: YEAR });
    if (!own.ok) throw new Error(own.detail);
    expect(own.value.urn).toBe(A);
    expect(own.value.items.map((i) => [i.urn, i.schoolName])).toEqual([[A, 'Alpha']]);
    expect(await newEntries(deps(), schoolA, { academicYear: YEAR, urn: B })).toMatchObject({
      ok: false,
      refused: 'not_found',
    });
    expect(await newEntries(deps(), vsh, { academicYear: YEAR })).toMatchObject({ ok: false, refused: 'forbidden' });
  });

  it('lists every school in the LA for an officer, leaving out a school outside it unless asked for by URN', async () => {
    const all = await newEntries(deps(), officer, { academicYear: YEAR });
    if (!all.ok) throw new Error(all.detail);
    expect(all.value.items.map((i) => i.urn)).toEqual([A, B]);
    const outside = await newEntries(deps(), officer, { academicYear: YEAR, urn: OUTSIDE });
    expect(outside.ok && outside.value.items.map((i) => i.urn)).toEqual([OUTSIDE]);
  });

  it("tells an LA officer whether a deleted child is missing education, and a school nothing of other schools' rolls", async () => {
    const forOfficer = await deletions(deps(), officer, { academicYear: YEAR, urn: A });
    if (!forOfficer.ok) throw new Error(forOfficer.detail);
    expect(forOfficer.value.items[0].cme).toMatchObject({ status: expect.any(String), flagged: expect.any(Boolean) });
    const forSchool = await deletions(deps(), schoolA, { academicYear: YEAR });
    if (!forSchool.ok) throw new Error(forSchool.detail);
    expect(forSchool.value.items.map((i) => i.cme)).toEqual([null]);
  });

  it('refuses absences on a day that has not happened yet, naming the field', async () => {
    const out = await socialWorkerAbsencesOn(deps(), { date: addDays(todayInEngland(), 1) });
    expect(out).toMatchObject({ ok: false, refused: 'invalid', errors: [{ field: 'date' }] });
  });

  it("answers a malformed URN or another school's looked-after pupils as no such school", async () => {
    expect(await lookedAfterPupils(deps(), schoolA, { urn: '12' })).toMatchObject({ ok: false, refused: 'not_found' });
    expect(await lookedAfterPupils(deps(), schoolA, { urn: B })).toMatchObject({ ok: false, refused: 'not_found' });
    expect(await lookedAfterPupils(deps(), schoolA, { urn: A, academicYear: YEAR })).toMatchObject({
      ok: true,
      value: { urn: A, items: [] },
    });
  });
});
