/**
 * What the use cases need from the stores (docs/design.md §3), as small interfaces: the DynamoDB and
 * S3 modules under shared/store are the adapters (shared/app/wiring.ts), and the use-case tests hand
 * in memory ones, so a fault is injected through the port, not by spying on a module.
 */
import type { LaSettings } from '../config.js';
import type { Principal } from '../domain/access.js';
import type { CareEpisodeSpan } from '../domain/cohorts.js';
import type { Closure, SchoolCalendarSources } from '../domain/calendar.js';
import type { LaView, SchoolCell } from '../domain/la-view.js';
import type { PeriodCells } from '../domain/metrics.js';
import type { Period } from '../domain/periods.js';
import type { Enrolment, EnrolmentKey, PupilFlag } from '../domain/pupil-summary.js';
import type { Change, Referral, ReferralEvent, Suggestion } from '../domain/referrals.js';
import type { PupilRow, SchoolView } from '../domain/school-view.js';
import type { PupilSummaryRecord } from '../store/pupils.js';
import type { CalendarImportRecord, CalendarImportRef, HeldCalendar } from '../store/calendars.js';
import type { AuditEntry, AuditQuery } from '../store/audit.js';
import type { CareDocument, CareIndex, CareSource } from '../store/care.js';
import type { SchoolDuties } from '../store/duties.js';
import type { ImportRecord } from '../store/imports.js';
import type { IngestMessage } from '../store/queues.js';
import type { LaListFilter, LaRowBaseline } from '../store/la-lists.js';
import type { LatestPatterns, PatternFindingsDocument, PatternRun } from '../store/patterns.js';
import type { CaseWithActions, IdempotencyClaim, ReferralFilter, ReferralListItem } from '../store/referrals.js';
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
  put(
    area: FileArea,
    key: string,
    body: Buffer | string,
    contentType: string,
    metadata?: Record<string, string>,
  ): Promise<void>;
  putJson(area: FileArea, key: string, value: unknown): Promise<void>;
  exists(area: FileArea, key: string): Promise<boolean>;
  /** A presigned PUT for a file too large to send through the API. */
  uploadUrl(area: FileArea, key: string, contentType: string, bytes: number, expiresInSeconds: number): Promise<string>;
}

export interface Schools {
  get(urn: string): Promise<SchoolRecord | undefined>;
  getMany(urns: string[]): Promise<Map<string, SchoolRecord>>;
  /** Every school the LA knows (the registry and any that sent returns). */
  list(): Promise<SchoolRecord[]>;
  /** A page of them in URN order, `limit` at a time (a cursor this service did not issue: InvalidCursorError). */
  page(limit: number, cursor?: string): Promise<{ items: SchoolRecord[]; nextCursor: string | null }>;
  /** Each school's inferred session days for a year, keyed `year#urn` (the days it opened). */
  sessionDays(pairs: Array<{ urn: string; academicYear: number }>): Promise<Map<string, Uint8Array>>;
}

/** The LA's social-care lists, one document per source (an import replaces its source's episodes). */
export interface CareLists {
  get(source: CareSource): Promise<CareDocument | undefined>;
  /** Store a source's document; what the process held of the lists is read afresh afterwards. */
  put(doc: CareDocument): Promise<void>;
}

/** Imports of lists and calendars: the files as received, and each import's report. */
export interface Imports {
  /** Keep a file as received; answers the name it is kept under. */
  keepFile(importId: string, name: string, body: Buffer, contentType: string): Promise<string>;
  put(record: ImportRecord): Promise<void>;
}

/** Term-date calendars: the LA's (urn undefined) and schools' own. */
export interface Calendars {
  list(): Promise<HeldCalendar[]>;
  /** Apply an upload's closures to one calendar; refused when it would hold more than the calendar keeps. */
  store(
    urn: string | undefined,
    closures: readonly Closure[],
    ref: Omit<CalendarImportRef, 'closures' | 'academicYears'>,
  ): Promise<HeldCalendar | { tooLarge: string }>;
  putImport(record: CalendarImportRecord): Promise<void>;
}

/** The ingest queue: work for the ingest Lambda, in each school's FIFO lane. */
export interface IngestQueue {
  send(message: IngestMessage, deduplicationId: string): Promise<void>;
}

