/**
 * The LA rollup (the rollup Lambda's use case): brings the LA figures and lists up to date with the schools' views (docs/design.md §3
 * "LA-wide rollup"). The LA figures are the sum of per-school contributions: for each school whose
 * view moved since the aggregate last took it in, the contribution it had is taken out and the new
 * one put in, and the LA list items of its changed pupil rows are rewritten. The work follows the
 * schools that changed, not the number of schools.
 *
 * One writer per year (the rollup FIFO queue, one message group per year) and idempotent under
 * at-least-once delivery without transactions: a contribution is stored under its view version and
 * never overwritten, the aggregate (with the version applied per school) is written last, and the
 * list rows record what they replaced (shared/store/la-lists.ts). A retried message that finds the
 * aggregate current changes nothing.
 */
import { createHash } from 'node:crypto';
import {
  emptyAggregate,
  listedInLaLists,
  replaceContribution,
  schoolContribution,
  type LaAggregate,
  type SchoolContribution,
} from '../domain/la-view.js';
import type { PupilRow } from '../domain/school-view.js';
import { laListCountKeys, type LaRowBaseline } from '../store/la-lists.js';
import type { LaFigures } from './ports.js';

export interface RollupDeps {
  figures: LaFigures;
}

let rebuildNext: false | 'figures' | 'lists' = false;

/**
 * Make the next rollup take in every school's view again, as after an LA day when every school sent
 * a return (the bench's measure of the rollup, cold): the LA figures are summed afresh from every
 * school's contribution. The lists and per-school cells are still rewritten only where a school's
 * contribution differs from the one they were written from, and the lists' totals carry over.
 * `rewriteLists`: every school's rows are sent to the lists as well, changed or not (a one-off after a
 * change of the lists' layout: each pupil's items and `LAROW` are written as the layout now has them,
 * those it no longer has deleted; docs/decisions.md, 8 December 2026). Its cost is a rollup of every
 * pupil of the LA.
 */
export function forgetSchoolViews(options: { rewriteLists?: boolean } = {}): void {
  rebuildNext = options.rewriteLists ? 'lists' : 'figures';
}

/** Schools whose view and contribution are read while an earlier one is applied. */
const READ_AHEAD = 4;

/**
 * A row's digest, marked when the pupil is listed nowhere and at this school alone: then no LA row can
 * hold the pupil (only this school's rows could have put one there, and the one before was listed
 * nowhere too, so its LAROW is gone or a tombstone), and a changed row that is still so is not
 * looked up in the lists at all (most pupils, every day).
 */
const UNLISTED_HERE = '~';
const unlistedHere = (row: PupilRow, urn: string) =>
  !listedInLaLists(row) && row.urns.length === 1 && row.urns[0] === urn;
const digestAt = (urn: string) => (row: PupilRow) =>
  createHash('sha1').update(JSON.stringify(row)).digest('base64url').slice(0, 16) +
  (unlistedHere(row, urn) ? UNLISTED_HERE : '');

export interface RollupResult {
  /** Schools whose contribution was replaced. */
  schools: number;
  /** Pupil rows rewritten in the LA lists. */
  pupils: number;
  version: number;
}

