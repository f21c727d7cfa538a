/**
 * The ports as the deployed service has them (docs/design.md §3): DynamoDB and S3 through the
 * modules in shared/store, buckets from the one configuration. Each Lambda composes what it needs from
 * these once; tests compose in-memory ones instead. Adapters call the store functions when called
 * (never references taken at load), so a store function replaced in an engine test is the one used.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { runtimeConfig } from '../config.js';
import { queryAudit } from '../store/audit.js';
import { headBlob, putBlob, putJson } from '../store/blobs.js';
import {
  calendarSourcesFor,
  calendarSourcesForSchools,
  calendarsVersion,
  CalendarTooLargeError,
  listCalendars,
  putCalendarImport,
  storeClosures,
} from '../store/calendars.js';
import { getCareDocument, loadCareIndex, putCareDocument, resetCareCache } from '../store/care.js';
import { listSchoolDuties } from '../store/duties.js';
import { enrolmentKeys } from '../store/keys.js';
import { keepImportFile, putImport } from '../store/imports.js';
import { requestRollup, sendIngest } from '../store/queues.js';
import { s3Client } from '../store/clients.js';
import { getLatestPatterns, getPatternFindings, getPupilPatternFlags } from '../store/patterns.js';
import { getEnrolmentsByKeys, getPupilEnrolments, getSummaries, getSummary } from '../store/pupils.js';
import { createReturn, getReturn, setReturnStatus } from '../store/returns.js';
import { getSchool, getSchools, getSessionDays, listSchools, listSchoolsPage, upsertSchool } from '../store/schools.js';
import {
  appendChange,
  casesWithOutstandingNotices,
  claimCreateKey,
  getReferral,
  getReferralsOfPupil,
  indexReferralLists,
  listAllReferrals,
  listReferrals,
  putNewReferral,
  StaleReferralError,
  upnsWithOpenReferrals,
} from '../store/referrals.js';
import type {
  AuditLog,
  Calendars,
  CareLists,
  DutyRecords,
  Registry,
  FileArea,
  Files,
  Imports,
  IngestQueue,
  PatternFindings,
  PupilRecords,
  Referrals,
  Returns,
  SchoolCalendars,
  Schools,
  Settings,
  VirtualSchoolRecords,
} from './ports.js';

/** The bucket an area is kept in. */
export function bucketOf(area: FileArea): string {
  const config = runtimeConfig();
  return area === 'returns' ? config.returnsBucket : config.quarantineBucket;
}

export const storedReturns: Returns = {
  create: (r) => createReturn(r),
  get: (id) => getReturn(id),
  setStatus: (id, status, fields) => setReturnStatus(id, status, fields),
};

export const storedFiles: Files = {
  put: async (area, key, body, contentType, metadata) => {
    await putBlob(bucketOf(area), key, body, contentType, metadata);
  },
  putJson: async (area, key, value) => {
    await putJson(bucketOf(area), key, value);
  },
  exists: async (area, key) => (await headBlob(bucketOf(area), key)) !== undefined,
  uploadUrl: (area, key, contentType, bytes, expiresIn) =>
    getSignedUrl(
      s3Client(),
      new PutObjectCommand({ Bucket: bucketOf(area), Key: key, ContentType: contentType, ContentLength: bytes }),
      { expiresIn },
    ),
};

export const storedSchools: Schools = {
  get: (urn) => getSchool(urn),
  getMany: (urns) => getSchools(urns),
  list: () => listSchools(),
  page: (limit, cursor) => listSchoolsPage(limit, cursor),
  sessionDays: (pairs) => getSessionDays(pairs),
};

export const storedPupils: PupilRecords = {
  // The API's reads of pupils go with the other reads of the same turn (shared/store/table.ts getTogether).
  summary: (upn, onHead) =>
    getSummary(upn, {
      together: true,
      ...(onHead ? { onHead: (head) => onHead({ enrolments: head.enrolmentKeys.map(enrolmentKeys.parse) }) } : {}),
    }),
  summaries: (upns) => getSummaries(upns, upns.length <= 100 ? { together: true } : {}),
  careEpisodes: async (upn) => (await loadCareIndex()).get(upn) ?? [],
  patternFlags: (upn, year) => getPupilPatternFlags(upn, year),
};

export const storedVirtualSchool: VirtualSchoolRecords = {
  careIndex: () => loadCareIndex(),
  enrolmentsByKeys: (keys) => getEnrolmentsByKeys(keys),
  enrolments: (upn) => getPupilEnrolments(upn),
};