/** The school registry as loaded from GIAS. */
export interface Registry {
  /** Set some fields of a school, creating it if needed, without touching the others. */
  upsert(urn: string, fields: Partial<SchoolRecord>): Promise<void>;
  /** Ask for the LA-wide views of a year to be rolled up again (phase groupings follow the registry). */
  requestRollup(academicYear: number): Promise<void>;
  /** The LA this service is for (schools of other LAs are out of area). */
  laCode(): string;
}

/** The patterns runs' published findings (docs/design.md §2.6). */
export interface PatternFindings {
  latest(): Promise<LatestPatterns | undefined>;
  findings(runId: string): Promise<PatternFindingsDocument | undefined>;
}

/** Referral cases and their event history (docs/design.md §5). */
export interface Referrals {
  /** Claim an Idempotency-Key for a create, or learn the case and body hash it was first used with. */
  claimCreateKey(
    caller: string,
    key: string,
    record: { referralId: string; bodyHash: string; at: string },
  ): Promise<IdempotencyClaim>;
  putNew(change: Change): Promise<{ referral: Referral; events: ReferralEvent[] }>;
  get(id: string): Promise<{ referral: Referral; events: ReferralEvent[] } | undefined>;
  /** Append a change made to the case as read at `expectedVersion`; stale when someone else changed it first. */
  append(change: Change, expectedVersion: number): Promise<{ saved: true } | { saved: false; currentVersion?: number }>;
  /** Every case about a pupil (penalty-notice history across cases). */
  ofPupil(upn: string): Promise<Referral[]>;
  /** A page of cases, newest first; `keep` drops those the caller may not see before the page is cut. */
  list(
    filter: ReferralFilter,
    limit: number,
    cursor: string | undefined,
    keep?: (items: ReferralListItem[]) => Promise<ReferralListItem[]>,
  ): Promise<{ items: ReferralListItem[]; nextCursor: string | null }>;
  /** Every case matching (an export). */
  listAll(
    filter: ReferralFilter,
    keep?: (items: ReferralListItem[]) => Promise<ReferralListItem[]>,
  ): Promise<ReferralListItem[]>;
  /** Pupils with a case still open. */
  openUpns(): Promise<Set<string>>;
  /**
   * Every case holding a penalty notice still outstanding (issued, neither paid nor withdrawn, its
   * parent not prosecuted since), across the LA: the only cases an unpaid notice can be on.
   */
  withOutstandingNotices(): Promise<CaseWithActions[]>;
  /** Give every case stored before the list partitions its entries (once; `force` runs it again). */
  indexLists(options?: {
    force?: boolean;
    onProgress?: (cases: number) => void;
  }): Promise<{ cases: number; alreadyIndexed: boolean }>;
}

/** The referral suggestions with each child missing education after a deletion added (the LA's duties, docs/duties.md). */
export interface MissingEducation {
  withChildrenMissingEducation(
    principal: Principal,
    suggestions: Suggestion[],
    year: number,
    hasOpenCase: (upn: string) => boolean,
    urn?: string,
  ): Promise<Suggestion[]>;
}

/** The materialised views as currently published (the year to date, census terms, weeks). */
export interface Views {
  /** The LA figures (per-school cells are not in it: `schoolCells`). */
  laView(year: number): Promise<(LaView & { version: number }) | undefined>;
  schoolView(urn: string, year: number): Promise<(SchoolView & { version: number }) | undefined>;
  /** Every school's per-school cells for one materialised detailed period (rows per school, phase or placement). */
  schoolCells(year: number, periodId: string): Promise<SchoolCell[]>;
}

/** Exact figures for a period that is not materialised, computed from the schools' registers. */
export interface Registers {
  cellsForPeriod(period: Period, urns?: ReadonlySet<string>): Promise<Array<{ urn: string; cells: PeriodCells }>>;
  pupilRowsForPeriod(
    period: Period,
    options?: { urns?: ReadonlySet<string>; withCare?: boolean },
  ): Promise<Array<PupilRow & { periodCounts: number[] }>>;
}

/** What a pupil's head says before the record is read: each enrolment's academic year and school. */
export interface PupilHeadSeen {
  enrolments: ReadonlyArray<{ academicYear: number; urn: string }>;
}

