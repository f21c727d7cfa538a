/**
 * Schools and the audit log against in-memory stores (docs/design.md §3, §4): a school sees itself
 * only, another school or an unknown one is "not found" (and a refused data-quality read is noted);
 * the audit log is read a bounded span at a time, and reading it is itself noted.
 */
import { describe, expect, it } from 'vitest';
import { readAuditLog } from '../../../shared/app/audit-log.js';
import type { AuditLog } from '../../../shared/app/ports.js';
import { schoolDetail, schoolList, schoolPage, unresolvedNOf, type SchoolsDeps } from '../../../shared/app/schools.js';
import type { Principal } from '../../../shared/domain/access.js';
import type { AuditQuery } from '../../../shared/store/audit.js';
import type { SchoolRecord } from '../../../shared/store/schools.js';
import { A, B, YEAR } from './fixtures.js';
import { MemorySchools, noViews, settingsOf, Trail, noCalendars } from './memory.js';

const officer: Principal = { sub: 'o1', role: 'la_officer', la: '999' };
const schoolA: Principal = { sub: 'a1', role: 'school', la: '999', urn: A };

function deps(): SchoolsDeps {
  return {
    schools: new MemorySchools([
      { urn: A, name: 'Alpha' },
      { urn: B, name: 'Beta' },
    ]),
    schoolCalendars: noCalendars(),
    views: noViews,
    ...settingsOf({ unresolvedNSchoolDays: 7 }),
  };
}

describe('schools', () => {
  it('lists every school for an officer and only its own for a school', async () => {
    expect((await schoolList(deps(), officer)).map((s) => s.urn)).toEqual([A, B]);
    expect(await schoolList(deps(), schoolA)).toEqual([
      expect.objectContaining({ urn: A, name: 'Alpha', unresolvedNLimitSchoolDays: 7 }),
    ]);
  });

  it('pages the schools in URN order for an officer, and gives a school a page of itself (issue 17)', async () => {
    const first = await schoolPage(deps(), officer, { limit: 1 });
    expect(first.items.map((s) => s.urn)).toEqual([A]);
    expect(first.nextCursor).not.toBeNull();
    const second = await schoolPage(deps(), officer, { limit: 1, cursor: first.nextCursor as string });
    expect(second).toEqual({ items: [expect.objectContaining({ urn: B, name: 'Beta' })], nextCursor: null });
    expect(await schoolPage(deps(), schoolA, { limit: 50 })).toEqual({
      items: [expect.objectContaining({ urn: A, name: 'Alpha', unresolvedNLimitSchoolDays: 7 })],
      nextCursor: null,
    });
  });

  it('answers another school, an unknown one or a malformed URN as not found', async () => {
    expect(await schoolDetail(deps(), schoolA, { urn: B })).toMatchObject({ ok: false, refused: 'not_found' });
    expect(await schoolDetail(deps(), officer, { urn: '100009' })).toMatchObject({ ok: false, refused: 'not_found' });
    expect(await schoolDetail(deps(), officer, { urn: 'x' })).toMatchObject({ ok: false, refused: 'not_found' });
    expect(await schoolDetail(deps(), officer, { urn: A, academicYear: YEAR })).toMatchObject({
      ok: true,
      value: { urn: A, academicYear: YEAR },
    });
  });

  it("notes a refused read of another school's unresolved N on the caller's trail", async () => {
    const audit = new Trail();
    expect(await unresolvedNOf(deps(), { principal: schoolA, audit }, { urn: B })).toMatchObject({
      ok: false,
      refused: 'not_found',
    });
    expect(audit.notes).toEqual([{ target: `school:${B}`, outcome: 'not_found' }]);
    const own = await unresolvedNOf(deps(), { principal: schoolA, audit }, { urn: A, academicYear: YEAR });
    expect(own).toMatchObject({ ok: true, value: { urn: A, limitSchoolDays: 7, outstandingNSessions: 0, items: [] } });
  });
});

describe("the schools list's merged calendars", () => {
  it("builds a school's calendar once, and again only after a calendar upload or a return from the school", async () => {
    const d = deps();
    const schools = d.schools as MemorySchools;
    schools.items.set(A, {
      urn: A,
      nSessionsByDate: { [`${YEAR}-09-10`]: 2 },
      nSessionsYear: YEAR,
      lastReturnAt: 't1',
    });
    let calendars = 'v1';
    const built: string[][] = [];
    d.schoolCalendars = {
      ...d.schoolCalendars,
      version: async () => calendars,
      sourcesForSchools: async (urns) => {
        built.push([...urns]);
        return new Map(urns.map((urn) => [urn, { urn, registers: [], closures: [], bankHolidays: new Map() }]));
      },
    };
    const listed = await schoolList(d, officer);
    await schoolList(d, officer);
    expect(built).toEqual([[A]]);
    calendars = 'v2';
    await schoolList(d, officer);
    schools.items.set(A, { ...(schools.items.get(A) as SchoolRecord), lastReturnAt: 't2' });
    const unresolved = (list: typeof listed) => list.map((s) => [s.urn, s.unresolvedNSessions]);
    expect(unresolved(await schoolList(d, officer))).toEqual(unresolved(listed));
    expect(built).toEqual([[A], [A], [A]]);
  });
});

describe('the audit log', () => {
  const log = (asked: AuditQuery[] = []): AuditLog => ({
    query: async (q) => {
      asked.push(q);
      return q.cursor === 'forged' ? undefined : { items: [], nextCursor: null };
    },
  });

  it('reads the week to the date asked for by default, and notes the read', async () => {
    const asked: AuditQuery[] = [];
    const audit = new Trail();
    const out = await readAuditLog({ auditLog: log(asked) }, audit, { to: '2025-10-10', upn: 'P1' });
    expect(out).toMatchObject({ ok: true, value: { from: '2025-10-03', to: '2025-10-10', items: [] } });
    expect(asked).toEqual([
      { from: '2025-10-03', to: '2025-10-10', upn: 'P1', user: undefined, limit: 100, cursor: undefined },
    ]);
    expect(audit.notes).toEqual([{ target: 'audit:2025-10-03:2025-10-10', outcome: 'ok', count: 0, upn: 'P1' }]);
  });

  it('refuses a span of 92 days or more, dates the wrong way round and a cursor it did not issue, without reading', async () => {
    const asked: AuditQuery[] = [];
    const audit = new Trail();
    expect(await readAuditLog({ auditLog: log(asked) }, audit, { from: '2025-01-01', to: '2025-04-03' })).toMatchObject(
      { ok: false, refused: 'invalid' },
    );
    expect(await readAuditLog({ auditLog: log(asked) }, audit, { from: '2025-02-01', to: '2025-01-01' })).toMatchObject(
      { ok: false, refused: 'invalid' },
    );
    expect(asked).toEqual([]);
    expect(await readAuditLog({ auditLog: log(asked) }, audit, { cursor: 'forged' })).toMatchObject({
      ok: false,
      refused: 'invalid',
      detail: expect.stringContaining('cursor'),
    });
    expect(audit.notes).toEqual([]);
  });
});
