/**
 * The storage key scheme: the only place that knows DynamoDB keys and S3 object paths.
 *
 * DynamoDB (one table, generic pk/sk and one GSI gsi1pk/gsi1sk):
 *   RETURN#<returnId>        RETURN                 a received return's status     gsi1: SCHOOL#<urn>#RETURNS / <receivedAt>#<id>
 *   SCHOOL#<urn>             SCHOOL                 registry entry + freshness     gsi1: SCHOOLS / <urn>
 *   SCHOOL#<urn>             SESSIONS#<year>        the school's session days (inferred calendar)
 *   SCHOOL#<urn>             VIEW#<year>            pointer to the school's materialised view
 *   SCHOOL#<urn>             DUTIES#<year>          the version stamp of the school's duties document (moved by each write of it)
 *   PUPIL#<upn>              SUMMARY                the pupil record's head: the pupil's enrolments (year#urn),
 *                                                   the owning school or the combined figures per year
 *                                                   (versioned; conditional writes)
 *   SCHOOL#<urn>             PUPILS#<year>#<nn>     the school's enrolments for the year, its pupils spread over
 *                                                   32 items by UPN: marks, details and the summary it computed
 *   SCHOOL#<urn>             HEADEPOCH              a counter moved before and after any head the school owns
 *                                                   changes version (another school takes the pupil on, a new year)
 *   PUPIL#<upn>              SUMMARY#<year>#<urn>   (read only) one enrolment, as briefly stored per pupil
 *   PUPIL#<upn>              PATTERNS               threshold-gaming findings from the latest run
 *   PUPIL#<upn>              REFERRAL#<id>          pointer to a referral about the pupil
 *   LA                       VIEW#<year>            pointer to the LA-wide figures (version of the aggregate)
 *   PUPIL#<upn>              LAROW#<year>           the pupil's row in the LA lists (combined figures, flags) and
 *                                                   the list partitions it is in, only while it is listed somewhere;
 *                                                   written only by the rollup
 *   LALIST#<year>#<list>#<scope>    <rate>#<upn>    a pupil in an LA list, worst first: <list> is a flag type
 *                                                   or `vs` (the Virtual School's roll);
 *                                                   <scope> is COHORT#<cohort> (the rarer cohorts only), YG#<year group>
 *                                                   (YG#(none) for a pupil without one) or VS#all; <rate> is 100 minus the
 *                                                   absence rate as shown (1 decimal), zero-padded; the item holds the keys
 *                                                   and filter attributes, the row is its LAROW
 *                                                   a year group's item only: gsi1: LALIST#<year>#<list> / <rate>#<upn>
 *                                                   (the list for the whole LA is that index partition; it has no items
 *                                                   of its own)
 *   LALIST#<year>#<list>#URN#<urn>  <upn>           a pupil in a school's share of a list, by UPN (a page sorts the
 *                                                   school's rows by rate); the commoner cohorts have no partition, only
 *                                                   counts in the LA aggregate (shared/store/la-lists.ts)
 *   LABYSCHOOL#<year>#<periodId>  <urn>             a school's per-school cells for one detailed period
 *                                                   (LA metrics grouped by school, phase or placement)
 *   LA                       CALENDAR#LA | CALENDAR#<urn>   term-date closures
 *   LA                       PATTERNS               pointer to the latest patterns run
 *   LA                       CARE                   the social-care lists' version stamp, moved by every import
 *   IMPORT#<id>              IMPORT                 a social-care import's report      gsi1: IMPORTS / <at>
 *   REFERRAL#<id>            REFERRAL               a referral case                    gsi1: REFERRALS / <createdAt>#<id>
 *   REFERRAL#<id>            EVENT#<seq>            its append-only history
 *   REFLIST#<facet>#<value>  <createdAt>#<id>       a case's list entry (the fields a list page shows, its version)
 *                                                   under one facet a search keys on, newest first: URN#<urn>,
 *                                                   UPN#<upn>, STATUS#<status>, ASSIGNEE#<sub>, TYPE#<type>, and
 *                                                   NOTICES#outstanding (a penalty notice neither paid, withdrawn
 *                                                   nor prosecuted; the entry also holds parents and actions)
 *   CONFIG                   REFERRAL_LISTS         marker: every case stored before the lists has its entries
 *   IDEMPOTENCY#<scope>      <key>                  create-once records
 *   PATTERNRUN#<id>          RUN                    a patterns run                     gsi1: PATTERNRUNS / <startedAt>
 *   AUDIT#<yyyy-mm-dd>       <at>#<id>              audit log                          gsi1: AUDIT#USER#<sub> / <at>
 *   AUDIT#PUPIL#<upn>        <at>#<id>              the same entry again, for entries about one pupil
 *   IDREVIEW#<id>            IDREVIEW               a school's rows refused as identity_mismatch, for the LA
 *                                                   to accept or reject          gsi1: IDREVIEWS / <createdAt>#<id>
 *   CONFIG                   CURSOR_KEY             the key every API instance signs list cursors with
 *   CONFIG                   NOTIFICATION_KEY       the key notification keys pseudonymise children with
 *   CONFIG                   OUTBOX_INDEXED         marker: outbox items stored before the status index were given theirs
 *   OUTBOX                   <notification key>     a notification: pending, sent or failed (issue 19)
 *                                                   gsi1: OUTBOX#<status> / <queuedAt>#<key>; sent and failed
 *                                                   ones expire (TTL attribute expiresAt, lib/storage.ts)
 *   PERSON#<sub>             PERSON                 a person's address, role and alert choices   gsi1: PEOPLE / <sub>
 *
 * S3:
 *   returns bucket     returns/<urn>/<returnId>.<ext>           every received file, as received
 *   quarantine bucket  quarantine/<urn>/<returnId>.<ext>        rejected files, with .report.json beside them
 *   registers bucket   registers/<year>/<urn>.json.gz           canonical register per school-year
 *                      views/<year>/schools/<urn>.json.gz       a school's materialised aggregates and pupil rows
 *                      views/<year>/la.json.gz                  LA-wide aggregate: the sum of the applied contributions
 *                      views/<year>/contributions/<urn>/<v>.json.gz  a school's contribution to it, from its view version v
 *                      care/<source>.json.gz                    LA social-care episodes by source
 *                      reports/returns/<returnId>.json          a return's full row-error report
 *                      imports/<importId>/<file>                raw social-care and calendar uploads
 *                      patterns/<runId>.json.gz                 a patterns run's findings
 *                      uploads/<uploadId>                       a cohort or registry file sent by presigned PUT
 *                      exports/<id>.<ext>                       an over-size API response (CSV export), 1 day
 *                      duties/<year>/<urn>.json.gz              a school's admission-register notices, new entries,
 *                                                               deletions and part-time timetables (issue 20)
 */