/** Pupils as the ingest left them, and what the LA's lists and the patterns run add. */
export interface PupilRecords {
  /**
   * The pupil's record. `onHead`, when given, is told the pupil's enrolments (academic year and
   * school) as soon as they are known, before the enrolments themselves are read: reads it asks for
   * then go with the enrolments' (one round trip; shared/store/table.ts). A store may not call it.
   */
  summary(upn: string, onHead?: (head: PupilHeadSeen) => void): Promise<PupilSummaryRecord | undefined>;
  summaries(upns: string[]): Promise<Map<string, PupilSummaryRecord>>;
  /** The LA's own care episodes for the pupil (every source). */
  careEpisodes(upn: string): Promise<readonly CareEpisodeSpan[]>;
  /** The latest patterns run's flags on the pupil for the year. */
  patternFlags(upn: string, academicYear: number): Promise<PupilFlag[]>;
}

/** What the statutory duties add to a pupil view (looked after today; part-time timetables the caller may see). */
export interface PupilDuties {
  fieldsFor(
    principal: Principal,
    upn: string,
    academicYear: number,
    urns: readonly string[],
  ): Promise<Record<string, unknown>>;
  /**
   * The same fields' reads made now, for these schools; the fields follow for any order of the same
   * schools (the order the view lists them in). Optional: without it a view asks `fieldsFor` later.
   */
  readsFor?(
    principal: Principal,
    upn: string,
    academicYear: number,
    urns: readonly string[],
  ): Promise<(order: readonly string[]) => Record<string, unknown>>;
}

/** The LA's settings (thresholds, what is shared with schools), read when a use case runs. */
export interface Settings {
  settings(): LaSettings;
}

/** A page of a stored LA list, worst first. */
export interface LaListPage {
  rows: PupilRow[];
  nextCursor: string | null;
  total: number;
}

/**
 * The LA's pupil lists as stored (docs/design.md §7): one partition per list (and per school, cohort,
 * year group, the Virtual School), ordered worst first, so a page is one Query whatever the LA's size.
 */
export interface LaLists {
  /** The LA rows of these pupils (absent: in no school's view this year). */
  rows(year: number, upns: readonly string[]): Promise<Map<string, PupilRow>>;
  /** A whole list (an export, or a list bounded by its nature), or several as one (a pupil in two once). */
  all(year: number, list: string | readonly string[], filter: LaListFilter): Promise<PupilRow[]>;
  /**
   * The page after `cursor` (signed, bound to `binding`: the query without its paging); undefined when
   * the cursor is not one this service issued for this list.
   */
  page(
    year: number,
    list: string,
    filter: LaListFilter,
    limit: number,
    cursor: string | undefined,
    binding: Record<string, unknown>,
  ): Promise<LaListPage | undefined>;
  /** The version of the LA figures and lists (binds a computed list's cursor to the list as it stands). */
  version(year: number): Promise<number>;
}

/** Which of these pupils the LA looks after on a date, from its own lists (a school is told that, and nothing more). */
export interface LookedAfter {
  /**
   * The pupils may be given as a promise (a list read still finding its rows): the care lists' stamp
   * is then read alongside, not after them (one round trip fewer in sequence).
   */
  among(upns: readonly string[] | PromiseLike<readonly string[]>, asOf: string): Promise<Set<string>>;
}

/** What the Virtual School reads beyond the pupils' summaries: the LA's care lists as one index, and enrolments. */
export interface VirtualSchoolRecords {
  /** Every child's care episodes from the LA's lists (every source), by UPN. */
  careIndex(): Promise<CareIndex>;
  /** The enrolments with these keys (those held). */
  enrolmentsByKeys(keys: EnrolmentKey[]): Promise<Enrolment[]>;
  /** Every enrolment held for the pupil, in any year. */
  enrolments(upn: string): Promise<Enrolment[]>;
}

// ---- Applying a return and rolling up the LA (the ingest and rollup Lambdas; issue 16) ------------
// (Their imports are kept with them, so this block and the API's ports change apart.)
import type { LaAggregate, SchoolContribution } from '../domain/la-view.js';
import type { PupilYearSummary } from '../domain/pupil-summary.js';
import type { RegisterRow, SchoolRegister } from '../domain/register.js';
import type { IdentityReview } from '../store/identity-reviews.js';
import type { HeldEnrolment, PupilHead, PupilHeadWrite } from '../store/pupils.js';
import type { ReturnError } from '../store/returns.js';

