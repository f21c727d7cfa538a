/**
 * Exact figures for periods that are not materialised (docs/design.md §3: "answer any other period exactly
 * ... never by approximation"): computed from the schools' registers, which a warm instance keeps in
 * memory and refreshes school by school when their versions move.
 */
import { aggregateCells, type PeriodCells } from '../../shared/domain/metrics.js';
import { cohortMasksByDay, cohortsEver, positiveCohortsOf, type CareEpisodeSpan } from '../../shared/domain/cohorts.js';
import { aggregationEnrolments } from '../../shared/domain/school-view.js';
import type { Period } from '../../shared/domain/periods.js';
import { dayRange } from '../../shared/domain/periods.js';
import type { SchoolRegister } from '../../shared/domain/register.js';
import { countMarks, emptyCounts, totalsOf } from '../../shared/domain/stats.js';
import type { PupilRow } from '../../shared/domain/school-view.js';
import { loadCareIndex } from '../../shared/store/care.js';
import { loadRegister } from '../../shared/store/registers.js';
import { inParallel } from '../../shared/store/table.js';
import { getSchoolViewPointer, listSchoolViewPointers, type ViewPointer } from '../../shared/store/views.js';
import { LIMITS } from '../../shared/config.js';
import { VersionedCache } from '../../shared/lib/versioned-cache.js';

const registers = new VersionedCache<string, SchoolRegister, number>({ capacity: LIMITS.maxCachedRegisters });

/**
 * The schools' registers for the year (every school's, or only `urns`'), current as of the schools'
 * view pointers. A caller scoped to one school reads that school's pointer and register only, so a
 * school's request never costs the LA's work (issue 15).
 */
async function currentRegisters(year: number, urns?: ReadonlySet<string>): Promise<SchoolRegister[]> {
  const pointers = urns
    ? (await Promise.all([...urns].map((urn) => getSchoolViewPointer(urn, year)))).filter(
        (p): p is ViewPointer => p !== undefined,
      )
    : await listSchoolViewPointers(year);
  const found = new Map<string, SchoolRegister>();
  await inParallel(pointers, 8, async (p) => {
    const urn = p.urn as string;
    const register = await registers.get(`${year}#${urn}`, p.version, async () => ({
      value: await loadRegister(urn, year),
      version: p.version,
    }));
    found.set(urn, register as SchoolRegister);
  });
  return pointers.map((p) => found.get(p.urn as string) as SchoolRegister);
}

export interface SchoolPeriodCells {
  urn: string;
  cells: PeriodCells;
}

/** Cells of each school for one period. */
export async function cellsForPeriod(period: Period, urns?: ReadonlySet<string>): Promise<SchoolPeriodCells[]> {
  const care = await loadCareIndex();
  const careOf = (upn: string): readonly CareEpisodeSpan[] => care.get(upn) ?? [];
  const regs = await currentRegisters(period.academicYear, urns);
  return regs.map((r) => ({ urn: r.urn, cells: aggregateCells(aggregationEnrolments(r, careOf), [period])[0] }));
}

/**
 * Pupil rows for one period: each pupil's combined counts across schools within the period, and the
 * cohorts they were in at any time in it. Flags are the attendance flags recomputed for the period.
 */
export async function pupilRowsForPeriod(
  period: Period,
  options: { urns?: ReadonlySet<string>; withCare?: boolean } = {},
): Promise<Array<PupilRow & { periodCounts: number[] }>> {
  // A school's own rows carry the cohorts it stated itself, not the LA's social-care lists.
  const care = options.withCare === false ? new Map<string, CareEpisodeSpan[]>() : await loadCareIndex();
  const regs = await currentRegisters(period.academicYear, options.urns);
  const [fromDay, toDay] = dayRange(period);
  const byUpn = new Map<string, PupilRow & { periodCounts: number[] }>();
  for (const r of regs) {
    for (const p of r.pupils.values()) {
      const counts = countMarks(p.marks, emptyCounts(), fromDay * 2, toDay * 2 + 2);
      const masks = cohortMasksByDay(r.academicYear, p.stated, care.get(p.upn) ?? []);
      const ever = positiveCohortsOf(cohortsEver(masks, fromDay, toDay));
      let row = byUpn.get(p.upn);
      if (!row) {
        row = {
          upn: p.upn,
          v: 0,
          forename: p.forename,
          surname: p.surname,
          yearGroup: p.yearGroup,
          sex: p.sex,
          urns: [],
          cohorts: [],
          everCohorts: [],
          possible: 0,
          present: 0,
          approvedActivity: 0,
          authorised: 0,
          unauthorised: 0,
          late: 0,
          flags: [],
          periodCounts: Array.from(emptyCounts()),
        };
        byUpn.set(p.upn, row);
      }
      if (!row.urns.includes(r.urn)) row.urns.push(r.urn);
      row.everCohorts = [...new Set([...row.everCohorts, ...ever])];
      for (let i = 0; i < counts.length; i++) row.periodCounts[i] += counts[i];
    }
  }
  for (const row of byUpn.values()) {
    const t = totalsOf(row.periodCounts);
    Object.assign(row, {
      possible: t.possible,
      present: t.present,
      approvedActivity: t.approvedActivity,
      authorised: t.authorised,
      unauthorised: t.unauthorised,
      late: t.late,
    });
  }
  return [...byUpn.values()];
}