import { rateAsShown } from '../domain/la-view.js';

/** Narrows an LA list to one school, cohort, year group, or the Virtual School's children. */
export type LaListScope = { kind: 'URN' | 'COHORT' | 'YG'; value: string } | { kind: 'VS'; value: 'all' };

/** What a referral list partition is keyed on: one facet of a case a search filters by. */
export type ReferralListFacet = 'URN' | 'UPN' | 'STATUS' | 'ASSIGNEE' | 'TYPE' | 'NOTICES';

export const k = {
  cursorSigningKey: { pk: 'CONFIG', sk: 'CURSOR_KEY' },
  /** The key children are pseudonymised with in notification keys (no UPN in the outbox). */
  notificationKey: { pk: 'CONFIG', sk: 'NOTIFICATION_KEY' },
  /** Set once the outbox's older items have their status-index entries (shared/store/outbox.ts ensureOutboxIndexed). */
  outboxIndexed: { pk: 'CONFIG', sk: 'OUTBOX_INDEXED' },

  returnItem: (returnId: string) => ({ pk: `RETURN#${returnId}`, sk: 'RETURN' }),
  returnsBySchool: (urn: string) => `SCHOOL#${urn}#RETURNS`,

  school: (urn: string) => ({ pk: `SCHOOL#${urn}`, sk: 'SCHOOL' }),
  schoolsIndex: 'SCHOOLS',
  schoolSessions: (urn: string, year: number) => ({ pk: `SCHOOL#${urn}`, sk: `SESSIONS#${year}` }),
  schoolView: (urn: string, year: number) => ({ pk: `SCHOOL#${urn}`, sk: `VIEW#${year}` }),
  schoolDutiesVersion: (urn: string, year: number) => ({ pk: `SCHOOL#${urn}`, sk: `DUTIES#${year}` }),

  pupilPk: (upn: string) => `PUPIL#${upn}`,
  pupilSummary: (upn: string) => ({ pk: `PUPIL#${upn}`, sk: 'SUMMARY' }),
  schoolEnrolments: (urn: string, year: number, bucket: number) => ({
    pk: `SCHOOL#${urn}`,
    sk: `PUPILS#${year}#${String(bucket).padStart(2, '0')}`,
  }),
  schoolHeadEpoch: (urn: string) => ({ pk: `SCHOOL#${urn}`, sk: 'HEADEPOCH' }),
  pupilPatterns: (upn: string) => ({ pk: `PUPIL#${upn}`, sk: 'PATTERNS' }),
  pupilReferral: (upn: string, id: string) => ({ pk: `PUPIL#${upn}`, sk: `REFERRAL#${id}` }),
  pupilReferralPrefix: 'REFERRAL#',

  laView: (year: number) => ({ pk: 'LA', sk: `VIEW#${year}` }),
  laRow: (upn: string, year: number) => ({ pk: `PUPIL#${upn}`, sk: `LAROW#${year}` }),
  /** An LA list partition: `scope` narrows it to one school, cohort, year group or the Virtual School. */
  laList: (year: number, list: string, scope?: LaListScope) =>
    `LALIST#${year}#${list}${scope ? `#${scope.kind}#${scope.value}` : ''}`,
  /**
   * The year group of a pupil without one, in the lists: a year-group partition of its own, so that the
   * pupil is in the list's LA partition (gsi1 of the year groups' items). No filter names it: the API
   * takes a year group of at most 3 characters, and no return or CTF gives a year group this value.
   */
  laListNoYearGroup: '(none)',
  /**
   * The gsi1 keys of a year group's list item (issue 17, 8 December 2026): the list's LA partition,
   * at the item's own place (its sort key, unique in the list: it ends with the UPN).
   */
  laListIndexKeys: (yearGroupPk: string, sk: string) => {
    const [, year, list] = yearGroupPk.split('#');
    return { gsi1pk: k.laList(Number(year), list), gsi1sk: sk };
  },
  /**
   * Worst first as shown: 100 minus the absence rate to one decimal place (as the lists show it, so an
   * item moves only when the rate shown does), fixed width, then the UPN.
   */
  laListSort: (absenceRate: number, upn: string) =>
    `${(100 - rateAsShown(absenceRate)).toFixed(1).padStart(5, '0')}#${upn}`,
  /** A school partition's sort key: the UPN alone (its pages sort the school's rows by rate when read). */
  laListSchoolSort: (upn: string) => upn,
  /**
   * The key a list's count is kept under for a counted cohort and a year group at once (a count in the
   * rollup's aggregate, never a partition: the two-filter total without reading a partition).
   */
  laListPairCount: (year: number, list: string, cohort: string, yearGroup: string) =>
    `LALIST#${year}#${list}#COHORT#${cohort}#YG#${yearGroup}`,
  /** The list and scope of a list partition's key (the inverse of `laList`). */
  parseLaList: (pk: string): { list: string; scope?: LaListScope } => {
    const [, , list, kind, ...value] = pk.split('#');
    return kind ? { list, scope: { kind, value: value.join('#') } as LaListScope } : { list };
  },
  laBySchool: (year: number, periodId: string, urn: string) => ({ pk: `LABYSCHOOL#${year}#${periodId}`, sk: urn }),
  laBySchoolPk: (year: number, periodId: string) => `LABYSCHOOL#${year}#${periodId}`,
  laCalendar: () => ({ pk: 'LA', sk: 'CALENDAR#LA' }),
  schoolCalendar: (urn: string) => ({ pk: 'LA', sk: `CALENDAR#${urn}` }),
  calendarPrefix: 'CALENDAR#',
  latestPatterns: () => ({ pk: 'LA', sk: 'PATTERNS' }),
  careVersion: { pk: 'LA', sk: 'CARE' },

  importItem: (id: string) => ({ pk: `IMPORT#${id}`, sk: 'IMPORT' }),
  importsIndex: 'IMPORTS',

  referral: (id: string) => ({ pk: `REFERRAL#${id}`, sk: 'REFERRAL' }),
  referralEvent: (id: string, seq: number) => ({ pk: `REFERRAL#${id}`, sk: `EVENT#${String(seq).padStart(6, '0')}` }),
  referralEventPrefix: 'EVENT#',
  referralsIndex: 'REFERRALS',
  /** A referral list partition: the cases with one value of one facet, newest first (shared/store/referrals.ts). */
  referralList: (facet: ReferralListFacet, value: string) => `REFLIST#${facet}#${value}`,
  /** A case's entry in a list partition: newest first by creation, the id making it unique (as gsi1sk). */
  referralListEntry: (facet: ReferralListFacet, value: string, createdAt: string, id: string) => ({
    pk: `REFLIST#${facet}#${value}`,
    sk: `${createdAt}#${id}`,
  }),
  /** Set once every case stored before the list partitions has its entries (indexReferralLists). */
  referralListsIndexed: { pk: 'CONFIG', sk: 'REFERRAL_LISTS' },

  idempotency: (scope: string, key: string) => ({ pk: `IDEMPOTENCY#${scope}`, sk: key }),

  patternRun: (id: string) => ({ pk: `PATTERNRUN#${id}`, sk: 'RUN' }),
  patternRunsIndex: 'PATTERNRUNS',

  identityReview: (id: string) => ({ pk: `IDREVIEW#${id}`, sk: 'IDREVIEW' }),
  identityReviewsIndex: 'IDREVIEWS',

  audit: (date: string, at: string, id: string) => ({ pk: `AUDIT#${date}`, sk: `${at}#${id}` }),
  auditByUser: (sub: string) => `AUDIT#USER#${sub}`,
  auditOfPupil: (upn: string, at: string, id: string) => ({ pk: `AUDIT#PUPIL#${upn}`, sk: `${at}#${id}` }),
  auditOfPupilPk: (upn: string) => `AUDIT#PUPIL#${upn}`,
  auditDayPk: (date: string) => `AUDIT#${date}`,
  /** The pupils one list read returned (a part of at most AUDIT_LIST_PART of them), by user and day. */
  auditListRead: (sub: string, date: string, at: string, id: string, part: number) => ({
    pk: `AUDIT#LIST#${sub}#${date}`,
    sk: `${at}#${id}#${String(part).padStart(4, '0')}`,
  }),
  auditListReadPk: (sub: string, date: string) => `AUDIT#LIST#${sub}#${date}`,
  /** Under the pupil: that this user's list reads of this day returned the pupil (the pointer to the above). */
  auditListMark: (upn: string, date: string, sub: string) => ({ pk: `AUDIT#PUPIL#${upn}`, sk: `${date}#LIST#${sub}` }),

  /** The notification outbox (issue 19): one partition, a notification per key. */
  outboxPk: 'OUTBOX',
  outboxItem: (key: string) => ({ pk: 'OUTBOX', sk: key }),
  /** The outbox by status (gsi1): a run reads only the pending and failed partitions, never the sent. */
  outboxByStatus: (status: 'pending' | 'sent' | 'failed') => `OUTBOX#${status}`,
  /** Newest first by queuing time; the key makes it unique. */
  outboxByStatusSk: (queuedAt: string, key: string) => `${queuedAt}#${key}`,
  /** People who receive notifications: their address and choices, by token subject. */
  person: (sub: string) => ({ pk: `PERSON#${sub}`, sk: 'PERSON' }),
  peopleIndex: 'PEOPLE',
} as const;

