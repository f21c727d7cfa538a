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
import { failing, MemoryPupils, noDuties, settingsOf, Trail } from './memory.js';
import type { PupilDuties, PupilHeadSeen } from '../../../shared/app/ports.js';

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

describe("a pupil view's reads asked with the enrolments (issue 17)", () => {
  /** Pupils whose store tells the head (as the DynamoDB store does), here with the schools given. */
  class TellingPupils extends MemoryPupils {
    constructor(private readonly told: (upn: string) => PupilHeadSeen['enrolments'] | undefined) {
      super();
    }
    override async summary(upn: string, onHead?: (head: PupilHeadSeen) => void) {
      const enrolments = this.told(upn);
      if (enrolments) onHead?.({ enrolments });
      return super.summary(upn);
    }
  }

  /** Duties whose fields name each school's timetable, so their order shows; counting each way of asking. */
  function countingDuties() {
    const asked = { fieldsFor: [] as string[][], readsFor: [] as string[][] };
    const fieldsOf = (urns: readonly string[]) => ({
      lookedAfter: true,
      partTimeTimetables: urns.map((urn) => ({ urn, start: '2025-09-01' })),
    });
    const duties: Required<PupilDuties> = {
      fieldsFor: async (_p, _u, _y, urns) => {
        asked.fieldsFor.push([...urns]);
        return fieldsOf(urns);
      },
      readsFor: async (_p, _u, _y, urns) => {
        asked.readsFor.push([...urns]);
        return (order) => fieldsOf(order.filter((u) => urns.includes(u)));
      },
    };
    return { asked, duties };
  }

  function withTold(told: (upn: string) => PupilHeadSeen['enrolments'] | undefined) {
    const pupils = new TellingPupils(told);
    const from = pupilAtTwoSchools();
    for (const [upn, r] of from.records) pupils.records.set(upn, r);
    return pupils;
  }

  const both = [
    { academicYear: 2025, urn: B },
    { academicYear: 2025, urn: A },
  ];

  it('gives the same view as asking after the record, asking the duties once, for the LA and for a school', async () => {
    for (const principal of [officer, schoolA]) {
      const plain = await readPupil(deps(), { principal, audit: new Trail() }, { upn: UPN });
      const counted = countingDuties();
      const audit = new Trail();
      const early = await readPupil(
        { pupils: withTold(() => both), duties: counted.duties, ...settingsOf() },
        { principal, audit },
        { upn: UPN },
      );
      if (!plain.ok || !early.ok) throw new Error('not read');
      const { partTimeTimetables, lookedAfter, ...rest } = early.value as typeof early.value & {
        partTimeTimetables: Array<{ urn: string }>;
      };
      const {
        partTimeTimetables: _p,
        lookedAfter: _l,
        ...plainRest
      } = plain.value as typeof plain.value & {
        partTimeTimetables: unknown;
      };
      expect(rest).toEqual(plainRest);
      expect(lookedAfter).toBe(true);
      // In the view's order of its schools (the summary's), not the head's.
      expect(partTimeTimetables.map((t) => t.urn)).toEqual(
        principal === schoolA ? [A] : early.value.enrolments.map((e) => e.urn),
      );
      expect(counted.asked).toEqual({ fieldsFor: [], readsFor: [principal === schoolA ? [A] : [B, A]] });
      expect(audit.notes).toEqual([{ target: 'pupil', upn: UPN, outcome: 'ok' }]);
    }
  });

  it('asks again after the record when the head named other schools or another year', async () => {
    for (const told of [[{ academicYear: 2025, urn: A }], both.map((e) => ({ ...e, academicYear: 2024 }))]) {
      const counted = countingDuties();
      const out = await readPupil(
        { pupils: withTold(() => told), duties: counted.duties, ...settingsOf() },
        { principal: officer, audit: new Trail() },
        { upn: UPN, academicYear: 2025 },
      );
      if (!out.ok) throw new Error(out.detail);
      expect(counted.asked.fieldsFor).toEqual([out.value.enrolments.map((e) => e.urn)]);
      expect((out.value as { partTimeTimetables?: Array<{ urn: string }> }).partTimeTimetables?.length).toBe(2);
    }
  });

  it('shows nothing of what it asked for a caller who may not read the pupil', async () => {
    const counted = countingDuties();
    const audit = new Trail();
    const out = await readPupil(
      { pupils: withTold(() => both), duties: counted.duties, ...settingsOf() },
      { principal: vsh, audit },
      { upn: UPN },
    );
    expect(out).toMatchObject({ ok: false, refused: 'not_found', detail: 'No such pupil.' });
    expect(audit.notes).toEqual([{ target: 'pupil', upn: UPN, outcome: 'not_found' }]);
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
