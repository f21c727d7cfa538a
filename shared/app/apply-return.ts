/**
 * Process a received return: parse and validate it, apply its good rows to the school's register,
 * re-derive the figures, and record the outcome. The school's other waiting returns go with it in
 * one batch (a year of daily files sent at once costs one register write and one derivation, not
 * one per file). Safe to run any number of times for the same return: a return already finished is
 * skipped, and a half-finished one (a crash) is completed without applying anything twice.
 */
import { LIMITS } from '../config.js';
import {
  isVirtualSchool,
  mayJoinHeldPupil,
  mayUploadFor,
  uploadJoinsNeedIdentityCheck,
  type Principal,
} from '../domain/access.js';
import { identityOfRows, type PupilIdentity } from '../domain/pupil-identity.js';
import { academicYearOf, academicYearEnd, academicYearStart, todayInEngland } from '../domain/dates.js';
import { applyRows, type RegisterRow, type SchoolRegister } from '../domain/register.js';
import { episodesOverlapping } from '../domain/cohorts.js';
import { parseReturn, type ParsedReturn } from '../formats/returns.js';
import { logger } from '../observability.js';
import type { CareIndex } from '../store/care.js';
import type { SchoolDuties } from '../store/duties.js';
import type { ReturnError, ReturnRecord } from '../store/returns.js';
import { deriveFromRegister, type DeriveDeps, type DeriveResult } from './derive-school.js';
import type { IdentityReviews, ReceivedFiles, ReceivedReturns } from './ports.js';
import { headsOf } from './pupil-summaries.js';
import { closeDuties, noteDuties, openDuties, type DutiesDeps } from './school-duties.js';

/** What applying a return needs: the stores behind ports (shared/app/wiring.ts; in memory in the tests). */
export interface ApplyReturnDeps extends DeriveDeps, DutiesDeps {
  returns: ReceivedReturns;
  files: ReceivedFiles;
  reviews: IdentityReviews;
  /** The LA this service is for. */
  laCode(): string;
}

const FINAL = new Set(['accepted', 'accepted_with_errors', 'rejected']);

export interface ProcessOutcome {
  returnId: string;
  status: string;
  skipped?: boolean;
  /** The school's other returns applied in the same batch (their own messages then find them finished). */
  batched?: string[];
}

/** A return of the batch, and where it stands relative to the one whose message is being processed. */
interface BatchItem {
  record: ReturnRecord;
  key: string;
  place: 'earlier' | 'this' | 'later';
}

/**
 * Process a return, together with the school's other returns that are waiting: those received
 * before it and unfinished (S3 notifications may arrive out of order, and a later return replaces an
 * earlier one's marks, docs/design.md §3 "Corrections"), then those received after it and already
 * waiting (a year of daily files sent at once). They are applied in the order received, each under
 * its own return id, to registers held in memory; each school-year register is then written once,
 * its figures derived once, and each return's own outcome recorded. `batch: false` (a redelivery)
 * applies the unfinished predecessors one at a time, then this return alone, so a return that makes
 * every batch fail cannot take the others' messages with it to the dead-letter queue.
 */
export async function processReturn(
  deps: ApplyReturnDeps,
  returnId: string,
  bucket: string,
  key: string,
  options: { predecessors?: boolean; batch?: boolean } = {},
): Promise<ProcessOutcome> {
  const record = await deps.returns.get(returnId);
  if (!record) {
    // An object in returns/ that did not come through the API: keep it, and say why it was not used.
    return { returnId, status: 'ignored', skipped: true };
  }
  // A return rejected only because processing kept failing is retried when its message is redriven.
  if (FINAL.has(record.status) && !record.deadLettered) return { returnId, status: record.status, skipped: true };
  const earlier = options.predecessors === false ? [] : await deps.returns.unfinishedBefore(record);
  if (options.batch === false) {
    for (const e of earlier) {
      try {
        await applyBatch(deps, [{ record: e, key: e.objectKey, place: 'this' }], bucket);
      } catch (err) {
        logger.warn('an earlier return could not be applied first; it will be retried on its own', {
          returnId: e.returnId,
          urn: e.urn,
          error: err instanceof Error ? err.name : 'Error',
        });
      }
    }
    return (await applyBatch(deps, [{ record, key, place: 'this' }], bucket)).get(returnId) as ProcessOutcome;
  }
  const later = await deps.returns.waitingAfter(record, Math.max(0, LIMITS.maxReturnsPerBatch - earlier.length - 1));
  const items: BatchItem[] = [
    ...earlier.map((r) => ({ record: r, key: r.objectKey, place: 'earlier' as const })),
    { record, key, place: 'this' },
    ...later.map((r) => ({ record: r, key: r.objectKey, place: 'later' as const })),
  ];
  const outcomes = await applyBatch(deps, items, bucket);
  const own = outcomes.get(returnId) as ProcessOutcome;
  const batched = [...outcomes.keys()].filter((id) => id !== returnId);
  return batched.length > 0 ? { ...own, batched } : own;
}

