/**
 * Process one received return: parse and validate it, apply its good rows to the school's register,
 * re-derive the figures, and record the outcome. Safe to run any number of times for the same
 * return: a return already finished is skipped, and a half-finished one (a crash) is completed
 * without applying anything twice.
 */
import { LIMITS, runtimeConfig } from '../../shared/config.js';
import { isVirtualSchool, mayJoinHeldPupil, mayUploadFor, uploadJoinsNeedIdentityCheck, type Principal } from '../../shared/domain/access.js';
import { identityOfRows, type PupilIdentity } from '../../shared/domain/pupil-identity.js';
import { fileIdentityReview, getIdentityReview } from '../../shared/store/identity-reviews.js';
import { getSummaries } from '../../shared/store/pupils.js';
import { headsOf } from './pupil-summaries.js';
import { academicYearOf, academicYearEnd, academicYearStart, todayInEngland } from '../../shared/domain/dates.js';
import { applyRows, type RegisterRow } from '../../shared/domain/register.js';
import { episodesOverlapping } from '../../shared/domain/cohorts.js';
import { getBlob, headBlob, putBlob, putJson } from '../../shared/store/blobs.js';
import { loadCareIndex } from '../../shared/store/care.js';
import { paths } from '../../shared/store/keys.js';
import { loadRegister, saveRegister } from '../../shared/store/registers.js';
import { getReturn, setReturnStatus, unfinishedBefore, type ReturnError, type ReturnRecord } from '../../shared/store/returns.js';
import { logger } from '../../shared/observability.js';
import { getSchool } from '../../shared/store/schools.js';
import { deriveFromRegister } from './derive.js';
import { recordDuties } from './duties.js';
import { parseReturn, type ParsedReturn } from '../../shared/formats/returns.js';

const FINAL = new Set(['accepted', 'accepted_with_errors', 'rejected']);

export interface ProcessOutcome {
  returnId: string;
  status: string;
  skipped?: boolean;
}

export async function processReturn(returnId: string, bucket: string, key: string, options: { predecessors?: boolean } = {}): Promise<ProcessOutcome> {
  const config = runtimeConfig();
  const record = await getReturn(returnId);
  if (!record) {
    // An object in returns/ that did not come through the API: keep it, and say why it was not used.
    return { returnId, status: 'ignored', skipped: true };
  }
  // A return rejected only because processing kept failing is retried when its message is redriven.
  if (FINAL.has(record.status) && !record.deadLettered) return { returnId, status: record.status, skipped: true };
  if (options.predecessors !== false) await finishEarlierReturns(record, bucket);
  await setReturnStatus(returnId, 'processing');

  const head = await headBlob(bucket, key);
  if (!head) throw new Error('received object is not readable yet');
  if ((head.size ?? 0) > LIMITS.maxPresignedUploadBytes) {
    return reject(record, bucket, key, {
      status: 413, code: 'too_large', title: 'Return too large',
      detail: `The file is ${head.size} bytes; the limit is ${LIMITS.maxPresignedUploadBytes} bytes. Split it by date range.`,
    });
  }
  const blob = await getBlob(bucket, key);
  if (!blob) throw new Error('received object disappeared');

  const principal: Principal = { sub: record.uploadedBy.sub, role: record.uploadedBy.role as Principal['role'], la: config.laCode, urn: record.uploadedBy.urn };
  const school = await getSchool(record.urn);
  const parsed = parseReturn(record.format, blob.body, {
    today: todayInEngland(),
    urnAllowed: (urn) => urn === record.urn && mayUploadFor(principal, school ?? { urn }),
  });
  if (!parsed.ok) return reject(record, bucket, key, parsed.error);

  const { rows, errors } = await holdUnverifiedJoins(principal, record, await restrictToScope(principal, parsed));
  return applyAndDerive(record, rows, errors, parsed.rowCount);
}

/**
 * A school's rows for a pupil another school holds, and this school never did, are applied only
 * when they agree with the record (date of birth, and surname or forename). Otherwise every row of
 * that pupil is a row error `identity_mismatch` and the rows wait on the LA's review list: applied,
 * they would give the school the child's record and let its marks raise the child's flags (issue 15).
 */
