/**
 * The API Lambda's composition (docs/design.md §3): the use cases' ports wired once, to the stores,
 * and to the API's own read models where a use case needs them. Routes hand this to the use cases.
 */
import { configuredSettings, ingestQueue, storedCalendars, storedRegistry, storedCareLists, storedFiles, storedImports, storedPatternFindings, storedPupils, storedReferrals, storedReturns, storedSchools, storedVirtualSchool } from '../../shared/app/wiring.js';
import type { LaLists, LookedAfter, MissingEducation, PupilDuties, Registers, Views } from '../../shared/app/ports.js';
import { cellsForPeriod, pupilRowsForPeriod } from './any-period.js';
import { pupilDutyFields, withChildrenMissingEducation } from './routes/duties.js';
import { currentLaView, currentSchoolView } from './view-cache.js';
import { lookedAfterAmong } from '../../shared/store/care.js';
import { getLaRows, laListAll, laListCount, laListPage, laListQuery } from '../../shared/store/la-lists.js';
import { canonicalJson, decodeCursor, encodeCursor } from '../../shared/store/table.js';
import { getLaViewPointer, listSchoolCells } from '../../shared/store/views.js';

// Adapters call the modules' functions when they are called (not references taken at load), so a
// module's function replaced in a test (a fault injected into a store) is the one the use case reaches.

/** The views as this instance holds them (refreshed when their version pointer moves). */
const views: Views = {
  laView: (year) => currentLaView(year),
  schoolView: (urn, year) => currentSchoolView(urn, year),
  schoolCells: (year, periodId) => listSchoolCells(year, periodId),
};

/**
 * The LA's stored lists. A page's cursor is the signed key of the last row given, bound to the query;
 * the total is the count the rollup keeps per partition (in the LA view this instance holds), or, with
 * two filters at once, a count over the narrower partition.
 */
const laLists: LaLists = {
  rows: (year, upns) => getLaRows(year, upns),
  all: (year, list, filter) => laListAll(year, list, filter),
  version: async (year) => (await getLaViewPointer(year))?.version ?? 0,
  async page(year, list, filter, limit, cursor, binding) {
    const bound = `lalist:${year}|${canonicalJson(binding)}`;
    const { pk, filter: leftOver } = laListQuery(year, list, filter);
    let start: Record<string, unknown> | undefined;
    if (cursor) {
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = decodeCursor(cursor, bound);
      } catch {
        parsed = undefined;
      }
      if (!parsed || parsed.pk !== pk || typeof parsed.sk !== 'string') return undefined;
      start = { pk, sk: parsed.sk };
    }
    const [page, total] = await Promise.all([
      laListPage(year, list, filter, limit, start),
      leftOver ? laListCount(year, list, filter) : currentLaView(year).then((v) => v?.listCounts[pk] ?? 0),
    ]);
    return { rows: page.rows, nextCursor: page.lastKey ? encodeCursor({ pk, sk: page.lastKey.sk }, bound) : null, total };
  },
};

const lookedAfter: LookedAfter = { among: (upns, asOf) => lookedAfterAmong(upns, asOf) };

/** What the statutory duties add to a pupil view and to the referral suggestions (routes/duties.ts). */
const duties: PupilDuties = { fieldsFor: (principal, upn, year, urns) => pupilDutyFields(principal, upn, year, urns) };
const missingEducation: MissingEducation = {
  withChildrenMissingEducation: (principal, suggestions, year, hasOpenCase, urn) => withChildrenMissingEducation(principal, suggestions, year, hasOpenCase, urn),
};

/** Any other period, from the registers this instance holds. */
const registers: Registers = {
  cellsForPeriod: (period, urns) => cellsForPeriod(period, urns),
  pupilRowsForPeriod: (period, options) => pupilRowsForPeriod(period, options),
};

export const app = {
  returns: storedReturns,
  files: storedFiles,
  schools: storedSchools,
  pupils: storedPupils,
  referrals: storedReferrals,
  patterns: storedPatternFindings,
  careLists: storedCareLists,
  imports: storedImports,
  calendars: storedCalendars,
  registry: storedRegistry,
  virtualSchool: storedVirtualSchool,
  ingest: ingestQueue,
  ...configuredSettings,
  duties,
  missingEducation,
  views,
  laLists,
  lookedAfter,
  registers,
};
