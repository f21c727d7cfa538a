/**
 * Group metrics by the DfE methodology (docs/design.md §2.2, §2.4): a group's figures are sums of session
 * counts, and its PA/SA rates are PA/SA cohort-enrolments over cohort-enrolments with ≥ 1 possible
 * session, where a cohort-enrolment is an enrolment's sessions restricted to the dates the pupil was in
 * the cohort and in the period.
 *
 * Aggregation produces "cells": per period, the counts of every (cohort × compulsory-age × year group ×
 * sex) combination for one school. Cells add up across schools (PA is per enrolment, and an enrolment
 * belongs to one school), never across periods.
 */
import { COHORTS, type Cohort } from './cohorts.js';
import {
  CODE_COUNT,
  INDEX_OF_CHAR,
  isPersistentAbsence,
  isSevereAbsence,
  totalsOf,
  toStats,
  type Stats,
} from './stats.js';
import { dayRange, type Period } from './periods.js';
import { CODE_CATEGORY, ALL_CODES } from './codes.js';

/** One pupil-at-a-school-in-a-year, as the aggregation needs it. */
export interface AggregationEnrolment {
  marks: string;
  /** Cohort bitmask per day slot (cohortMasksByDay). */
  masks: Int32Array;
  yearGroup: string;
  sex: string;
  compulsory: boolean;
}

export interface Cell {
  cohort: Cohort;
  compulsory: boolean;
  /** Absent in week cells, which are kept only by cohort and population. */
  yearGroup?: string;
  sex?: string;
  enrolments: number;
  persistentAbsence: number;
  severeAbsence: number;
  /** Session counts per code, indexed like ALL_CODES. */
  counts: number[];
}

/** Cells of one period: detailed (by year group and sex) or by cohort and population only. */
export interface PeriodCells {
  period: Period;
  detailed: boolean;
  cells: Cell[];
}

const IS_ABSENCE: readonly boolean[] = ALL_CODES.map(
  (c) => CODE_CATEGORY[c] === 'authorised' || CODE_CATEGORY[c] === 'unauthorised',
);
const IS_POSSIBLE: readonly boolean[] = ALL_CODES.map((c) =>
  ['present', 'approved_activity', 'authorised', 'unauthorised'].includes(CODE_CATEGORY[c]),
);

/**
 * Aggregate enrolments into cells for each period. `detailed(p)` says whether a period's cells are
 * split by year group and sex (the year and terms) or only by cohort and population (weeks).
 *
 * This runs over every pupil of a school on every ingest, so it works on indexes rather than string
 * keys: an enrolment's (population, year group, sex) group is looked up once, cells are found by
 * group × cohort, periods outside the enrolment's marked slots are skipped, and only the codes that
 * occur are added. Cells keep the order in which they are first met.
 */