export const configuredSettings: Settings = { settings: () => runtimeConfig().settings };

export const storedReferrals: Referrals = {
  claimCreateKey: (caller, key, record) => claimCreateKey(caller, key, record),
  putNew: (change) => putNewReferral(change),
  get: (id) => getReferral(id),
  append: async (change, expected) => {
    try {
      await appendChange(change, expected);
      return { saved: true };
    } catch (err) {
      if (err instanceof StaleReferralError) return { saved: false, currentVersion: err.currentVersion };
      throw err;
    }
  },
  ofPupil: (upn) => getReferralsOfPupil(upn),
  list: (filter, limit, cursor, keep) => listReferrals(filter, limit, cursor, keep),
  listAll: (filter, keep) => listAllReferrals(filter, keep),
  openUpns: () => upnsWithOpenReferrals(),
  withOutstandingNotices: () => casesWithOutstandingNotices(),
  indexLists: (options) => indexReferralLists(options),
};

export const storedPatternFindings: PatternFindings = {
  latest: () => getLatestPatterns(),
  findings: (runId) => getPatternFindings(runId),
};

export const storedCareLists: CareLists = {
  get: (source) => getCareDocument(source),
  put: async (doc) => {
    await putCareDocument(doc);
    resetCareCache();
  },
};

export const storedImports: Imports = {
  keepFile: (importId, name, body, contentType) => keepImportFile(importId, name, body, contentType),
  put: (record) => putImport(record),
};

export const ingestQueue: IngestQueue = { send: (message, dedup) => sendIngest(message, dedup) };

export const storedCalendars: Calendars = {
  list: () => listCalendars(),
  store: async (urn, closures, ref) => {
    try {
      return await storeClosures(urn, closures, ref);
    } catch (err) {
      if (err instanceof CalendarTooLargeError) return { tooLarge: err.message };
      throw err;
    }
  },
  putImport: (record) => putCalendarImport(record),
};

export const storedRegistry: Registry = {
  upsert: (urn, fields) => upsertSchool(urn, fields),
  requestRollup: (year) => requestRollup(year),
  laCode: () => runtimeConfig().laCode,
};

// ---- Applying a return and rolling up the LA (the ingest and rollup Lambdas; issue 16) ------------
// (Their imports are kept with them, so this block and the API's adapters change apart.)
import { optionalSetting, resourceName } from '../config.js';
import { getBlob } from '../store/blobs.js';
import { getSchoolDuties, putSchoolDuties } from '../store/duties.js';
import { fileIdentityReview, getIdentityReview } from '../store/identity-reviews.js';
import { paths } from '../store/keys.js';
import { applyLaRows, dropLaRows } from '../store/la-lists.js';
import {
  getHeadEpochs,
  getHeldEnrolments,
  getPupilHeads,
  headEpochGroup,
  moveHeadEpochs,
  putEnrolments,
  putSummaryIfUnchanged,
} from '../store/pupils.js';
import { loadRegister, saveRegister } from '../store/registers.js';
import { unfinishedBefore, waitingAfter } from '../store/returns.js';
import { putSessionDays } from '../store/schools.js';
import {
  deleteContribution,
  getContribution,
  getLaAggregate,
  getSchoolView,
  getSchoolViewPointer,
  listSchoolViewPointers,
  putContribution,
  putLaAggregate,
  putSchoolCells,
  putSchoolView,
} from '../store/views.js';
import type { ApplyReturnDeps } from './apply-return.js';
import type {
  CareIndexSource,
  DutiesStore,
  IdentityReviews,
  LaFigures,
  PupilStore,
  ReceivedFiles,
  ReceivedReturns,
  SchoolDerived,
  SchoolRegisters,
} from './ports.js';

const storedReceivedReturns: ReceivedReturns = {
  ...storedReturns,
  unfinishedBefore: (r) => unfinishedBefore(r),
  waitingAfter: (r, limit) => waitingAfter(r, limit),
};

const storedReceivedFiles: ReceivedFiles = {
  size: async (bucket, key) => {
    const head = await headBlob(bucket, key);
    return head ? (head.size ?? 0) : undefined;
  },
  read: (bucket, key) => getBlob(bucket, key),
  quarantine: async (urn, returnId, ext, file, report) => {
    const bucket = bucketOf('quarantine');
    if (file)
      await putBlob(
        bucket,
        paths.quarantined(urn, returnId, ext),
        file.body,
        file.contentType ?? 'application/octet-stream',
      );
    await putJson(bucket, paths.quarantineReport(urn, returnId), report);
  },
  putRowErrors: async (returnId, errors) => {
    await putJson(resourceName('registersBucket'), paths.returnReport(returnId), { returnId, errors });
  },
};