async function holdUnverifiedJoins(principal: Principal, record: ReturnRecord, scoped: { rows: RegisterRow[]; errors: ReturnError[] }): Promise<{ rows: RegisterRow[]; errors: ReturnError[] }> {
  if (!uploadJoinsNeedIdentityCheck(principal) || scoped.rows.length === 0) return scoped;
  const byUpn = new Map<string, RegisterRow[]>();
  for (const row of scoped.rows) {
    const list = byUpn.get(row.upn);
    if (list) list.push(row);
    else byUpn.set(row.upn, [row]);
  }
  // This process's copies of the heads first (a daily return names pupils the school already has,
  // which a copy shows for good); a head that lists only other schools is checked on a fresh read.
  const heads = await headsOf([...byUpn.keys()]);
  const joining = [...heads.values()]
    .filter((h) => h.enrolmentKeys.length > 0 && !h.enrolmentKeys.some((key) => key.slice(key.indexOf('#') + 1) === record.urn))
    .map((h) => h.upn);
  if (joining.length === 0) return scoped;
  const records = await getSummaries(joining);
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
        line, field: 'upn', code: 'identity_mismatch',
        message: 'another school holds a pupil with this UPN, and this row\'s date of birth and names do not agree with that record; the rows are with the LA to review',
      });
    }
    const dates = rows.map((r) => r.date).sort();
    await fileIdentityReview({ returnId: record.returnId, urn: record.urn, upn, lines, dates: { from: dates[0], to: dates[dates.length - 1] }, sent, held }, rows);
  }
  return { rows: scoped.rows.filter((r) => !refused.has(r.upn)), errors };
}

function distinctIdentities(list: ReadonlyArray<PupilIdentity>): PupilIdentity[] {
  const out = new Map<string, PupilIdentity>();
  for (const e of list) {
    const id: PupilIdentity = { ...(e.forename ? { forename: e.forename } : {}), ...(e.surname ? { surname: e.surname } : {}), ...(e.dob ? { dob: e.dob } : {}) };
    out.set(JSON.stringify(id), id);
  }
  return [...out.values()];
}

/**
 * Apply the rows of a review an LA officer accepted, in the school's queue (so after the returns it
 * received before): as a return of its own (id `review:<reviewId>`), so a repeat applies nothing twice.
 */
export async function applyAcceptedReview(reviewId: string): Promise<string> {
  const found = await getIdentityReview(reviewId);
  if (!found || found.review.status !== 'accepted') return 'not_accepted';
  const byYear = new Map<number, RegisterRow[]>();
  for (const row of found.rows) {
    const year = academicYearOf(row.date);
    const list = byYear.get(year);
    if (list) list.push(row);
    else byYear.set(year, [row]);
  }
  for (const [year, yearRows] of [...byYear.entries()].sort((a, b) => a[0] - b[0])) {
    const register = await loadRegister(found.review.urn, year);
    const result = applyRows(register, yearRows, `review:${reviewId}`);
    if (!result.alreadyApplied) await saveRegister(register);
    await deriveFromRegister(register, new Set(yearRows.map((r) => r.upn)));
  }
  return 'applied';
}

/**
 * A later return replaces an earlier one's marks (docs/design.md §3 "Corrections"), so returns must apply in
 * the order the service received them. S3 notifications may arrive out of order, so before applying
 * a return, any of the school's earlier returns still unfinished are applied first. One that fails
 * is left to its own message (its retries, then the dead-letter path) rather than blocking this one.
 */
async function finishEarlierReturns(record: ReturnRecord, bucket: string): Promise<void> {
  for (const earlier of await unfinishedBefore(record)) {
    try {
      await processReturn(earlier.returnId, bucket, earlier.objectKey, { predecessors: false });
    } catch (err) {
      logger.warn('an earlier return could not be applied first; it will be retried on its own', { returnId: earlier.returnId, urn: earlier.urn, error: err instanceof Error ? err.name : 'Error' });
    }
  }
}

