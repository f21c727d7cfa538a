/**
 * LA-wide figures: the sum of the schools' cells (an enrolment belongs to one school, so per-enrolment
 * PA/SA counts add up across schools) and the merged pupil list (a pupil at two schools appears once,
 * from the most recent computation of their combined figures).
 */
import { VIRTUAL_SCHOOL_COHORTS } from './cohorts.js';
import type { Cell } from './metrics.js';
import type { Period } from './periods.js';
import type { PupilRow, SchoolView } from './school-view.js';

export interface LaCell extends Cell {
  phase?: string;
}

export interface SchoolCell extends Cell {
  urn: string;
  phase?: string;
}

export interface LaPeriodCells {
  period: Period;
  detailed: boolean;
  /** Summed over schools, keyed by cohort, population, phase, year group and sex (weeks: cohort and population). */
  cells: LaCell[];
  /** For detailed periods: per school, by cohort and population (groupBy school / phase). */
  bySchool: SchoolCell[];
}

export interface LaView {
  academicYear: number;
  /** The school view versions this was built from. */
  sources: Record<string, number>;
  periods: LaPeriodCells[];
  /** Union over schools of the days with any mark ('0'/'1' per day slot). */
  markedDays: string;
}

const VIRTUAL_SCHOOL_COHORT_SET: ReadonlySet<string> = new Set(VIRTUAL_SCHOOL_COHORTS);

function add(into: Cell, from: Cell): void {
  into.enrolments += from.enrolments;
  into.persistentAbsence += from.persistentAbsence;
  into.severeAbsence += from.severeAbsence;
  for (let i = 0; i < from.counts.length; i++) into.counts[i] += from.counts[i];
}

function copy<C extends Cell>(c: Cell, extra: Partial<C>): C {
  return { ...c, counts: [...c.counts], ...extra } as C;
}

/**
 * LA-wide figures cover the LA's own schools. A school outside the LA (where the Virtual School
 * sends registers for looked-after children placed there) adds only to the Virtual School's cohorts
 * (cla, plac, cin, cpp, social_worker): the virtual school counts its children wherever they are
 * educated, but the LA's figures for all pupils, FSM or SEND are its own schools'.
 */
export function rollupLa(
  academicYear: number,
  schools: ReadonlyArray<{ view: SchoolView; version: number; phase?: string; outOfArea?: boolean }>,
): LaView {
  const byPeriod = new Map<string, { period: Period; detailed: boolean; cells: Map<string, LaCell>; bySchool: Map<string, SchoolCell> }>();
  const sources: Record<string, number> = {};
  const marked = new Uint8Array(366);
  for (const { view, version, phase, outOfArea } of schools) {
    sources[view.urn] = version;
    for (let d = 0; d < (view.markedDays?.length ?? 0); d++) if (view.markedDays[d] === '1') marked[d] = 1;
    for (const pc of view.periods) {
      let acc = byPeriod.get(pc.period.id);
      if (!acc) byPeriod.set(pc.period.id, (acc = { period: pc.period, detailed: pc.detailed, cells: new Map(), bySchool: new Map() }));
      for (const cell of pc.cells) {
        if (outOfArea && !VIRTUAL_SCHOOL_COHORT_SET.has(cell.cohort)) continue;
        const key = pc.detailed
          ? `${cell.cohort}|${cell.compulsory}|${phase}|${cell.yearGroup}|${cell.sex}`
          : `${cell.cohort}|${cell.compulsory}`;
        const held = acc.cells.get(key);
        if (held) add(held, cell);
        else acc.cells.set(key, copy<LaCell>(cell, pc.detailed ? { phase } : {}));
        if (pc.detailed) {
          const sk = `${cell.cohort}|${cell.compulsory}|${view.urn}`;
          const s = acc.bySchool.get(sk);
          if (s) add(s, cell);
          else acc.bySchool.set(sk, copy<SchoolCell>({ ...cell, yearGroup: undefined, sex: undefined }, { urn: view.urn, phase }));
        }
      }
    }
  }
  const periods = [...byPeriod.values()].map((p) => ({
    period: p.period,
    detailed: p.detailed,
    cells: [...p.cells.values()],
    bySchool: [...p.bySchool.values()].map((c) => {
      const { yearGroup: _y, sex: _s, ...rest } = c;
      return rest;
    }),
  }));
  periods.sort((a, b) => (a.period.from < b.period.from ? -1 : a.period.from > b.period.from ? 1 : a.period.kind < b.period.kind ? 1 : -1));
  return { academicYear, sources, periods, markedDays: Array.from(marked).join('') };
}

/** Merge the schools' pupil rows: one row per pupil, the most recently computed (highest version). */
export function mergePupilRows(schools: ReadonlyArray<{ view: SchoolView }>): PupilRow[] {
  const best = new Map<string, PupilRow>();
  for (const { view } of schools) {
    for (const row of view.pupils) {
      const held = best.get(row.upn);
      if (!held || row.v > held.v) best.set(row.upn, row);
    }
  }
  return [...best.values()];
}

/** Absence as a share of possible sessions, for ordering lists worst first. */
export function absenceRateOf(row: Pick<PupilRow, 'authorised' | 'unauthorised' | 'possible'>): number {
  return row.possible > 0 ? ((row.authorised + row.unauthorised) / row.possible) * 100 : 0;
}