/** A return read, parsed and checked: its good rows and row errors, or its whole-file rejection. */
type Prepared =
  | { kind: 'rows'; rows: RegisterRow[]; errors: ReturnError[]; rowCount: number }
  | { kind: 'rejected'; outcome: ProcessOutcome };

async function prepareReturn(
  deps: ApplyReturnDeps,
  record: ReturnRecord,
  bucket: string,
  key: string,
  heldHere: (upn: string) => boolean,
  care: () => Promise<CareIndex>,
): Promise<Prepared> {
  await deps.returns.setStatus(record.returnId, 'processing');
  const size = await deps.files.size(bucket, key);
  if (size === undefined) throw new Error('received object is not readable yet');
  if (size > LIMITS.maxPresignedUploadBytes) {
    return {
      kind: 'rejected',
      outcome: await reject(deps, record, bucket, key, {
        status: 413,
        code: 'too_large',
        title: 'Return too large',
        detail: `The file is ${size} bytes; the limit is ${LIMITS.maxPresignedUploadBytes} bytes. Split it by date range.`,
      }),
    };
  }
  const blob = await deps.files.read(bucket, key);
  if (!blob) throw new Error('received object disappeared');

  const principal: Principal = {
    sub: record.uploadedBy.sub,
    role: record.uploadedBy.role as Principal['role'],
    la: deps.laCode(),
    urn: record.uploadedBy.urn,
  };
  const school = await deps.derived.school(record.urn);
  const parsed = parseReturn(record.format, blob.body, {
    today: todayInEngland(),
    urnAllowed: (urn) => urn === record.urn && mayUploadFor(principal, school ?? { urn }),
  });
  if (!parsed.ok) return { kind: 'rejected', outcome: await reject(deps, record, bucket, key, parsed.error) };
  const { rows, errors } = await holdUnverifiedJoins(
    deps,
    principal,
    record,
    await restrictToScope(principal, parsed, care),
    heldHere,
  );
  return { kind: 'rows', rows, errors, rowCount: parsed.rowCount };
}

/**
 * The school-year registers a batch changes, held in memory from the first return that touches
 * them until the batch ends, with the pupils each must re-derive and the duties notes taken.
 */
class HeldRegisters {
  private readonly years = new Map<
    number,
    {
      register: SchoolRegister;
      changed: boolean;
      upns: Set<string>;
      duties: SchoolDuties;
      receivedAt: string;
      duty: boolean;
    }
  >();

  constructor(
    private readonly deps: ApplyReturnDeps,
    private readonly urn: string,
  ) {}

  /** Whether the school's registers in this batch list the pupil (so the school holds them). */
  holds(upn: string): boolean {
    for (const y of this.years.values()) if (y.register.pupils.has(upn)) return true;
    return false;
  }

