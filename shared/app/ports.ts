/**
 * What the use cases need from the stores (docs/design.md §3), as small interfaces: the DynamoDB and
 * S3 modules under shared/store are the adapters (shared/app/wiring.ts), and the use-case tests hand
 * in memory ones, so a fault is injected through the port, not by spying on a module.
 */
import type { LaSettings } from '../config.js';
import type { Principal } from '../domain/access.js';
import type { CareEpisodeSpan } from '../domain/cohorts.js';
import type { PupilFlag } from '../domain/pupil-summary.js';
import type { PupilSummaryRecord } from '../store/pupils.js';
import type { ReturnRecord, ReturnStatus } from '../store/returns.js';
import type { SchoolRecord } from '../store/schools.js';

/** Received returns: their status, counts and row errors. */
export interface Returns {
  create(r: ReturnRecord): Promise<void>;
  get(returnId: string): Promise<ReturnRecord | undefined>;
  setStatus(returnId: string, status: ReturnStatus, fields?: Partial<ReturnRecord>): Promise<void>;
}

/** Where files are kept: accepted returns (whose arrival starts the ingest) and refused ones. */
export type FileArea = 'returns' | 'quarantine';

export interface Files {
  put(area: FileArea, key: string, body: Buffer | string, contentType: string, metadata?: Record<string, string>): Promise<void>;
  putJson(area: FileArea, key: string, value: unknown): Promise<void>;
  exists(area: FileArea, key: string): Promise<boolean>;
  /** A presigned PUT for a file too large to send through the API. */
  uploadUrl(area: FileArea, key: string, contentType: string, bytes: number, expiresInSeconds: number): Promise<string>;
}

export interface Schools {
  get(urn: string): Promise<SchoolRecord | undefined>;
}

/** Pupils as the ingest left them, and what the LA's lists and the patterns run add. */
export interface PupilRecords {
  summary(upn: string): Promise<PupilSummaryRecord | undefined>;
  /** The LA's own care episodes for the pupil (every source). */
  careEpisodes(upn: string): Promise<readonly CareEpisodeSpan[]>;
  /** The latest patterns run's flags on the pupil for the year. */
  patternFlags(upn: string, academicYear: number): Promise<PupilFlag[]>;
}

/** What the statutory duties add to a pupil view (looked after today; part-time timetables the caller may see). */
export interface PupilDuties {
  fieldsFor(principal: Principal, upn: string, academicYear: number, urns: readonly string[]): Promise<Record<string, unknown>>;
}

/** The LA's settings (thresholds, what is shared with schools), read when a use case runs. */
export interface Settings {
  settings(): LaSettings;
}
