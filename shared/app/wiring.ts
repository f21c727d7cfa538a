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
  CalendarTooLargeError,
  listCalendars,
  putCalendarImport,
  storeClosures,
} from '../store/calendars.js';
import { getCareDocument, loadCareIndex, putCareDocument, resetCareCache } from '../store/care.js';
import { listSchoolDuties } from '../store/duties.js';
import { keepImportFile, putImport } from '../store/imports.js';
import { requestRollup, sendIngest } from '../store/queues.js';
import { s3Client } from '../store/clients.js';
import { getLatestPatterns, getPatternFindings, getPupilPatternFlags } from '../store/patterns.js';
import { getEnrolmentsByKeys, getPupilEnrolments, getSummaries, getSummary } from '../store/pupils.js';
import { createReturn, getReturn, setReturnStatus } from '../store/returns.js';
import { getSchool, getSchools, getSessionDays, listSchools, upsertSchool } from '../store/schools.js';
import {
  appendChange,
  casesWithActions,
  claimCreateKey,
  getReferral,
  getReferralsOfPupil,
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
  sessionDays: (pairs) => getSessionDays(pairs),
};

export const storedPupils: PupilRecords = {
  summary: (upn) => getSummary(upn),
  summaries: (upns) => getSummaries(upns),
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
  withActions: () => casesWithActions(),
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

export const storedDuties: DutyRecords = { ofYear: (year, urn) => listSchoolDuties(year, urn) };

export const storedSchoolCalendars: SchoolCalendars = {
  sourcesFor: (urn, year) => calendarSourcesFor(urn, year),
  sourcesForSchools: (urns, year) => calendarSourcesForSchools(urns, year),
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