const storedRegisters: SchoolRegisters = {
  load: (urn, year) => loadRegister(urn, year),
  save: (register) => saveRegister(register),
};

const storedPupilStore: PupilStore = {
  where: () => `${optionalSetting('AWS_ENDPOINT_URL_DYNAMODB') ?? ''}|${optionalSetting('TABLE_NAME') ?? ''}`,
  heads: (upns) => getPupilHeads(upns),
  enrolments: (refs) => getHeldEnrolments(refs),
  putEnrolments: (urn, year, entries, onRegister) => putEnrolments(urn, year, entries, onRegister),
  putHead: (head, expected) => putSummaryIfUnchanged(head, expected),
  headEpochs: (urn) => getHeadEpochs(urn),
  headEpochGroup: (upn) => headEpochGroup(upn),
  moveHeadEpochs: (urn, upns) => moveHeadEpochs(urn, upns),
  summaries: (upns) => getSummaries(upns),
};

const storedSchoolDerived: SchoolDerived = {
  view: (urn, year) => getSchoolView(urn, year),
  viewVersion: async (urn, year) => (await getSchoolViewPointer(urn, year))?.version ?? 0,
  putView: (view, version) => putSchoolView(view, version),
  putSessionDays: (urn, year, days) => putSessionDays(urn, year, days),
  sessionDays: (pairs) => getSessionDays(pairs),
  upsertSchool: (urn, fields) => upsertSchool(urn, fields),
  school: (urn) => getSchool(urn),
  requestRollup: (year) => requestRollup(year),
};

const storedDuties: DutiesStore = {
  get: (urn, year) => getSchoolDuties(urn, year),
  put: (doc) => putSchoolDuties(doc),
  calendarSources: (urn, year) => calendarSourcesFor(urn, year),
};

const storedIdentityReviews: IdentityReviews = {
  file: async (review, rows) => {
    await fileIdentityReview(review, rows);
  },
  get: (reviewId) => getIdentityReview(reviewId),
};

const storedCareIndex: CareIndexSource = { careIndex: () => loadCareIndex() };

/** The ingest Lambda's stores, composed once (also the bench's and the engine tests'). */
export const storedIngest: ApplyReturnDeps = {
  returns: storedReceivedReturns,
  files: storedReceivedFiles,
  registers: storedRegisters,
  pupilStore: storedPupilStore,
  derived: storedSchoolDerived,
  duties: storedDuties,
  reviews: storedIdentityReviews,
  care: storedCareIndex,
  settings: () => runtimeConfig().settings,
  laCode: () => runtimeConfig().laCode,
};

export const storedLaFigures: LaFigures = {
  viewPointers: (year) => listSchoolViewPointers(year),
  schoolView: (urn, year) => getSchoolView(urn, year),
  aggregate: (year) => getLaAggregate(year),
  putAggregate: (agg) => putLaAggregate(agg),
  contribution: (year, urn, version) => getContribution(year, urn, version),
  putContribution: (c) => putContribution(c),
  deleteContribution: (year, urn, version) => deleteContribution(year, urn, version),
  putSchoolCells: (year, urn, periods) => putSchoolCells(year, urn, periods),
  applyRows: (year, urn, rows, seq, baselines) => applyLaRows(year, urn, rows, seq, baselines),
  schools: (urns) => getSchools(urns),
  dropRows: (year, upns) => dropLaRows(year, upns),
};

export const storedDutyRecords: DutyRecords = { ofYear: (year, urn) => listSchoolDuties(year, urn) };

export const storedSchoolCalendars: SchoolCalendars = {
  sourcesFor: (urn, year) => calendarSourcesFor(urn, year),
  sourcesForSchools: (urns, year) => calendarSourcesForSchools(urns, year),
  version: () => calendarsVersion(),
};

export const storedAuditLog: AuditLog = {
  query: async (q) => {
    try {
      return await queryAudit(q);
    } catch (err) {
      // A cursor this service did not issue (or one for another query) is the caller's mistake, not a fault.
      if ((err as Error).name === 'InvalidCursorError' || (err as Error).message?.includes('cursor')) return undefined;
      throw err;
    }
  },
};
