/**
 * The LA rollup against in-memory stores (shared/app/rollup.ts; docs/design.md §3 "LA-wide rollup"):
 * the LA figures are the sum of per-school contributions, replaced one school at a time; a retry
 * after a fault converges; a rebuild sums afresh and rewrites no unchanged row. Schools' views come
 * from applying returns with the in-memory ingest, so they are views as the service makes them.
 */
import { describe, expect, it } from 'vitest';
import { processReturn } from '../../../shared/app/apply-return.js';
import type { LaFigures } from '../../../shared/app/ports.js';
import { forgetSchoolViews, rollup } from '../../../shared/app/rollup.js';
import type { LaAggregate, SchoolCell, SchoolContribution } from '../../../shared/domain/la-view.js';
import type { PupilRow } from '../../../shared/domain/school-view.js';
import type { SchoolRecord } from '../../../shared/store/schools.js';
import { returnCsv, upnFor, weekdays } from '../../support/returns.js';
import { memoryIngest, type MemoryIngest } from './memory-ingest.js';

const YEAR = 2025;
const DAYS = weekdays('2025-09-08', '2025-09-12');
const SCHOOLS = ['100001', '100002'];

/** The LA figures' stores in memory: the aggregate, contributions by version, cells, and the rows each school's rollup applied. */
class MemoryLaFigures implements LaFigures {
  agg?: LaAggregate;
  readonly contributions = new Map<string, SchoolContribution>();
  readonly cells = new Map<string, SchoolCell[]>();
  readonly applied: Array<{ urn: string; upns: string[] }> = [];
  readonly registry = new Map<string, SchoolRecord>(SCHOOLS.map((urn) => [urn, { urn, phase: 'Primary' }]));
  constructor(private readonly ingest: MemoryIngest) {}
  async viewPointers(year: number) {
    return [...this.ingest.derived.views.values()]
      .filter((v) => v.academicYear === year)
      .map((v) => ({ urn: v.urn, version: v.version }));
  }
  schoolView(urn: string, year: number) {
    return this.ingest.derived.view(urn, year);
  }
  async aggregate() {
    return this.agg && structuredClone(this.agg);
  }
  async putAggregate(agg: LaAggregate) {
    this.agg = structuredClone(agg);
  }
  async contribution(year: number, urn: string, version: number) {
    const c = this.contributions.get(`${year}/${urn}/${version}`);
    return c && structuredClone(c);
  }
  async putContribution(c: SchoolContribution) {
    this.contributions.set(`${c.academicYear}/${c.urn}/${c.version}`, structuredClone(c));
  }
  async deleteContribution(year: number, urn: string, version: number) {
    this.contributions.delete(`${year}/${urn}/${version}`);
  }
  async putSchoolCells(year: number, urn: string, periods: ReadonlyArray<{ periodId: string; cells?: SchoolCell[] }>) {
    for (const p of periods) {
      if (p.cells) this.cells.set(`${year}/${p.periodId}/${urn}`, structuredClone(p.cells));
      else this.cells.delete(`${year}/${p.periodId}/${urn}`);
    }
  }
  async applyRows(_year: number, urn: string, rows: readonly PupilRow[]) {
    if (rows.length > 0) this.applied.push({ urn, upns: rows.map((r) => r.upn) });
  }
  /** The rows applied here carry no partitions, so no pupil leaves a list. */
  async dropRows() {}
  async schools(urns: string[]) {
    return new Map(
      urns.flatMap((u) => (this.registry.has(u) ? [[u, this.registry.get(u) as SchoolRecord] as const] : [])),
    );
  }
}