/** The Virtual School may send rows only for children in its cohorts; other rows are row errors. */
async function restrictToScope(principal: Principal, parsed: Extract<ParsedReturn, { ok: true }>): Promise<{ rows: RegisterRow[]; errors: ReturnError[] }> {
  if (!isVirtualSchool(principal)) return { rows: parsed.rows, errors: parsed.errors };
  const care = await loadCareIndex();
  const rows: RegisterRow[] = [];
  const errors = [...parsed.errors];
  for (const row of parsed.rows) {
    const year = academicYearOf(row.date);
    const spans = episodesOverlapping(care.get(row.upn) ?? [], academicYearStart(year), academicYearEnd(year));
    if (spans.length > 0) rows.push(row);
    else {
      errors.push({
        line: (row as { line?: number }).line ?? 0, field: 'upn', code: 'not_in_virtual_school',
        message: 'pupil is not looked after, previously looked after, in need or on a protection plan in the LA\'s lists for this year, so the Virtual School cannot send their marks',
      });
    }
  }
  return { rows, errors };
}

async function applyAndDerive(record: ReturnRecord, rows: RegisterRow[], errors: ReturnError[], rowCount: number): Promise<ProcessOutcome> {
  const byYear = new Map<number, RegisterRow[]>();
  let from: string | undefined;
  let to: string | undefined;
  for (const row of rows) {
    const year = academicYearOf(row.date);
    let list = byYear.get(year);
    if (!list) byYear.set(year, (list = []));
    list.push(row);
    if (!from || row.date < from) from = row.date;
    if (!to || row.date > to) to = row.date;
  }
  for (const [year, yearRows] of [...byYear.entries()].sort((a, b) => a[0] - b[0])) {
    const register = await loadRegister(record.urn, year);
    const result = applyRows(register, yearRows, record.returnId);
    if (!result.alreadyApplied) await saveRegister(register);
    await deriveFromRegister(register, new Set(yearRows.map((r) => r.upn)), record.receivedAt);
    await recordDuties(register, yearRows, record.receivedAt);
  }

  errors.sort((a, b) => a.line - b.line || (a.field < b.field ? -1 : 1));
  const rejectedLines = new Set(errors.map((e) => e.line)).size;
  const counts = { rows: rowCount, accepted: rows.length, rejected: rejectedLines };
  if (errors.length > LIMITS.maxInlineRowErrors) {
    await putJson(process.env.REGISTERS_BUCKET as string, paths.returnReport(record.returnId), { returnId: record.returnId, errors });
  }
  const status = rows.length === 0 && errors.length > 0 ? 'rejected' : errors.length > 0 ? 'accepted_with_errors' : 'accepted';
  await setReturnStatus(record.returnId, status, {
    processedAt: new Date().toISOString(),
    ...(record.deadLettered ? { deadLettered: false } : {}),
    counts,
    errors: errors.slice(0, LIMITS.maxInlineRowErrors),
    errorsTruncated: errors.length > LIMITS.maxInlineRowErrors,
    dates: from && to ? { from, to } : undefined,
    ...(status === 'rejected' ? { rejection: { title: 'Every row was rejected', detail: `${errors.length} row errors; see errors` } } : {}),
  });
  return { returnId: record.returnId, status };
}

async function reject(
  record: ReturnRecord,
  bucket: string,
  key: string,
  error: { status: number; code: string; title: string; detail: string; errors?: ReturnError[] },
): Promise<ProcessOutcome> {
  const config = runtimeConfig();
  const raw = await getBlob(bucket, key);
  const ext = key.slice(key.lastIndexOf('.') + 1);
  if (raw) await putBlob(config.quarantineBucket, paths.quarantined(record.urn, record.returnId, ext), raw.body, raw.contentType ?? 'application/octet-stream');
  await putJson(config.quarantineBucket, paths.quarantineReport(record.urn, record.returnId), { returnId: record.returnId, error });
  await setReturnStatus(record.returnId, 'rejected', {
    processedAt: new Date().toISOString(),
    rejection: { title: error.title, detail: error.detail },
    errors: (error.errors ?? []).slice(0, LIMITS.maxInlineRowErrors),
    counts: { rows: 0, accepted: 0, rejected: 0 },
  });
  return { returnId: record.returnId, status: 'rejected' };
}
