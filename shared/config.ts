/**
 * Names and settings shared by the CDK stack (lib/), the Lambdas and the local runtime, so the
 * three never drift. Runtime values come from environment variables that lib/ and local/ both set.
 */
import { FLAGS_SHAREABLE_WITH_SCHOOLS } from './domain/pupil-summary.js';

/** Environment variable names, set by lib/ on each Lambda and by local/ for the embedded runtime. */
export const ENV = {
  table: 'TABLE_NAME',
  returnsBucket: 'RETURNS_BUCKET',
  quarantineBucket: 'QUARANTINE_BUCKET',
  registersBucket: 'REGISTERS_BUCKET',
  ingestQueueUrl: 'INGEST_QUEUE_URL',
  rollupQueueUrl: 'ROLLUP_QUEUE_URL',
  patternsFunction: 'PATTERNS_FUNCTION_NAME',
  laCode: 'LA_CODE',
  laName: 'LA_NAME',
  laSettings: 'LA_SETTINGS',
  /** The web app's address, for the links in notifications (no trailing slash). */
  appUrl: 'APP_URL',
  /** The notifications' From address (an SES-verified identity in AWS). */
  mailFrom: 'MAIL_FROM',
} as const;

/**
 * One resource name, read from the environment each time it is asked for (the stores ask per call:
 * the local runtime and the tests change the environment between runs). The one way, with
 * `runtimeConfig`, that code reads the environment.
 */
export function resourceName(name: 'table' | 'registersBucket' | 'ingestQueueUrl' | 'rollupQueueUrl'): string {
  const v = process.env[ENV[name]];
  if (!v) throw new Error(`environment variable ${ENV[name]} is not set`);
  return v;
}

/** Settings for the runtime and its tests that have a default (the rollup's batching delay, a fixed cursor key, a local S3 endpoint). */
export function optionalSetting(
  name:
    | 'ROLLUP_DELAY_SECONDS'
    | 'CURSOR_SIGNING_KEY'
    | 'AWS_ENDPOINT_URL_S3'
    | 'AWS_ENDPOINT_URL_DYNAMODB'
    | 'TABLE_NAME'
    | 'APP_URL'
    | 'MAIL_FROM',
): string | undefined {
  return process.env[name];
}

/** Default resource names (the local runtime uses these; in AWS, CDK generates names and passes them). */
export const DEFAULT_NAMES = {
  table: 'attendance-hub',
  returnsBucket: 'attendance-hub-returns',
  quarantineBucket: 'attendance-hub-quarantine',
  registersBucket: 'attendance-hub-registers',
  ingestQueue: 'attendance-hub-ingest.fifo',
  rollupQueue: 'attendance-hub-rollup.fifo',
  patternsFunction: 'attendance-hub-patterns',
} as const;

/** The single DynamoDB table: generic keys plus one GSI, so the local runtime can create it identically. */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  gsi1: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** DynamoDB deletes an item some time after this epoch second (sent notifications, docs/notifications.md). */
  ttlAttribute: 'expiresAt',
} as const;

/**
 * Seconds a rollup message waits before delivery (the FIFO queue's delivery delay), and the width of
 * the window whose requests share one deduplication id: see docs/design.md §3. The local runtime
 * overrides it with ROLLUP_DELAY_SECONDS (sender and queue read the same variable).
 */
export const ROLLUP_DELAY_SECONDS = 10;

/** Deliveries of a queue message before it moves to the dead-letter queue (SQS redrive policy). */
export const MAX_RECEIVE_COUNT = 5;

/** Routes served without a token (no JWT authorizer in AWS; no token check locally). */
export const PUBLIC_ROUTES: ReadonlyArray<readonly [method: string, path: string]> = [
  ['GET', '/health'],
  ['GET', '/openapi.json'],
  ['GET', '/docs'],
];

export const LIMITS = {
  /**
   * Largest body accepted directly by POST /v1/returns. A synchronous Lambda payload is at most
   * 6 MB and API Gateway base64-encodes file bodies (+33 %), so larger files use a presigned upload.
   */
  maxDirectUploadBytes: 4 * 1024 * 1024,
  /** Largest object accepted through a presigned upload. */
  maxPresignedUploadBytes: 200 * 1024 * 1024,
  /** Rows in one return (a whole-year back-fill of a 2,000-pupil school is ~400,000). */
  maxRowsPerReturn: 1_000_000,
  /**
   * A school's waiting returns applied in one batch by the ingest function (shared/app/apply-return.ts):
   * at most this many, and no more added once their rows reach maxRowsPerBatch (what one whole-year
   * return may hold, so a batch needs no more memory or time than the largest single return).
   */
  maxReturnsPerBatch: 250,
  maxRowsPerBatch: 1_000_000,
  /** Longest CSV line accepted (a normal row is under 300 bytes). */
  maxLineBytes: 64 * 1024,
  /** XML nesting depth accepted in CTF and CIN census files. */
  maxXmlDepth: 40,
  /** Largest social-care or calendar upload. */
  maxCohortUploadBytes: 20 * 1024 * 1024,
  /** Row errors stored inline on a return's status (the full report is kept in S3). */
  maxInlineRowErrors: 1000,
  /**
   * Largest response the api function returns itself, measured as Lambda does (the serialised result,
   * escapes and base64 included). Lambda's synchronous response payload is at most 6 MB (6 MiB); a
   * response over this (a large CSV export), leaving a margin,
   * is written to S3 and answered with 303 to a presigned GET (functions/api/large-responses.ts).
   */
  maxResponseBodyBytes: 5 * 1024 * 1024,
  /** Lifetime of a presigned GET (a kept file, an over-size export): enough to start a download. */
  presignedGetSeconds: 300,
  /** Page size bounds for lists. */
  defaultPageSize: 50,
  maxPageSize: 1000,
  /** Schools' registers a warm API instance keeps for custom periods (least recently used dropped first). */
  maxCachedRegisters: 400,
  /** Schools' materialised views a warm API instance keeps. */
  maxCachedSchoolViews: 400,
  /** Academic years of LA-wide views (aggregates, pupil rows) a warm API instance keeps. */
  maxCachedYears: 3,
  /** Schools whose documents (duties, merged calendars) a warm instance keeps: more than any English LA has. */
  maxCachedSchools: 2000,
} as const;

