/**
 * Reading a pupil against in-memory stores (docs/design.md §4; issue 15): the LA sees every school's
 * part, a school only its own, the Virtual School only children in its cohorts (the LA's care lists
 * included), and anyone else is told there is no such pupil.
 */
import { describe, expect, it } from 'vitest';
import { pupilSessions, readPupil } from '../../../shared/app/read-pupil.js';
import type { Principal } from '../../../shared/domain/access.js';
import { makeUpn } from '../../../shared/domain/upn.js';
import { A, B, pupilAtTwoSchools, UPN } from './fixtures.js';
import { failing, noDuties, settingsOf, Trail } from './memory.js';

const officer: Principal = { sub: 'o1', role: 'la_officer', la: '999' };
const schoolA: Principal = { sub: 'a1', role: 'school', la: '999', urn: A };
const schoolC: Principal = { sub: 'c1', role: 'school', la: '999', urn: '100003' };
const vsh: Principal = { sub: 'v1', role: 'vsh', la: '999' };

function deps() {
  return { pupils: pupilAtTwoSchools(), duties: noDuties, ...settingsOf() };
}

describe('reading a pupil', () => {
  it('gives the LA every school and the combined figures', async () => {
    const audit = new Trail();
    const out = await readPupil(deps(), { principal: officer, audit }, { upn: UPN });
    if (!out.ok) throw new Error(out.detail);
    expect(out.value.enrolments.map((e) => e.urn).sort()).toEqual([A, B]);
    expect(out.value.totals).toMatchObject({ possibleSessions: 40, unauthorisedAbsenceSessions: 20 });
    expect(out.value.persistentAbsence).toBe(true);
    expect(audit.notes).toEqual([{ target: 'pupil', upn: UPN, outcome: 'ok' }]);
  });

  it("gives a school only its own enrolment and figures, never the other school's absence", async () => {
    const out = await readPupil(deps(), { principal: schoolA, audit: new Trail() }, { upn: UPN });
    if (!out.ok) throw new Error(out.detail);
    expect(out.value.enrolments.map((e) => e.urn)).toEqual([A]);
    expect(out.value.totals).toMatchObject({ possibleSessions: 20, unauthorisedAbsenceSessions: 0 });
    expect(out.value.persistentAbsence).toBe(false);
    expect(out.value.flags.map((f) => f.type)).not.toContain('persistent_absence');
  });

  it('answers a school that never had the child, and an unknown pupil, alike: no such pupil (audited)', async () => {
    const audit = new Trail();
    expect(await readPupil(deps(), { principal: schoolC, audit }, { upn: UPN })).toMatchObject({
      ok: false,
      refused: 'not_found',
      detail: 'No such pupil.',
    });
    expect(await readPupil(deps(), { principal: officer, audit }, { upn: makeUpn('999400125099') })).toMatchObject({
      ok: false,
      refused: 'not_found',
      detail: 'No such pupil.',
    });
    expect(audit.notes.map((n) => n.outcome)).toEqual(['not_found', 'not_found']);
  });

  it("lets the Virtual School read a child only once the LA's care lists put the child in its cohorts", async () => {
    const d = deps();
    expect(await readPupil(d, { principal: vsh, audit: new Trail() }, { upn: UPN })).toMatchObject({
      ok: false,
      refused: 'not_found',
    });
    d.pupils.care.set(UPN, [{ cohort: 'cla', start: '2025-10-01' }]);
    expect((await readPupil(d, { principal: vsh, audit: new Trail() }, { upn: UPN })).ok).toBe(true);
  });

  it('fails (not refuses) when the store fails', async () => {
    const d = deps();
    await expect(
      readPupil(
        { ...d, pupils: failing(d.pupils, 'summary') },
        { principal: officer, audit: new Trail() },
        { upn: UPN },
      ),
    ).rejects.toThrow('store unavailable');
  });
});

describe("a pupil's sessions", () => {
  it('gives a school its own marks only', async () => {
    const out = await pupilSessions(
      deps(),
      { principal: schoolA, audit: new Trail() },
      { upn: UPN, from: '2025-09-01', to: '2025-10-31' },
    );
    if (!out.ok) throw new Error(out.detail);
    expect(new Set(out.value.sessions.map((s) => s.urn))).toEqual(new Set([A]));
    expect(out.value.sessions).toHaveLength(20);
    const all = await pupilSessions(
      deps(),
      { principal: officer, audit: new Trail() },
      { upn: UPN, from: '2025-09-01', to: '2025-10-31' },
    );
    expect(all.ok && all.value.sessions.filter((s) => s.code === 'O')).toHaveLength(20);
  });

  it('refuses a period that runs backwards or spans more than three years', async () => {
    expect(
      await pupilSessions(
        deps(),
        { principal: officer, audit: new Trail() },
        { upn: UPN, from: '2025-10-02', to: '2025-10-01' },
      ),
    ).toMatchObject({ ok: false, refused: 'invalid' });
    expect(
      await pupilSessions(
        deps(),
        { principal: officer, audit: new Trail() },
        { upn: UPN, from: '2020-09-01', to: '2025-10-01' },
      ),
    ).toMatchObject({ ok: false, refused: 'invalid' });
  });
});
