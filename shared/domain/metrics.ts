/**
 * Group metrics by the DfE methodology (DESIGN §2.2, §2.4): a group's figures are sums of session
 * counts, and its PA/SA rates are PA/SA cohort-enrolments over cohort-enrolments with ≥ 1 possible
 * session, where a cohort-enrolment is an enrolment's sessions restricted to the dates the pupil was in
 * the cohort and in the period.
 *
 * Aggregation produces "cells": per period, the counts of every (cohort × compulsory-age × year group ×
 * sex) combination for one school. Cells add up across schools (PA is per enrolment, and an enrolment
 * belongs to one school), never across periods.
 */
import { COHORT_BIT, COHORTS, type Cohort } from './cohorts.js';
import { CODE_COUNT, INDEX_OF_CHAR, isPersistentAbsence, isSevereAbsence, totalsOf, toStats, type Stats } from './stats.js';
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

const ABSENCE_INDEXES = ALL_CODES.map((c, i) => (CODE_CATEGORY[c] === 'authorised' || CODE_CATEGORY[c] === 'unauthorised' ? i : -1)).filter((i) => i >= 0);
const POSSIBLE_INDEXES = ALL_CODES.map((c, i) => (['present', 'approved_activity', 'authorised', 'unauthorised'].includes(CODE_CATEGORY[c]) ? i : -1)).filter((i) => i >= 0);

function cellKey(cohortIx: number, compulsory: boolean, yearGroup: string | undefined, sex: string | undefined): string {
  return yearGroup === undefined ? `${cohortIx}|${compulsory ? 1 : 0}` : `${cohortIx}|${compulsory ? 1 : 0}|${yearGroup}|${sex}`;
}

/**
 * Aggregate enrolments into cells for each period. `detailed(p)` says whether a period's cells are
 * split by year group and sex (the year and terms) or only by cohort and population (weeks).
 */
export function aggregateCells(
  enrolments: Iterable<AggregationEnrolment>,
  periods: readonly Period[],
  detailed: (p: Period) => boolean = (p) => p.kind !== 'week',
): PeriodCells[] {
  const ranges = periods.map(dayRange);
  const maps = periods.map(() => new Map<string, Cell>());
  const isDetailed = periods.map(detailed);
  // Scratch space reused for every enrolment: per-mask counts within one period.
  const maskList: number[] = [];
  const maskCounts: Int32Array[] = [];
  const maskPossible: number[] = [];
  const maskAbsence: number[] = [];

  for (const e of enrolments) {
    for (let p = 0; p < periods.length; p++) {
      const [fromDay, toDay] = ranges[p];
      maskList.length = 0;
      let any = false;
      for (let s = fromDay * 2; s <= toDay * 2 + 1; s++) {
        const ix = INDEX_OF_CHAR[e.marks.charCodeAt(s)];
        if (ix < 0) continue;
        const mask = e.masks[s >> 1];
        let k = maskList.indexOf(mask);
        if (k < 0) {
          k = maskList.length;
          maskList.push(mask);
          if (maskCounts.length <= k) maskCounts.push(new Int32Array(CODE_COUNT));
          else maskCounts[k].fill(0);
        }
        maskCounts[k][ix]++;
        any = true;
      }
      if (!any) continue;
      // Possible and absence per mask, so each cohort's figures are sums over the masks containing it.
      for (let k = 0; k < maskList.length; k++) {
        const counts = maskCounts[k];
        let possible = 0;
        let absence = 0;
        for (const i of POSSIBLE_INDEXES) possible += counts[i];
        for (const i of ABSENCE_INDEXES) absence += counts[i];
        maskPossible[k] = possible;
        maskAbsence[k] = absence;
      }
      for (let c = 0; c < COHORTS.length; c++) {
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
        const key = isDetailed[p] ? cellKey(c, e.compulsory, e.yearGroup, e.sex) : cellKey(c, e.compulsory, undefined, undefined);
        let cell = maps[p].get(key);
        if (!cell) {
          cell = {
            cohort: COHORTS[c], compulsory: e.compulsory,
            ...(isDetailed[p] ? { yearGroup: e.yearGroup, sex: e.sex } : {}),
            enrolments: 0, persistentAbsence: 0, severeAbsence: 0, counts: new Array<number>(CODE_COUNT).fill(0),
          };
          maps[p].set(key, cell);
        }
        for (let k = 0; k < maskList.length; k++) {
          if ((maskList[k] & bit) === 0) continue;
          const from = maskCounts[k];
          const to = cell.counts;
          for (let i = 0; i < CODE_COUNT; i++) to[i] += from[i];
        }
        if (possible > 0) {
          cell.enrolments++;
          if (isPersistentAbsence(absence, possible)) cell.persistentAbsence++;
          if (isSevereAbsence(absence, possible)) cell.severeAbsence++;
        }
      }
    }
  }
  return periods.map((period, p) => ({ period, detailed: isDetailed[p], cells: [...maps[p].values()] }));
}

// ---- Rows ----------------------------------------------------------------------------------------

/** A metrics row (DESIGN §4): the group key, enrolments, Stats fields and PA/SA counts and rates. */
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

export function addCell(into: GroupTotals, cell: Pick<Cell, 'enrolments' | 'persistentAbsence' | 'severeAbsence' | 'counts'>): GroupTotals {
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

/** Cohort bit for a cohort name (re-exported for readers of cells). */
export function cohortBit(c: Cohort): number {
  return COHORT_BIT[c];
}

export { totalsOf };