let sent = 0;
/** A school's return for a day, received and applied. */
async function send(d: MemoryIngest, urn: string, day: number, absent = 0): Promise<void> {
  const returnId = `r${String(++sent).padStart(5, '0')}`;
  const key = `returns/${urn}/${returnId}.csv`;
  const rows = Array.from({ length: 5 }, (_, p) => ({
    urn,
    upn: upnFor(p + 1, '999', urn.slice(2)),
    date: DAYS[day],
    am: p < absent ? 'O' : '/',
    pm: '/',
    year_group: '4',
  }));
  d.files.put('b', key, returnCsv(rows));
  await d.returns.create({
    returnId,
    urn,
    status: 'received',
    format: 'csv',
    receivedAt: new Date(Date.UTC(2025, 8, 12, 0, 0, sent)).toISOString(),
    uploadedBy: { sub: `s-${urn}`, role: 'school', urn },
    objectKey: key,
  });
  await processReturn(d, returnId, 'b', key);
}

async function twoSchools(): Promise<{ ingest: MemoryIngest; figures: MemoryLaFigures }> {
  const ingest = memoryIngest();
  for (const urn of SCHOOLS) for (let day = 0; day < 3; day++) await send(ingest, urn, day, urn === SCHOOLS[0] ? 2 : 0);
  return { ingest, figures: new MemoryLaFigures(ingest) };
}

describe('the LA rollup', () => {
  it("takes in every school's contribution once, then does nothing until a view moves", async () => {
    const { figures } = await twoSchools();
    expect(await rollup({ figures }, YEAR)).toMatchObject({ schools: 2, pupils: 10, version: 1 });
    expect(Object.keys(figures.agg?.sources ?? {}).sort()).toEqual(SCHOOLS);
    expect([...figures.contributions.keys()]).toHaveLength(2);
    expect(await rollup({ figures }, YEAR)).toEqual({ schools: 0, pupils: 0, version: 1 });
  });

  it('replaces only the school whose view moved, its old contribution deleted once the aggregate is written, and equals a rollup from scratch', async () => {
    const { ingest, figures } = await twoSchools();
    await rollup({ figures }, YEAR);
    figures.applied.length = 0;
    await send(ingest, SCHOOLS[1], 3, 1);
    // Its five rows changed; four of them are listed nowhere and at this school alone, before and
    // after, so only one goes to the LA lists.
    expect(await rollup({ figures }, YEAR)).toMatchObject({ schools: 1, pupils: 1, version: 2 });
    expect(figures.applied.map((a) => a.urn)).toEqual([SCHOOLS[1]]);
    expect([...figures.contributions.keys()].filter((k) => k.includes(SCHOOLS[1]))).toEqual([
      `${YEAR}/${SCHOOLS[1]}/${figures.agg?.sources[SCHOOLS[1]]}`,
    ]);

    const fresh = new MemoryLaFigures(ingest);
    await rollup({ figures: fresh }, YEAR);
    expect({ ...figures.agg, version: 0 }).toEqual({ ...fresh.agg, version: 0 });
  });

  it('a rollup that fails before the aggregate is written, run again, ends as one clean run', async () => {
    const { ingest, figures } = await twoSchools();
    await rollup({ figures }, YEAR);
    await send(ingest, SCHOOLS[0], 3, 3);
    const put = figures.putAggregate.bind(figures);
    figures.putAggregate = async () => Promise.reject(new Error('lost connection'));
    await expect(rollup({ figures }, YEAR)).rejects.toThrow('lost connection');
    figures.putAggregate = put;
    await rollup({ figures }, YEAR);

    const clean = new MemoryLaFigures(ingest);
    await rollup({ figures: clean }, YEAR);
    expect({ ...figures.agg, version: 0 }).toEqual({ ...clean.agg, version: 0 });
    expect([...figures.contributions.keys()].sort()).toEqual([...clean.contributions.keys()].sort());
  });

  it("a rebuild sums every school's contribution afresh, changes nothing, and rewrites no row or cell", async () => {
    const { figures } = await twoSchools();
    await rollup({ figures }, YEAR);
    const before = structuredClone(figures.agg);
    const cells = structuredClone([...figures.cells]);
    figures.applied.length = 0;
    forgetSchoolViews();
    expect(await rollup({ figures }, YEAR)).toMatchObject({ schools: 2, pupils: 0 });
    expect(figures.applied).toEqual([]);
    expect({ ...figures.agg, version: 0 }).toEqual({ ...before, version: 0 });
    expect([...figures.cells]).toEqual(cells);
  });
});
