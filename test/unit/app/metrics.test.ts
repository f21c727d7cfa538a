/**
 * Querying metrics against in-memory stores (docs/design.md §4 GET /v1/metrics): with no materialised
 * view, every period is computed from the registers; scope and cohort rules refuse as the API does.
 */
import { describe, expect, it } from 'vitest';
import { queryMetrics, type MetricsQuery } from '../../../shared/app/query-metrics.js';
import type { Principal } from '../../../shared/domain/access.js';
import { MARK_CHAR } from '../../../shared/domain/codes.js';
import { cohortMasksByDay } from '../../../shared/domain/cohorts.js';
import { addDays, isWeekend, sessionIndex } from '../../../shared/domain/dates.js';
import type { AggregationEnrolment } from '../../../shared/domain/metrics.js';
import { CHARACTERISTICS, EMPTY_MARKS, NOT_STATED, type Characteristic } from '../../../shared/domain/register.js';
import { failing, MemoryRegisters, MemorySchools, noViews, Trail } from './memory.js';

const YEAR = 2025;
const IN = '100001';
const OUT = '900001';
const officer: Principal = { sub: 'o1', role: 'la_officer', la: '999' };
const school: Principal = { sub: 's1', role: 'school', la: '999', urn: IN };
const vsh: Principal = { sub: 'v1', role: 'vsh', la: '999' };
const PERIOD = { from: '2025-09-01', to: '2025-09-12', population: 'all' } as const;

/** A pupil present for `present` of ten school days from 1 September, absent (O) for the rest; `cla` puts them in care. */
function pupil(present: number, cla = false): AggregationEnrolment {
  const marks = EMPTY_MARKS.split('');
  let n = 0;
  for (let d = '2025-09-01'; n < 10; d = addDays(d, 1)) {
    if (isWeekend(d)) continue;
    for (const s of ['AM', 'PM'] as const) marks[sessionIndex(d, s)] = MARK_CHAR[n < present ? '/' : 'O'];
    n++;
  }
  const stated = Object.fromEntries(
    CHARACTERISTICS.map((c) => [c, (c === 'cla' && cla ? 'Y' : NOT_STATED).repeat(366)]),
  ) as Record<Characteristic, string>;
  return {
    marks: marks.join(''),
    masks: cohortMasksByDay(YEAR, stated, []),
    yearGroup: '7',
    sex: 'F',
    compulsory: true,
  };
}

function deps() {
  const registers = new MemoryRegisters();
  registers.bySchool.set(IN, [pupil(10), pupil(5)]);
  registers.bySchool.set(OUT, [pupil(8, true)]);
  return {
    views: noViews,
    registers,
    schools: new MemorySchools([
      { urn: IN, phase: 'Primary' },
      { urn: OUT, outOfArea: true },
    ]),
  };
}

const ask = (principal: Principal, q: Partial<MetricsQuery>, d = deps()) =>
  queryMetrics(d, { principal, audit: new Trail() }, { ...PERIOD, ...q });

describe('querying metrics', () => {
  it("computes the LA's figures for a custom period from the registers (a school outside the LA counts only for the Virtual School's cohorts)", async () => {
    const out = await ask(officer, {});
    if (!out.ok) throw new Error(out.detail);
    expect(out.value.period).toEqual({ from: '2025-09-01', to: '2025-09-12', materialised: null });
    expect(out.value.items).toHaveLength(1);
    expect(out.value.items[0]).toMatchObject({
      enrolments: 2,
      possibleSessions: 40,
      unauthorisedAbsenceSessions: 10,
      persistentAbsenceCount: 1,
    });
  });

  it('groups by school and by placement (in the LA or outside it)', async () => {
    const bySchool = await ask(officer, { groupBy: 'school' });
    expect(bySchool.ok && bySchool.value.items.map((r) => r.key.urn)).toEqual([IN]);
    const inCare = await ask(officer, { groupBy: 'school', cohort: 'cla' });
    expect(inCare.ok && inCare.value.items.map((r) => r.key.urn)).toEqual([OUT]);
    const byPlacement = await ask(officer, { groupBy: 'placement', cohort: 'cla' });
    expect(byPlacement.ok && byPlacement.value.items.map((r) => [r.key.placement, r.enrolments])).toEqual([
      ['out_of_area', 1],
    ]);
  });

  it("gives a school its own figures only, and another school's as unknown", async () => {
    const own = await ask(school, {});
    expect(own.ok && own.value).toMatchObject({ scope: 'school', urn: IN, items: [{ enrolments: 2 }] });
    expect(await ask(school, { urn: OUT })).toMatchObject({ ok: false, refused: 'not_found' });
    expect(await ask(officer, { urn: '100099' })).toMatchObject({ ok: false, refused: 'not_found' });
  });

  it('keeps the Virtual School to its cohorts', async () => {
    expect(await ask(vsh, { cohort: 'all' })).toMatchObject({ ok: false, refused: 'forbidden' });
    const cla = await ask(vsh, {});
    expect(cla.ok && cla.value).toMatchObject({
      cohort: 'cla',
      items: [{ enrolments: 1 }],
      comparison: { complement: null },
    });
  });

  it('refuses periods that run backwards or cross academic years', async () => {
    expect(await ask(officer, { from: '2025-09-12', to: '2025-09-01' })).toMatchObject({
      ok: false,
      refused: 'invalid',
    });
    expect(await ask(officer, { from: '2025-07-01', to: '2025-09-01' })).toMatchObject({
      ok: false,
      refused: 'invalid',
    });
    expect(await ask(officer, { scope: 'school' })).toMatchObject({ ok: false, refused: 'invalid' });
  });

  it('fails (not refuses) when the registers cannot be read', async () => {
    const d = deps();
    await expect(ask(officer, {}, { ...d, registers: failing(d.registers, 'cellsForPeriod') })).rejects.toThrow(
      'store unavailable',
    );
  });
});
