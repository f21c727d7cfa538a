/**
 * Threshold-gaming findings (docs/design.md §2.6, §4): the latest run's findings with their evidence,
 * strongest first, for the LA's officers and (within its scope) the Virtual School.
 *
 * The Virtual School sees a pupil's finding when the pupil was in a Virtual School cohort at any
 * time in the run's academic year (the school's flags or the LA's care lists), a family finding only
 * when every child named was, and no school coding finding (a school-level judgement about every
 * pupil, outside its remit): mayListFinding in shared/domain/access.ts.
 */
import { inVirtualSchool, isVirtualSchool, mayListFinding, type Principal } from '../domain/access.js';
import { episodesOverlapping } from '../domain/cohorts.js';
import { academicYearEnd, academicYearStart } from '../domain/dates.js';
import { PATTERN_TYPES, type PatternFinding, type PatternType } from '../domain/patterns/index.js';
import type { LatestPatterns, PatternFindingsDocument } from '../store/patterns.js';
import { cachePerSource, VersionedCache } from '../lib/versioned-cache.js';
import { done, refuse, type Outcome } from './outcome.js';
import type { LaLists, PatternFindings, VirtualSchoolRecords } from './ports.js';

export type PatternFindingsDeps = {
  patterns: PatternFindings;
  laLists: LaLists;
  virtualSchool: Pick<VirtualSchoolRecords, 'careIndex'>;
};

/**
 * The latest run's findings document, per process and per store (shared/lib/versioned-cache.ts),
 * under its run id: a run's findings never change once published.
 */
const heldFor = cachePerSource<PatternFindings, VersionedCache<'latest', PatternFindingsDocument, string>>(
  () => new VersionedCache({ capacity: 1 }),
);

async function latestFindings(
  patterns: PatternFindings,
): Promise<{ latest: LatestPatterns; doc: PatternFindingsDocument } | undefined> {
  const latest = await patterns.latest();
  if (!latest) return undefined;
  const doc = await heldFor(patterns).get('latest', latest.runId, async () => {
    const found = await patterns.findings(latest.runId);
    return found && { value: found, version: found.runId };
  });
  return doc && { latest, doc };
}

/** The UPNs the Virtual School holds for the academic year: the year's pupil lists and the LA's care lists. */
async function virtualSchoolPupils(deps: PatternFindingsDeps, year: number): Promise<(upn: string) => boolean> {
  const [roll, care] = await Promise.all([deps.laLists.all(year, 'vs', {}), deps.virtualSchool.careIndex()]);
  const upns = new Set<string>();
  for (const r of roll) if (inVirtualSchool(r.everCohorts)) upns.add(r.upn);
  const from = academicYearStart(year);
  const to = academicYearEnd(year);
  for (const [upn, spans] of care) if (episodesOverlapping(spans, from, to).length > 0) upns.add(upn);
  return (upn) => upns.has(upn);
}

/** The pupils a finding names (none for a school coding finding). */
export function upnsOf(f: PatternFinding): string[] {
  if (f.type === 'holiday_adjacent_absence' || f.type === 'near_threshold_unauthorised') return [f.upn];
  if (f.type === 'family_pattern') return f.children.map((c) => c.upn);
  return [];
}

/** The schools a finding has evidence at. */
export function urnsOf(f: PatternFinding): string[] {
  return f.type === 'school_coding' ? [f.urn] : [...new Set([f.urn, ...f.urns])];
}

/** Strongest first within a type: smallest p-value, or largest count or ratio. */
function strength(f: PatternFinding): number {
  return f.statistic.flaggedWhen === 'at_most' ? f.statistic.value : -f.statistic.value;
}

export interface FindingsQuery {
  type?: string;
  urn?: string;
  from?: string;
  to?: string;
}

/** The latest run's findings the caller may see, by type in the detectors' order, strongest first. */
export async function listPatternFindings(
  deps: PatternFindingsDeps,
  principal: Principal,
  query: FindingsQuery,
): Promise<Outcome<{ items: PatternFinding[]; run: LatestPatterns | undefined }>> {
  if (query.from && query.to && query.from > query.to)
    return refuse('invalid', '`from` is after `to`.', { errors: [{ field: 'from', message: 'must not be after to' }] });
  const found = await latestFindings(deps.patterns);
  let items: PatternFinding[] = found?.doc.findings ?? [];
  items = items.filter(
    (f) =>
      (!query.type || f.type === query.type) &&
      (!query.urn || urnsOf(f).includes(query.urn)) &&
      (!query.from || f.to >= query.from) &&
      (!query.to || f.from <= query.to),
  );
  if (isVirtualSchool(principal) && found) {
    const held = await virtualSchoolPupils(deps, found.latest.academicYear);
    items = items.filter((f) => mayListFinding(principal, { type: f.type, upns: upnsOf(f) }, held));
  }
  const order = new Map<PatternType, number>(PATTERN_TYPES.map((t, i) => [t, i]));
  items = [...items].sort(
    (a, b) =>
      (order.get(a.type) as number) - (order.get(b.type) as number) ||
      strength(a) - strength(b) ||
      (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0),
  );
  return done({ items, run: found?.latest });
}