  /** Apply one return's rows (received order), noting what it told the LA as if applied alone. */
  async apply(record: ReturnRecord, rows: readonly RegisterRow[]): Promise<void> {
    for (const [year, yearRows] of byAcademicYear(rows)) {
      let held = this.years.get(year);
      // Pupils in the order the register has when saved and loaded again (by UPN), as this return
      // alone would find them: the view's cells follow that order.
      if (held)
        held.register.pupils = new Map(
          [...held.register.pupils.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
        );
      const register = held?.register ?? (await this.deps.registers.load(this.urn, year));
      const result = applyRows(register, yearRows, record.returnId);
      if (!held) {
        this.years.set(
          year,
          (held = {
            register,
            changed: false,
            upns: new Set(),
            duties: await openDuties(this.deps, register, record.receivedAt),
            receivedAt: record.receivedAt,
            duty: false,
          }),
        );
      }
      held.changed ||= !result.alreadyApplied;
      held.receivedAt = record.receivedAt;
      for (const row of yearRows) held.upns.add(row.upn);
      noteDuties(held.duties, register, yearRows, record.receivedAt);
    }
  }

  /** Write each register once, derive its figures once, store its duties once. */
  async finish(care: () => Promise<CareIndex>): Promise<void> {
    for (const year of [...this.years.keys()].sort((a, b) => a - b)) {
      const held = this.years.get(year)!;
      if (held.changed) await this.deps.registers.save(held.register);
      await deriveFromRegister(this.deps, held.register, held.upns, held.receivedAt, await care());
      await closeDuties(this.deps, held.duties, held.register);
    }
  }
}

function byAcademicYear(rows: readonly RegisterRow[]): Array<[number, RegisterRow[]]> {
  const byYear = new Map<number, RegisterRow[]>();
  // Rows come in runs of one date (a day's pupils, or a pupil's days): the year is looked up per run.
  let runDate: string | undefined;
  let list: RegisterRow[] = [];
  for (const row of rows) {
    if (row.date !== runDate) {
      runDate = row.date;
      const year = academicYearOf(row.date);
      const held = byYear.get(year);
      if (held) list = held;
      else byYear.set(year, (list = []));
    }
    list.push(row);
  }
  return [...byYear.entries()].sort((a, b) => a[0] - b[0]);
}

/**
 * Apply a batch in order. A return received before the one being processed that cannot be read is
 * left to its own message (its retries, then the dead-letter path) rather than blocking this one;
 * one received after it ends the batch there, so nothing received later overtakes it. A file
 * rejected whole is recorded as such and the others go on. A crash anywhere leaves every return
 * unfinished or finished: a retry applies nothing twice (each register keeps the ids applied) and
 * derives and records again, so it ends as one clean run would.
 */
async function applyBatch(
  deps: ApplyReturnDeps,
  items: readonly BatchItem[],
  bucket: string,
): Promise<Map<string, ProcessOutcome>> {
  const urn = items[0].record.urn;
  const held = new HeldRegisters(deps, urn);
  // The LA's care lists, read once for the batch when first needed.
  let careRead: Promise<CareIndex> | undefined;
  const care = () => (careRead ??= deps.care.careIndex());
  const outcomes = new Map<string, ProcessOutcome>();
  const applied: Array<{
    record: ReturnRecord;
    rows: number;
    errors: ReturnError[];
    rowCount: number;
    dates?: { from: string; to: string };
  }> = [];
  let rowsHeld = 0;
  for (const item of items) {
    if (item.place === 'later' && rowsHeld >= LIMITS.maxRowsPerBatch) break;
    let prepared: Prepared;
    try {
      prepared = await prepareReturn(deps, item.record, bucket, item.key, (upn) => held.holds(upn), care);
    } catch (err) {
      if (item.place === 'this') throw err;
      const error = err instanceof Error ? err.name : 'Error';
      if (item.place === 'earlier') {
        logger.warn('an earlier return could not be applied first; it will be retried on its own', {
          returnId: item.record.returnId,
          urn,
          error,
        });
        continue;
      }
      logger.warn('a later return could not be read; it and the returns after it are left to their own messages', {
        returnId: item.record.returnId,
        urn,
        error,
      });
      break;
    }
    if (prepared.kind === 'rejected') {
      outcomes.set(item.record.returnId, prepared.outcome);
      continue;
    }
    await held.apply(item.record, prepared.rows);
    rowsHeld += prepared.rows.length;
    applied.push({
      record: item.record,
      rows: prepared.rows.length,
      errors: prepared.errors,
      rowCount: prepared.rowCount,
      dates: datesOf(prepared.rows),
    });
  }
  await held.finish(care);
  for (const a of applied)
    outcomes.set(a.record.returnId, await recordOutcome(deps, a.record, a.rows, a.errors, a.rowCount, a.dates));
  // In received order, as the caller reads them.
  return new Map(
    items
      .filter((i) => outcomes.has(i.record.returnId))
      .map((i) => [i.record.returnId, outcomes.get(i.record.returnId) as ProcessOutcome]),
  );
}

function datesOf(rows: readonly RegisterRow[]): { from: string; to: string } | undefined {
  let from: string | undefined;
  let to: string | undefined;
  for (const row of rows) {
    if (!from || row.date < from) from = row.date;
    if (!to || row.date > to) to = row.date;
  }
  return from && to ? { from, to } : undefined;
}

/**
 * A school's rows for a pupil another school holds, and this school never did, are applied only
 * when they agree with the record (date of birth, and surname or forename). Otherwise every row of
 * that pupil is a row error `identity_mismatch` and the rows wait on the LA's review list: applied,
 * they would give the school the child's record and let its marks raise the child's flags (issue 15).
 */
async function holdUnverifiedJoins(
  deps: ApplyReturnDeps,
  principal: Principal,
  record: ReturnRecord,
  scoped: { rows: RegisterRow[]; errors: ReturnError[] },
  heldHere: (upn: string) => boolean,
): Promise<{ rows: RegisterRow[]; errors: ReturnError[] }> {
  if (!uploadJoinsNeedIdentityCheck(principal) || scoped.rows.length === 0) return scoped;
  const byUpn = new Map<string, RegisterRow[]>();
  for (const row of scoped.rows) {
    const list = byUpn.get(row.upn);
    if (list) list.push(row);
    else byUpn.set(row.upn, [row]);
  }
  // This process's copies of the heads first (a daily return names pupils the school already has,
  // which a copy shows for good); a head that lists only other schools is checked on a fresh read.
  const heads = await headsOf(deps.pupilStore, [...byUpn.keys()]);
  const joining = [...heads.values()]
    .filter(
      (h) =>
        h.enrolmentKeys.length > 0 && !h.enrolmentKeys.some((key) => key.slice(key.indexOf('#') + 1) === record.urn),
    )
    // Listed by an earlier return of the same batch: the school holds them, as it would after that return alone.
    .filter((h) => !heldHere(h.upn))
    .map((h) => h.upn);
  if (joining.length === 0) return scoped;
  const records = await deps.pupilStore.summaries(joining);
  const refused = new Set<string>();
  const errors = [...scoped.errors];
  for (const upn of joining) {
    const rows = byUpn.get(upn) as RegisterRow[];
    const sent = identityOfRows(rows);
    const current = records.get(upn);
    // The fresh read may show this school's enrolment added since the copy was taken: nothing to check.
    if (!current || current.enrolments.some((e) => e.urn === record.urn)) continue;
    const held = distinctIdentities(current.enrolments);
    if (mayJoinHeldPupil(principal, sent, held)) continue;
    refused.add(upn);
    const lines = rows.map((r) => (r as { line?: number }).line ?? 0).sort((a, b) => a - b);
    for (const line of lines) {
      errors.push({
        line,
        field: 'upn',
        code: 'identity_mismatch',
        message:
          "another school holds a pupil with this UPN, and this row's date of birth and names do not agree with that record; the rows are with the LA to review",
      });
    }
    const dates = rows.map((r) => r.date).sort();
    await deps.reviews.file(
      {
        returnId: record.returnId,
        urn: record.urn,
        upn,
        lines,
        dates: { from: dates[0], to: dates[dates.length - 1] },
        sent,
        held,
      },
      rows,
    );
  }
  return { rows: scoped.rows.filter((r) => !refused.has(r.upn)), errors };
}

function distinctIdentities(list: ReadonlyArray<PupilIdentity>): PupilIdentity[] {
  const out = new Map<string, PupilIdentity>();
  for (const e of list) {
    const id: PupilIdentity = {
      ...(e.forename ? { forename: e.forename } : {}),
      ...(e.surname ? { surname: e.surname } : {}),
      ...(e.dob ? { dob: e.dob } : {}),
    };
    out.set(JSON.stringify(id), id);
  }
  return [...out.values()];
}

/**
 * Apply the rows of a review an LA officer accepted, in the school's queue (so after the returns it
 * received before): as a return of its own (id `review:<reviewId>`), so a repeat applies nothing twice.
 */
export async function applyAcceptedReview(deps: ApplyReturnDeps, reviewId: string): Promise<string> {
  const found = await deps.reviews.get(reviewId);
  if (!found || found.review.status !== 'accepted') return 'not_accepted';
  const byYear = new Map<number, RegisterRow[]>();
  for (const row of found.rows) {
    const year = academicYearOf(row.date);
    const list = byYear.get(year);
    if (list) list.push(row);
    else byYear.set(year, [row]);
  }
  for (const [year, yearRows] of [...byYear.entries()].sort((a, b) => a[0] - b[0])) {
    const register = await deps.registers.load(found.review.urn, year);
    const result = applyRows(register, yearRows, `review:${reviewId}`);
    if (!result.alreadyApplied) await deps.registers.save(register);
    await deriveFromRegister(deps, register, new Set(yearRows.map((r) => r.upn)));
  }
  return 'applied';
}

/** The Virtual School may send rows only for children in its cohorts; other rows are row errors. */
async function restrictToScope(
  principal: Principal,
  parsed: Extract<ParsedReturn, { ok: true }>,
  careIndex: () => Promise<CareIndex>,
): Promise<{ rows: RegisterRow[]; errors: ReturnError[] }> {
  if (!isVirtualSchool(principal)) return { rows: parsed.rows, errors: parsed.errors };
  const care = await careIndex();
  const rows: RegisterRow[] = [];
  const errors = [...parsed.errors];
  for (const row of parsed.rows) {
    const year = academicYearOf(row.date);
    const spans = episodesOverlapping(care.get(row.upn) ?? [], academicYearStart(year), academicYearEnd(year));
    if (spans.length > 0) rows.push(row);
    else {
      errors.push({
        line: (row as { line?: number }).line ?? 0,
        field: 'upn',
        code: 'not_in_virtual_school',
        message:
          "pupil is not looked after, previously looked after, in need or on a protection plan in the LA's lists for this year, so the Virtual School cannot send their marks",
      });
    }
  }
  return { rows, errors };
}

/** A return's own outcome, once its rows are applied and the figures derived. */
async function recordOutcome(
  deps: ApplyReturnDeps,
  record: ReturnRecord,
  accepted: number,
  errors: ReturnError[],
  rowCount: number,
  dates?: { from: string; to: string },
): Promise<ProcessOutcome> {
  errors.sort((a, b) => a.line - b.line || (a.field < b.field ? -1 : 1));
  const rejectedLines = new Set(errors.map((e) => e.line)).size;
  const counts = { rows: rowCount, accepted, rejected: rejectedLines };
  if (errors.length > LIMITS.maxInlineRowErrors) {
    await deps.files.putRowErrors(record.returnId, errors);
  }
  const status =
    accepted === 0 && errors.length > 0 ? 'rejected' : errors.length > 0 ? 'accepted_with_errors' : 'accepted';
  await deps.returns.setStatus(record.returnId, status, {
    processedAt: new Date().toISOString(),
    ...(record.deadLettered ? { deadLettered: false } : {}),
    counts,
    errors: errors.slice(0, LIMITS.maxInlineRowErrors),
    errorsTruncated: errors.length > LIMITS.maxInlineRowErrors,
    dates,
    ...(status === 'rejected'
      ? { rejection: { title: 'Every row was rejected', detail: `${errors.length} row errors; see errors` } }
      : {}),
  });
  return { returnId: record.returnId, status };
}

async function reject(
  deps: ApplyReturnDeps,
  record: ReturnRecord,
  bucket: string,
  key: string,
  error: { status: number; code: string; title: string; detail: string; errors?: ReturnError[] },
): Promise<ProcessOutcome> {
  const raw = await deps.files.read(bucket, key);
  const ext = key.slice(key.lastIndexOf('.') + 1);
  await deps.files.quarantine(record.urn, record.returnId, ext, raw, { returnId: record.returnId, error });
  await deps.returns.setStatus(record.returnId, 'rejected', {
    processedAt: new Date().toISOString(),
    rejection: { title: error.title, detail: error.detail },
    errors: (error.errors ?? []).slice(0, LIMITS.maxInlineRowErrors),
    counts: { rows: 0, accepted: 0, rejected: 0 },
  });
  return { returnId: record.returnId, status: 'rejected' };
}

/** Re-derive a school-year's figures (a social-care import changed some of its pupils' episodes). */
export async function refreshSchool(
  deps: ApplyReturnDeps,
  urn: string,
  academicYear: number,
  upns: string[] | 'all',
): Promise<DeriveResult> {
  return deriveFromRegister(deps, await deps.registers.load(urn, academicYear), upns);
}