/** Received returns as the ingest works through them: a school's queue, oldest first. */
export interface ReceivedReturns extends Returns {
  /** The school's returns received before this one and not finished (received, or left at processing by a crash), oldest first. */
  unfinishedBefore(r: Pick<ReturnRecord, 'urn' | 'receivedAt' | 'returnId'>): Promise<ReturnRecord[]>;
  /** The school's returns received after this one and waiting, oldest first, up to the first still awaiting its upload; at most `limit`. */
  waitingAfter(r: Pick<ReturnRecord, 'urn' | 'receivedAt' | 'returnId'>, limit: number): Promise<ReturnRecord[]>;
}

/** The received files (where the S3 event says they are), quarantine, and the full row-error reports. */
export interface ReceivedFiles {
  /** The object's size in bytes, or undefined when it cannot be read (yet). */
  size(bucket: string, key: string): Promise<number | undefined>;
  read(bucket: string, key: string): Promise<{ body: Buffer; contentType?: string } | undefined>;
  /** Keep a file rejected whole, with its report, in quarantine. */
  quarantine(
    urn: string,
    returnId: string,
    ext: string,
    file: { body: Buffer; contentType?: string } | undefined,
    report: unknown,
  ): Promise<void>;
  /** The full list of a return's row errors, when more than the return record keeps inline. */
  putRowErrors(returnId: string, errors: readonly ReturnError[]): Promise<void>;
}

/** The canonical registers, one per school and academic year. */
export interface SchoolRegisters {
  /** The register held, or an empty one. */
  load(urn: string, academicYear: number): Promise<SchoolRegister>;
  save(register: SchoolRegister): Promise<void>;
}

/** Pupils' heads and each school-year's enrolments (shared/store/pupils.ts has the layout). */
export interface PupilStore {
  /** Which store this is (a process's copies of heads are kept per store). */
  where(): string;
  /** The pupils' heads, read consistently; pupils never seen are absent. */
  heads(upns: string[]): Promise<Map<string, PupilHead>>;
  /** Enrolments by pupil and "year#urn", keyed `heldEnrolmentRef(upn, key)`. */
  enrolments(refs: Array<{ upn: string; key: string }>): Promise<Map<string, HeldEnrolment>>;
  /** Write a school-year's enrolments (others on the register kept). */
  putEnrolments(
    urn: string,
    academicYear: number,
    entries: Array<{ enrolment: Enrolment; summary: PupilYearSummary }>,
    onRegister: Iterable<string>,
  ): Promise<unknown>;
  /** Write a head only if its version is still `expectedVersion` (0: none); false when another got there first. */
  putHead(head: PupilHeadWrite, expectedVersion: number): Promise<boolean>;
  /** The epochs of the heads a school owns, by group (read consistently; a group absent: never moved). */
  headEpochs(urn: string): Promise<Map<string, number>>;
  /** The group of a pupil's head epoch. */
  headEpochGroup(upn: string): string;
  /** Move the epochs of these pupils' heads a school owns (before and after changing their versions). */
  moveHeadEpochs(urn: string, upns: readonly string[]): Promise<void>;
  /** Whole records (every enrolment held), for the identity check. */
  summaries(upns: string[]): Promise<Map<string, PupilSummaryRecord>>;
}

/** What a school's derivation writes besides the pupils: its view, session days, school record, and the request for a rollup. */
export interface SchoolDerived {
  view(urn: string, academicYear: number): Promise<(SchoolView & { version: number }) | undefined>;
  /** The version of the school's view held (0: none). */
  viewVersion(urn: string, academicYear: number): Promise<number>;
  putView(view: SchoolView, version: number): Promise<void>;
  putSessionDays(urn: string, academicYear: number, days: Uint8Array): Promise<void>;
  sessionDays(pairs: Array<{ urn: string; academicYear: number }>): Promise<Map<string, Uint8Array>>;
  upsertSchool(urn: string, fields: Partial<SchoolRecord>): Promise<void>;
  school(urn: string): Promise<SchoolRecord | undefined>;
  requestRollup(academicYear: number): Promise<void>;
}