export function aggregateCells(
  enrolments: Iterable<AggregationEnrolment>,
  periods: readonly Period[],
  detailed: (p: Period) => boolean = (p) => p.kind !== 'week',
): PeriodCells[] {
  const ranges = periods.map(dayRange);
  const isDetailed = periods.map(detailed);
  const cellsOf: Cell[][] = periods.map(() => []);
  // Per period, the cell of (group × cohort), where a group is a population (weeks) or a population,
  // year group and sex (detailed periods).
  const cellAt: Array<Array<Cell | undefined>> = periods.map(() => []);
  const groups = new Map<string, number>();
  const cohortCount = COHORTS.length;
  // Scratch space reused for every enrolment and period: per-mask counts within one period.
  const maskList: number[] = [];
  const maskCounts: Int32Array[] = [];
  const maskCodes: number[][] = [];
  const maskPossible: number[] = [];
  const maskAbsence: number[] = [];

  for (const e of enrolments) {
    const marks = e.marks;
    const masks = e.masks;
    let first = -1;
    for (let s = 0; s < marks.length; s++) {
      if (INDEX_OF_CHAR[marks.charCodeAt(s)] >= 0) {
        first = s;
        break;
      }
    }
    if (first < 0) continue;
    let last = marks.length - 1;
    while (INDEX_OF_CHAR[marks.charCodeAt(last)] < 0) last--;
    const groupKey = `${e.compulsory ? 1 : 0}|${e.yearGroup}|${e.sex}`;
    let group = groups.get(groupKey);
    if (group === undefined) groups.set(groupKey, (group = groups.size));
    const population = e.compulsory ? 1 : 0;

    for (let p = 0; p < periods.length; p++) {
      const [fromDay, toDay] = ranges[p];
      const from = Math.max(fromDay * 2, first);
      const to = Math.min(toDay * 2 + 1, last);
      if (from > to) continue;
      maskList.length = 0;
      let lastMask = 0;
      let counts: Int32Array | undefined;
      let codes: number[] = [];
      for (let s = from; s <= to; s++) {
        const ix = INDEX_OF_CHAR[marks.charCodeAt(s)];
        if (ix < 0) continue;
        const mask = masks[s >> 1];
        if (counts === undefined || mask !== lastMask) {
          let k = maskList.indexOf(mask);
          if (k < 0) {
            k = maskList.length;
            maskList.push(mask);
            if (maskCounts.length <= k) {
              maskCounts.push(new Int32Array(CODE_COUNT));
              maskCodes.push([]);
            } else {
              maskCounts[k].fill(0);
              maskCodes[k].length = 0;
            }
          }
          lastMask = mask;
          counts = maskCounts[k];
          codes = maskCodes[k];
        }
        if (counts[ix]++ === 0) codes.push(ix);
      }
      if (maskList.length === 0) continue;
      // Possible and absence per mask, so each cohort's figures are sums over the masks containing it.
      for (let k = 0; k < maskList.length; k++) {
        const c = maskCounts[k];
        let possible = 0;
        let absence = 0;
        for (const i of maskCodes[k]) {
          if (IS_POSSIBLE[i]) possible += c[i];
          if (IS_ABSENCE[i]) absence += c[i];
        }
        maskPossible[k] = possible;
        maskAbsence[k] = absence;
      }
      const periodDetailed = isDetailed[p];
      const base = (periodDetailed ? group : population) * cohortCount;
      const at = cellAt[p];
      for (let c = 0; c < cohortCount; c++) {
        const bit = 1 << c;
        let member = false;
        let possible = 0;
        let absence = 0;
        for (let k = 0; k < maskList.length; k++) {
          if ((maskList[k] & bit) === 0) continue;
          member = true;
          possible += maskPossible[k];
          absence += maskAbsence[k];
        }
        if (!member) continue;
        let cell = at[base + c];
        if (cell === undefined) {
          cell = {
            cohort: COHORTS[c],
            compulsory: e.compulsory,
            ...(periodDetailed ? { yearGroup: e.yearGroup, sex: e.sex } : {}),
            enrolments: 0,
            persistentAbsence: 0,
            severeAbsence: 0,
            counts: new Array<number>(CODE_COUNT).fill(0),
          };
          at[base + c] = cell;
          cellsOf[p].push(cell);
        }
        const to = cell.counts;
        for (let k = 0; k < maskList.length; k++) {
          if ((maskList[k] & bit) === 0) continue;
          const from = maskCounts[k];
          for (const i of maskCodes[k]) to[i] += from[i];
        }
        if (possible > 0) {
          cell.enrolments++;
          if (isPersistentAbsence(absence, possible)) cell.persistentAbsence++;
          if (isSevereAbsence(absence, possible)) cell.severeAbsence++;
        }
      }
    }
  }
  return periods.map((period, p) => ({ period, detailed: isDetailed[p], cells: cellsOf[p] }));
}

// ---- Rows ----------------------------------------------------------------------------------------

/** A metrics row (docs/design.md §4): the group key, enrolments, Stats fields and PA/SA counts and rates. */
export interface MetricsRow extends Stats {
  key: { cohort?: string; urn?: string; phase?: string; yearGroup?: string; sex?: string; week?: string };
  enrolments: number;
  persistentAbsenceCount: number;
  persistentAbsenceRate: number | null;
  severeAbsenceCount: number;
  severeAbsenceRate: number | null;
}

export interface GroupTotals {
  enrolments: number;
  persistentAbsence: number;
  severeAbsence: number;
  counts: number[];
}

export function emptyTotals(): GroupTotals {
  return { enrolments: 0, persistentAbsence: 0, severeAbsence: 0, counts: new Array<number>(CODE_COUNT).fill(0) };
}

export function addCell(
  into: GroupTotals,
  cell: Pick<Cell, 'enrolments' | 'persistentAbsence' | 'severeAbsence' | 'counts'>,
): GroupTotals {
  into.enrolments += cell.enrolments;
  into.persistentAbsence += cell.persistentAbsence;
  into.severeAbsence += cell.severeAbsence;
  for (let i = 0; i < CODE_COUNT; i++) into.counts[i] += cell.counts[i];
  return into;
}

export function toMetricsRow(key: MetricsRow['key'], t: GroupTotals): MetricsRow {
  const rate = (n: number) => (t.enrolments > 0 ? (n / t.enrolments) * 100 : null);
  return {
    key,
    enrolments: t.enrolments,
    ...toStats(t.counts),
    persistentAbsenceCount: t.persistentAbsence,
    persistentAbsenceRate: rate(t.persistentAbsence),
    severeAbsenceCount: t.severeAbsence,
    severeAbsenceRate: rate(t.severeAbsence),
  };
}

export type Population = 'all' | 'compulsory';

export function inPopulation(cell: Pick<Cell, 'compulsory'>, population: Population): boolean {
  return population === 'all' || cell.compulsory;
}

/** Sum cells into groups, in a stable order of the group key. */
export function groupCells<C extends Cell>(
  cells: Iterable<C>,
  filter: (c: C) => boolean,
  groupKey: (c: C) => string,
): Map<string, GroupTotals> {
  const groups = new Map<string, GroupTotals>();
  for (const c of cells) {
    if (!filter(c)) continue;
    const k = groupKey(c);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = emptyTotals()));
    addCell(g, c);
  }
  return groups;
}

export { totalsOf };