/** LA-configurable rules (docs/design.md §2 "configurable" items), with the national defaults. */
export interface LaSettings {
  /**
   * Codes counted towards the penalty-notice threshold. Default G, O, U: the schools' policies define
   * it as "any type of unauthorised absence (G, O and/or U coded)"; N is a data-quality matter.
   */
  penaltyNoticeCodes: string[];
  /** Sessions in the rolling window that meet the threshold. */
  penaltyNoticeSessions: number;
  /** School weeks in the rolling window. */
  penaltyNoticeWeeks: number;
  /** Lower bound (percent) of "at risk of persistent absence". */
  atRiskLowerPercent: number;
  /** School weeks in the "emerging PA" look-back. */
  emergingWeeks: number;
  /** School days either side of a break that are holiday-adjacent (K). */
  holidayAdjacentDays: number;
  /** Notice-to-improve period in school days. */
  noticeToImprovePeriodDays: number;
  /** School days within which a referral must be triaged. */
  referralTriageDays: number;
  /**
   * Flag types a school is shown on its own pupils (type and date; evidence only its own). Flags
   * computed on a pupil's figures across schools (PA, SA, at risk, emerging PA) are never shared:
   * the school sees PA and SA on its own figures instead.
   */
  flagsSharedWithSchools: string[];
  /** School weeks a part-time timetable (C2) may run before it is flagged for review. */
  partTimeTimetableReviewWeeks: number;
  /**
   * School days a school has to replace `N` (reason not yet provided) with a reason: an `N` still held
   * after this many school days is unresolved, a data-quality fact listed for the school and the LA.
   */
  unresolvedNSchoolDays: number;
  /** Sessions coded U (late after the register closed) in a term that put a pupil on the lateness-warning list. */
  latenessWarningSessions: number;
  /**
   * Time of day (HH:MM, England) by which schools are to have sent the day's return: after it, the
   * LA's officers are told which expected schools have not (notification `return_missing`).
   */
  returnCutOff: string;
}

export const DEFAULT_LA_SETTINGS: LaSettings = {
  penaltyNoticeCodes: ['G', 'O', 'U'],
  penaltyNoticeSessions: 10,
  penaltyNoticeWeeks: 10,
  atRiskLowerPercent: 5,
  emergingWeeks: 4,
  holidayAdjacentDays: 2,
  noticeToImprovePeriodDays: 15,
  referralTriageDays: 5,
  flagsSharedWithSchools: [...FLAGS_SHAREABLE_WITH_SCHOOLS],
  partTimeTimetableReviewWeeks: 6,
  unresolvedNSchoolDays: 5,
  latenessWarningSessions: 10,
  // Registers close by 09:30 at the latest in most schools; an hour for the MIS export to run.
  returnCutOff: '10:30',
};

export interface RuntimeConfig {
  table: string;
  returnsBucket: string;
  quarantineBucket: string;
  registersBucket: string;
  ingestQueueUrl: string;
  rollupQueueUrl: string;
  patternsFunction: string;
  laCode: string;
  laName: string;
  settings: LaSettings;
}

let cached: RuntimeConfig | undefined;

/** Read once per process; throws a clear message naming the missing variable. */
export function runtimeConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  if (cached && env === process.env) return cached;
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new Error(`environment variable ${name} is not set`);
    return v;
  };
  const overrides = env[ENV.laSettings] ? (JSON.parse(env[ENV.laSettings] as string) as Partial<LaSettings>) : {};
  const config: RuntimeConfig = {
    table: need(ENV.table),
    returnsBucket: need(ENV.returnsBucket),
    quarantineBucket: need(ENV.quarantineBucket),
    registersBucket: need(ENV.registersBucket),
    ingestQueueUrl: need(ENV.ingestQueueUrl),
    rollupQueueUrl: need(ENV.rollupQueueUrl),
    patternsFunction: env[ENV.patternsFunction] ?? DEFAULT_NAMES.patternsFunction,
    laCode: need(ENV.laCode),
    laName: env[ENV.laName] ?? 'Local Authority',
    settings: { ...DEFAULT_LA_SETTINGS, ...overrides },
  };
  if (env === process.env) cached = config;
  return config;
}

/** For tests and the local runtime, which change the environment between runs. */
export function resetRuntimeConfig(): void {
  cached = undefined;
}

/** The demo / default LA code used locally (a fictional three-digit LA code). */
export const LOCAL_LA_CODE = '999';
export const LOCAL_LA_NAME = 'Exampleshire (synthetic)';