/** A school's admission-register duties document per year, and its calendar's sources. */
export interface DutiesStore {
  get(urn: string, academicYear: number): Promise<SchoolDuties | undefined>;
  put(doc: SchoolDuties): Promise<void>;
  calendarSources(urn: string, academicYear: number): Promise<SchoolCalendarSources>;
}

/** The LA's identity review list (issue 15). */
export interface IdentityReviews {
  /** File refused rows; filing the same return's pupil again changes nothing. */
  file(review: Omit<IdentityReview, 'reviewId' | 'status' | 'createdAt'>, rows: RegisterRow[]): Promise<void>;
  get(reviewId: string): Promise<{ review: IdentityReview; rows: RegisterRow[] } | undefined>;
}

/** The LA's care lists as one index (every source), by UPN. */
export interface CareIndexSource {
  careIndex(): Promise<CareIndex>;
}

/** The LA aggregate, the school contributions it sums, and the LA lists, as the rollup keeps them. */
export interface LaFigures {
  /** Every school's view pointer for the year (one small item a school). */
  viewPointers(academicYear: number): Promise<Array<{ urn?: string; version: number }>>;
  schoolView(urn: string, academicYear: number): Promise<(SchoolView & { version: number }) | undefined>;
  aggregate(academicYear: number): Promise<LaAggregate | undefined>;
  putAggregate(agg: LaAggregate): Promise<void>;
  contribution(academicYear: number, urn: string, version: number): Promise<SchoolContribution | undefined>;
  putContribution(c: SchoolContribution): Promise<void>;
  deleteContribution(academicYear: number, urn: string, version: number): Promise<void>;
  putSchoolCells(
    academicYear: number,
    urn: string,
    periods: ReadonlyArray<{ periodId: string; cells?: SchoolCell[] }>,
  ): Promise<void>;
  /** Apply one school's changed rows to the LA lists (shared/store/la-lists.ts `applyLaRows`). */
  applyRows(
    academicYear: number,
    urn: string,
    rows: readonly PupilRow[],
    seq: number,
    baselines: Map<string, LaRowBaseline>,
  ): Promise<void>;
  schools(urns: string[]): Promise<Map<string, SchoolRecord>>;
  /** Delete the LA rows of pupils who left every list, once the rollup's aggregate is written (`dropLaRows`). */
  dropRows(academicYear: number, upns: readonly string[]): Promise<void>;
}

/** The schools' admission-register duties per year (docs/duties.md), as each school's ingest leaves them. */
export interface DutyRecords {
  /** One school's document for the year (when held), or every school's. */
  ofYear(academicYear: number, urn?: string): Promise<SchoolDuties[]>;
}

/** What a school's calendar for a year is merged from (its registers' session days, term dates, bank holidays). */
export interface SchoolCalendars {
  sourcesFor(
    urn: string,
    academicYear: number,
  ): Promise<SchoolCalendarSources & { held: { la: boolean; own: boolean } }>;
  /** The same for many schools at once (without what is held of each). */
  sourcesForSchools(urns: readonly string[], academicYear: number): Promise<Map<string, SchoolCalendarSources>>;
  /** The term-date calendars' version: it moves with every calendar upload. */
  version(): Promise<string>;
}

/** Runs of the patterns detectors asked for through the API (docs/design.md §2.6). */
export interface PatternRuns {
  create(run: PatternRun): Promise<void>;
  get(runId: string): Promise<PatternRun | undefined>;
  update(runId: string, changes: Partial<Omit<PatternRun, 'runId' | 'receivedAt' | 'trigger'>>): Promise<void>;
  /** Start the detectors on a recorded run, asynchronously; throws when the patterns function cannot be reached. */
  start(request: { trigger: 'api'; runId: string; requestedBy: string; academicYear?: number }): Promise<void>;
}

/** The audit log as written (docs/design.md §4), read newest first. */
export interface AuditLog {
  /** A page of entries; undefined when the cursor is not one this service issued for this query. */
  query(q: AuditQuery): Promise<{ items: AuditEntry[]; nextCursor: string | null } | undefined>;
}
