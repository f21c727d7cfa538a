/**
 * The API Lambda's composition (docs/design.md §3): the use cases' ports wired once, to the stores,
 * and to the API's own read models where a use case needs them. Routes hand this to the use cases.
 */
import {
  configuredSettings,
  ingestQueue,
  storedCalendars,
  storedRegistry,
  storedCareLists,
  storedFiles,
  storedImports,
  storedPatternFindings,
  storedPupils,
  storedReferrals,
  storedReturns,
  storedSchools,
  storedVirtualSchool,
} from '../../shared/app/wiring.js';
import { storedAuditLog, storedDutyRecords, storedSchoolCalendars } from '../../shared/app/wiring.js';
import type { LaLists, LookedAfter, MissingEducation, PupilDuties, Registers, Views } from '../../shared/app/ports.js';
import type { PatternRuns } from '../../shared/app/ports.js';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { runtimeConfig } from '../../shared/config.js';
import { lambdaClient } from '../../shared/store/clients.js';
import { createPatternRun, getPatternRun, updatePatternRun } from '../../shared/store/patterns.js';
import { cellsForPeriod, pupilRowsForPeriod } from './any-period.js';
import { pupilDutyFields, pupilDutyReads, withChildrenMissingEducation } from '../../shared/app/duties.js';
import { currentLaView, currentSchoolView } from './view-cache.js';
import { lookedAfterAmong } from '../../shared/store/care.js';
import { getLaRows, laListAll, laListPageAfter } from '../../shared/store/la-lists.js';
import { getLaViewPointer, listSchoolCells } from '../../shared/store/views.js';

// Adapters call the modules' functions when they are called (not references taken at load), so a
// module's function replaced in a test (a fault injected into a store) is the one the use case reaches.

/** The views as this instance holds them (refreshed when their version pointer moves). */
const views: Views = {
  laView: (year) => currentLaView(year),
  schoolView: (urn, year) => currentSchoolView(urn, year),
  schoolCells: (year, periodId) => listSchoolCells(year, periodId),
};

/** The LA's stored lists; a page's total is the count kept in the LA view this instance holds. */
const laLists: LaLists = {
  rows: (year, upns) => getLaRows(year, upns),
  all: (year, list, filter) => laListAll(year, list, filter),
  version: async (year) => (await getLaViewPointer(year))?.version ?? 0,
  page: (year, list, filter, limit, cursor, binding) =>
    laListPageAfter(
      year,
      list,
      filter,
      limit,
      cursor,
      binding,
      async (pk) => (await currentLaView(year))?.listCounts[pk] ?? 0,
      // The same pointer read (one read: asked in the same turn), for the page's rows held under it.
      async () => (await getLaViewPointer(year))?.version,
    ),
};

const lookedAfter: LookedAfter = { among: (upns, asOf) => lookedAfterAmong(upns, asOf) };

/** What the statutory duties add to a pupil view and to the referral suggestions (shared/app/duties.ts). */
const duties: PupilDuties = {
  fieldsFor: (principal, upn, year, urns) => pupilDutyFields(app, principal, upn, year, urns),
  readsFor: (principal, upn, year, urns) => pupilDutyReads(app, principal, upn, year, urns),
};
const missingEducation: MissingEducation = {
  withChildrenMissingEducation: (principal, suggestions, year, hasOpenCase, urn) =>
    withChildrenMissingEducation(app, principal, suggestions, year, hasOpenCase, urn),
};

/** Any other period, from the registers this instance holds. */
const registers: Registers = {
  cellsForPeriod: (period, urns) => cellsForPeriod(period, urns),
  pupilRowsForPeriod: (period, options) => pupilRowsForPeriod(period, options),
};

/** Runs asked for through the API: recorded in the table, started by an asynchronous invocation of the patterns Lambda. */
const patternRuns: PatternRuns = {
  create: async (run) => {
    await createPatternRun(run);
  },
  get: (runId) => getPatternRun(runId),
  update: (runId, changes) => updatePatternRun(runId, changes),
  start: async (request) => {
    const payload = Buffer.from(JSON.stringify(request));
    await lambdaClient().send(
      new InvokeCommand({ FunctionName: runtimeConfig().patternsFunction, InvocationType: 'Event', Payload: payload }),
    );
  },
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
  dutyRecords: storedDutyRecords,
  schoolCalendars: storedSchoolCalendars,
  patternRuns,
  auditLog: storedAuditLog,
};
