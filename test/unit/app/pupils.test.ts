/**
 * Reading a pupil against in-memory stores (docs/design.md §4; issue 15): the LA sees every school's
 * part, a school only its own, the Virtual School only children in its cohorts (the LA's care lists
 * included), and anyone else is told there is no such pupil.
 */
import { describe, expect, it } from 'vitest';
import { pupilSessions, readPupil } from '../../../shared/app/read-pupil.js';
import type { Principal } from '../../../shared/domain/access.js';
import { MARK_CHAR } from '../../../shared/domain/codes.js';
import { addDays, isWeekend, sessionIndex } from '../../../shared/domain/dates.js';
import { summarisePupilYear, type Enrolment } from '../../../shared/domain/pupil-summary.js';
import { CHARACTERISTICS, EMPTY_MARKS, NOT_STATED, type Characteristic } from '../../../shared/domain/register.js';
import { makeUpn } from '../../../shared/domain/upn.js';
import { failing, MemoryPupils, noDuties, settingsOf, Trail } from './memory.js';

const UPN = makeUpn('999400125001');
const YEAR = 2025;
const A = '100001';
const B = '100002';
const officer: Principal = { sub: 'o1', role: 'la_officer', la: '999' };
const schoolA: Principal = { sub: 'a1', role: 'school', la: '999', urn: A };
const schoolC: Principal = { sub: 'c1', role: 'school', la: '999', urn: '100003' };
const vsh: Principal = { sub: 'v1', role: 'vsh', la: '999' };

function enrolment(urn: string, from: string, days: number, code: string): Enrolment {
  const marks = EMPTY_MARKS.split('');
  const dates: string[] = [];
  for (let d = from; dates.length < days; d = addDays(d, 1)) if (!isWeekend(d)) dates.push(d);
  for (const d of dates) for (const s of ['AM', 'PM'] as const) marks[sessionIndex(d, s)] = MARK_CHAR[code];
  const stated = Object.fromEntries(CHARACTERISTICS.map((c) => [c, NOT_STATED.repeat(366)])) as Record<Characteristic, string>;
  return { upn: UPN, urn, academicYear: YEAR, registration: 'C', firstListed: dates[0], lastListed: dates[dates.length - 1], marks: marks.join(''), stated, forename: 'Ada', surname: 'Lovelace' };
}

/** A child who was 10 days present at A, then 10 days absent (unauthorised) at B. */
function deps() {
  const pupils = new MemoryPupils();
  const enrolments = [enrolment(A, '2025-09-01', 10, '/'), enrolment(B, '2025-09-15', 10, 'O')];
  const summary = summarisePupilYear(UPN, YEAR, enrolments, [], { atRiskLowerPercent: 5, emergingWeeks: 4 });
  pupils.records.set(UPN, { upn: UPN, version: 1, computedAt: '2025-10-01T00:00:00Z', enrolmentKeys: [`${YEAR}#${A}`, `${YEAR}#${B}`], enrolments, years: { [YEAR]: summary } });
  return { pupils, duties: noDuties, ...settingsOf() };
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
    expect(await readPupil(deps(), { principal: schoolC, audit }, { upn: UPN })).toMatchObject({ ok: false, refused: 'not_found', detail: 'No such pupil.' });
    expect(await readPupil(deps(), { principal: officer, audit }, { upn: makeUpn('999400125099') })).toMatchObject({ ok: false, refused: 'not_found', detail: 'No such pupil.' });
    expect(audit.notes.map((n) => n.outcome)).toEqual(['not_found', 'not_found']);
  });

  it("lets the Virtual School read a child only once the LA's care lists put the child in its cohorts", async () => {
    const d = deps();
    expect(await readPupil(d, { principal: vsh, audit: new Trail() }, { upn: UPN })).toMatchObject({ ok: false, refused: 'not_found' });
    d.pupils.care.set(UPN, [{ cohort: 'cla', start: '2025-10-01' }]);
    expect((await readPupil(d, { principal: vsh, audit: new Trail() }, { upn: UPN })).ok).toBe(true);
  });

  it('fails (not refuses) when the store fails', async () => {
    const d = deps();
    await expect(readPupil({ ...d, pupils: failing(d.pupils, 'summary') }, { principal: officer, audit: new Trail() }, { upn: UPN })).rejects.toThrow('store unavailable');
  });
});

describe("a pupil's sessions", () => {
  it("gives a school its own marks only", async () => {
    const out = await pupilSessions(deps(), { principal: schoolA, audit: new Trail() }, { upn: UPN, from: '2025-09-01', to: '2025-10-31' });
    if (!out.ok) throw new Error(out.detail);
    expect(new Set(out.value.sessions.map((s) => s.urn))).toEqual(new Set([A]));
    expect(out.value.sessions).toHaveLength(20);
    const all = await pupilSessions(deps(), { principal: officer, audit: new Trail() }, { upn: UPN, from: '2025-09-01', to: '2025-10-31' });
    expect(all.ok && all.value.sessions.filter((s) => s.code === 'O')).toHaveLength(20);
  });

  it('refuses a period that runs backwards or spans more than three years', async () => {
    expect(await pupilSessions(deps(), { principal: officer, audit: new Trail() }, { upn: UPN, from: '2025-10-02', to: '2025-10-01' })).toMatchObject({ ok: false, refused: 'invalid' });
    expect(await pupilSessions(deps(), { principal: officer, audit: new Trail() }, { upn: UPN, from: '2020-09-01', to: '2025-10-01' })).toMatchObject({ ok: false, refused: 'invalid' });
  });
});
