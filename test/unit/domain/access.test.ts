/** The scope rules the API applies, as pure functions of the caller (issue 16: one place for all of them). */
import { describe, expect, it } from 'vitest';
import {
  caseScope,
  defaultMetricsCohort,
  everInVirtualSchool,
  mayListFinding,
  mayListPupil,
  mayListReturnsOf,
  mayReadReturn,
  mayReferFor,
  maySeeSchool,
  metricsCohortsOf,
  metricsScope,
  needsCareListsForScope,
  refusalOf,
  schoolScope,
  type Principal,
} from '../../../shared/domain/access.js';

const school: Principal = { sub: 's1', role: 'school', la: '999', urn: '100001' };
const officer: Principal = { sub: 'o1', role: 'la_officer', la: '999' };
const vsh: Principal = { sub: 'v1', role: 'vsh', la: '999' };
const admin: Principal = { sub: 'a1', role: 'admin', la: '999' };

describe('access rules', () => {
  it('refuses a role without the capability, and a school token without its URN', () => {
    expect(refusalOf(admin, 'read_pupil')).toBe('The admin role may not do this.');
    expect(refusalOf(officer, 'read_pupil')).toBeUndefined();
    expect(refusalOf({ ...school, urn: undefined }, 'any')).toMatch(/must carry the school's URN/);
  });

  it('confines a school to its own school and lets other roles name any or none', () => {
    expect(schoolScope(school, undefined)).toEqual({ ok: true, urn: '100001' });
    expect(schoolScope(school, '100001')).toEqual({ ok: true, urn: '100001' });
    expect(schoolScope(school, '100002')).toEqual({ ok: false });
    expect(schoolScope(officer, undefined)).toEqual({ ok: true, urn: undefined });
    expect(schoolScope(vsh, '100002')).toEqual({ ok: true, urn: '100002' });
    expect([maySeeSchool(school, '100002'), maySeeSchool(school, '100001'), maySeeSchool(admin, '100002')]).toEqual([
      false,
      true,
      true,
    ]);
  });

  it('shows a return to its school, its Virtual School sender, LA officers and admins only', () => {
    const record = { urn: '100002', uploadedBy: { sub: 'other' } };
    expect([school, officer, vsh, admin].map((p) => mayReadReturn(p, record))).toEqual([false, true, false, true]);
    expect(mayReadReturn(vsh, { urn: '100002', uploadedBy: { sub: 'v1', role: 'vsh' } })).toBe(true);
    expect(mayReadReturn(school, { urn: '100001', uploadedBy: { sub: 'other' } })).toBe(true);
    // The sender counts only as what they sent it as: moved to another school or role, the old return is hidden.
    expect(mayReadReturn(school, { urn: '100002', uploadedBy: { sub: school.sub, role: 'school' } })).toBe(false);
    expect(mayReadReturn(vsh, { urn: '100001', uploadedBy: { sub: 'v1', role: 'school' } })).toBe(false);
    expect([
      mayListReturnsOf(vsh, { outOfArea: false }),
      mayListReturnsOf(vsh, { outOfArea: true }),
      mayListReturnsOf(officer, undefined),
    ]).toEqual([false, true, true]);
  });

  it('lets the Virtual School list only children ever in its cohorts, and look at care lists when figures show none', () => {
    expect([
      mayListPupil(vsh, { everCohorts: ['cla'] }),
      mayListPupil(vsh, { everCohorts: ['fsm'] }),
      mayListPupil(officer, { everCohorts: [] }),
    ]).toEqual([true, false, true]);
    expect([
      needsCareListsForScope(vsh, ['fsm']),
      needsCareListsForScope(vsh, ['cla']),
      needsCareListsForScope(officer, []),
    ]).toEqual([true, false, false]);
  });

  it("decides cases: officers all, a school its own, the Virtual School by the child's cohort history, admins none", () => {
    expect([officer, school, vsh, admin].map((p) => caseScope(p, { urn: '100002' }))).toEqual([
      'yes',
      'no',
      'ever_in_virtual_school',
      'no',
    ]);
    expect(caseScope(school, { urn: '100001' })).toBe('yes');
    expect([mayReferFor(school, '100002'), mayReferFor(school, '100001'), mayReferFor(officer, '100002')]).toEqual([
      false,
      true,
      true,
    ]);
  });

  it("reads a school's metrics for a school token whatever it asks, and bounds the Virtual School's cohorts", () => {
    expect(metricsScope(school, { scope: 'la' })).toEqual({ scope: 'school', urn: '100001' });
    expect(metricsScope(officer, { urn: '100002' })).toEqual({ scope: 'school', urn: '100002' });
    expect(metricsScope(officer, {})).toEqual({ scope: 'la', urn: undefined });
    expect([defaultMetricsCohort(vsh), defaultMetricsCohort(officer)]).toEqual(['cla', 'all']);
    expect(metricsCohortsOf(vsh)).toContain('cla');
    expect(metricsCohortsOf(officer)).toBeUndefined();
  });

  it("lists threshold-gaming findings for the Virtual School only about children it holds, never a school's coding", () => {
    const held = (upn: string) => upn === 'A';
    expect(mayListFinding(vsh, { type: 'family_pattern', upns: ['A'] }, held)).toBe(true);
    expect(mayListFinding(vsh, { type: 'family_pattern', upns: ['A', 'B'] }, held)).toBe(false);
    expect(mayListFinding(vsh, { type: 'school_coding', upns: [] }, held)).toBe(false);
    expect(mayListFinding(officer, { type: 'school_coding', upns: ['B'] }, held)).toBe(true);
  });

  it('counts a child as ever in the Virtual School when any year shows one of its cohorts', () => {
    expect(everInVirtualSchool([{ everCohorts: ['fsm'] }, { everCohorts: ['cin'] }])).toBe(true);
    expect(everInVirtualSchool([{ everCohorts: ['fsm'] }])).toBe(false);
    expect(everInVirtualSchool([])).toBe(false);
  });
});