/** Where over-size responses are parked for a presigned GET (registers bucket; lifecycle rule in lib/storage.ts). */
export const EXPORTS_PREFIX = 'exports/';

export const paths = {
  rawReturn: (urn: string, returnId: string, ext: string) => `returns/${urn}/${returnId}.${ext}`,
  /** Parse a raw return's key back into its URN and return id (the S3 event gives us only the key). */
  parseRawReturn: (key: string): { urn: string; returnId: string; ext: string } | undefined => {
    const m = /^returns\/([^/]+)\/([A-Za-z0-9_-]+)\.([a-z]+)$/.exec(key);
    return m ? { urn: m[1], returnId: m[2], ext: m[3] } : undefined;
  },
  quarantined: (urn: string, returnId: string, ext: string) => `quarantine/${urn}/${returnId}.${ext}`,
  quarantineReport: (urn: string, returnId: string) => `quarantine/${urn}/${returnId}.report.json`,
  register: (year: number, urn: string) => `registers/${year}/${urn}.json.gz`,
  registersPrefix: (year: number) => `registers/${year}/`,
  schoolView: (year: number, urn: string) => `views/${year}/schools/${urn}.json.gz`,
  laView: (year: number) => `views/${year}/la.json.gz`,
  contribution: (year: number, urn: string, version: number) => `views/${year}/contributions/${urn}/${version}.json.gz`,
  care: (source: string) => `care/${source}.json.gz`,
  returnReport: (returnId: string) => `reports/returns/${returnId}.json`,
  importFile: (importId: string, name: string) => `imports/${importId}/${name.replace(/[^A-Za-z0-9._-]/g, '_')}`,
  patternFindings: (runId: string) => `patterns/${runId}.json.gz`,
  /** An LA list sent by presigned PUT (over the direct limit), read when the import is asked for. */
  stagedUpload: (uploadId: string) => `uploads/${uploadId}`,
  /** A response too large for Lambda (an export), fetched once by presigned GET; expires after a day (lib/storage.ts). */
  responseExport: (id: string, ext: string) => `${EXPORTS_PREFIX}${id}.${ext}`,
  schoolDuties: (year: number, urn: string) => `duties/${year}/${urn}.json.gz`,
  schoolDutiesPrefix: (year: number) => `duties/${year}/`,
  /** The URN of a school's duties document, from its key. */
  parseSchoolDuties: (key: string): string | undefined => /^duties\/\d{4}\/([^/]+)\.json\.gz$/.exec(key)?.[1],
} as const;

/**
 * A pupil's enrolment as its record lists it: "year#urn" (the pupil head's `enrolmentKeys`). Built
 * and read only here.
 */
export const enrolmentKeys = {
  of: (e: { academicYear: number; urn: string }) => `${e.academicYear}#${e.urn}`,
  parse: (key: string): { academicYear: number; urn: string } => {
    const i = key.indexOf('#');
    return { academicYear: Number(key.slice(0, i)), urn: key.slice(i + 1) };
  },
} as const;