export async function rollup(deps: RollupDeps, academicYear: number): Promise<RollupResult> {
  const { figures } = deps;
  // The pointers are one small item a school (about 100 bytes): the one read that covers every school.
  const [pointers, held] = await Promise.all([figures.viewPointers(academicYear), figures.aggregate(academicYear)]);
  const rebuild = rebuildNext !== false;
  const rewriteLists = rebuildNext === 'lists';
  rebuildNext = false;
  const agg: LaAggregate =
    held && !rebuild
      ? held
      : { ...emptyAggregate(academicYear), version: held?.version ?? 0, listCounts: held?.listCounts ?? {} };
  const changed = pointers
    .filter((p) => agg.sources[p.urn as string] !== p.version)
    .map((p) => p.urn as string)
    .sort();
  if (changed.length === 0 && held && !rebuild) return { schools: 0, pupils: 0, version: agg.version };
  const seq = agg.version + 1;
  const registry = changed.length ? await figures.schools(changed) : new Map();
  const baselines = new Map<string, LaRowBaseline>();
  const replaced: Array<{ urn: string; version: number }> = [];
  let pupils = 0;
  // Reads run a few schools ahead; the changes apply one school after another, so a pupil two of them
  // list is settled in order, and memory holds a few views at most.
  // The contribution each school's list rows and cells were last written from: in a rebuild, the one
  // the held aggregate records (the rows are compared with it, not rewritten for every pupil).
  const priorOf = (urn: string): number | undefined => (rebuild ? held?.sources[urn] : agg.sources[urn]);
  const load = (urn: string) => {
    const was = priorOf(urn);
    const read = Promise.all([
      figures.schoolView(urn, academicYear),
      was !== undefined ? figures.contribution(academicYear, urn, was) : undefined,
    ]);
    read.catch(() => undefined); // awaited below; a school not reached (an earlier one failed) must not go unhandled
    return read;
  };
  const ahead = new Map<string, ReturnType<typeof load>>();
  for (const [i, urn] of changed.entries()) {
    for (const next of changed.slice(i, i + READ_AHEAD)) if (!ahead.has(next)) ahead.set(next, load(next));
    const [view, old] = await ahead.get(urn)!;
    ahead.delete(urn);
    if (!view || view.version === agg.sources[urn]) continue;
    const school = registry.get(urn);
    const was = priorOf(urn);
    // (A rebuild without it rewrites the school's rows and cells in full, which is always safe.)
    if (was !== undefined && !old && !rebuild)
      throw new Error(`the contribution the LA aggregate holds for a school is missing (version ${was})`);
    const next = schoolContribution(view, view.version, school?.phase, school?.outOfArea === true, digestAt(urn));
    const rows = view.pupils.filter((r) => old?.rows[r.upn] !== next.rows[r.upn]);
    // Listed nowhere, here alone, before and now: nothing in the lists to read or change.
    const listRows = rewriteLists
      ? view.pupils
      : rows.filter((r) => !(next.rows[r.upn].endsWith(UNLISTED_HERE) && old?.rows[r.upn]?.endsWith(UNLISTED_HERE)));
    await Promise.all([
      // The same version's contribution is the same document (computed from the same view): kept.
      was === view.version && old ? undefined : figures.putContribution(next),
      figures.putSchoolCells(academicYear, urn, changedSchoolCells(old, next)),
      figures.applyRows(academicYear, urn, listRows, seq, baselines),
    ]);
    pupils += listRows.length;
    replaceContribution(agg, rebuild ? undefined : old, next);
    agg.sources[urn] = view.version;
    if (was !== undefined && was !== view.version) replaced.push({ urn, version: was });
  }
  // Each partition's count, and the counts kept instead of partitions (a counted cohort with a year group).
  for (const { parts, now } of baselines.values()) {
    for (const pk of laListCountKeys(parts)) agg.listCounts[pk] = (agg.listCounts[pk] ?? 0) - 1;
    for (const pk of laListCountKeys(now)) agg.listCounts[pk] = (agg.listCounts[pk] ?? 0) + 1;
  }
  for (const pk of Object.keys(agg.listCounts)) if (agg.listCounts[pk] === 0) delete agg.listCounts[pk];
  agg.version = seq;
  await figures.putAggregate(agg);
  // Taken out of the sums for good now the aggregate is written (a retry finds the new version applied),
  // and so are the LA rows of pupils who left every list (what they recorded is counted).
  for (const { urn, version } of replaced) await figures.deleteContribution(academicYear, urn, version);
  const left = [...baselines].filter(([, b]) => b.tombstone).map(([upn]) => upn);
  if (left.length) await figures.dropRows(academicYear, left);
  return { schools: changed.length, pupils, version: seq };
}

/** The detailed periods whose per-school cells differ between two contributions of a school. */
function changedSchoolCells(old: SchoolContribution | undefined, next: SchoolContribution) {
  const before = new Map(
    (old?.periods ?? []).filter((p) => p.detailed).map((p) => [p.period.id, JSON.stringify(p.bySchool)]),
  );
  const out: Array<{ periodId: string; cells?: SchoolContribution['periods'][number]['bySchool'] }> = [];
  for (const p of next.periods) {
    if (!p.detailed) continue;
    if (before.get(p.period.id) !== JSON.stringify(p.bySchool)) out.push({ periodId: p.period.id, cells: p.bySchool });
    before.delete(p.period.id);
  }
  for (const id of before.keys()) out.push({ periodId: id });
  return out;
}
