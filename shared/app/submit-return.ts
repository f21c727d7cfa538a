/**
 * Submit a return (docs/design.md §4 POST /v1/returns, POST /v1/returns/uploads): a school's daily
 * register (CSV) or Common Transfer File checked at the door. A file refused at the door is kept in
 * quarantine with its report and listed under its uploader (nothing received is discarded); an
 * accepted file is stored where its arrival starts the ingest, the same path a presigned upload takes.
 */
import { LIMITS } from '../config.js';
import { isVirtualSchool, mayUploadFor, uploaderOf, type Principal } from '../domain/access.js';
import { todayInEngland } from '../domain/dates.js';
import type { FileError } from '../formats/csv.js';
import { parseReturn, type ReturnFormat } from '../formats/returns.js';
import { METRIC, recordMetric } from '../observability.js';
import { paths } from '../store/keys.js';
import type { ReturnRecord } from '../store/returns.js';
import type { AuditTrail } from './audit.js';
import { newId } from './ids.js';
import { done, refuse, refuseFile, type Outcome } from './outcome.js';
import type { Files, Returns, Schools } from './ports.js';

export type { ReturnFormat };

export interface ReturnDeps {
  returns: Returns;
  files: Files;
  schools: Schools;
}

export interface Caller {
  principal: Principal;
  audit: AuditTrail;
}

const EXT = { csv: 'csv', ctf: 'xml' } as const;
const CONTENT_TYPE = { csv: 'text/csv', ctf: 'application/xml' } as const;

/** The file's name in storage, by its format. */
export function returnFileName(r: Pick<ReturnRecord, 'returnId' | 'format'>): {
  filename: string;
  contentType: string;
} {
  return { filename: `${r.returnId}.${EXT[r.format]}`, contentType: CONTENT_TYPE[r.format] };
}

/** The format a media type names (CSV or CTF XML), or undefined. */
export function returnFormatOf(contentType: string | undefined): ReturnFormat | undefined {
  const t = (contentType ?? '').toLowerCase();
  if (/^text\/csv\b/.test(t) || /^application\/csv\b/.test(t)) return 'csv';
  if (/^(application|text)\/xml\b/.test(t)) return 'ctf';
  return undefined;
}

async function mayUpload(deps: ReturnDeps, principal: Principal, urn: string): Promise<boolean> {
  return mayUploadFor(principal, (await deps.schools.get(urn)) ?? { urn });
}

/** A file refused at the door, as the parser and the checks here describe it (its report keeps the HTTP status). */
type DoorRefusal = FileError;

/** Keep a file refused at the door, with its report, and refuse with the return id it was kept under. */
async function quarantine(
  deps: ReturnDeps,
  { principal, audit }: Caller,
  body: Buffer,
  format: ReturnFormat,
  urn: string,
  p: DoorRefusal,
) {
  const returnId = newId('r');
  const receivedAt = new Date().toISOString();
  const objectKey = paths.quarantined(urn, returnId, EXT[format]);
  await deps.files.put('quarantine', objectKey, body, CONTENT_TYPE[format]);
  await deps.files.putJson('quarantine', paths.quarantineReport(urn, returnId), { returnId, error: p });
  await deps.returns.create({
    returnId,
    urn,
    status: 'rejected',
    format,
    bytes: body.length,
    receivedAt,
    processedAt: receivedAt,
    uploadedBy: uploaderOf(principal),
    objectKey,
    rejection: { title: p.title, detail: p.detail },
    errors: (p.errors ?? []).slice(0, LIMITS.maxInlineRowErrors),
    counts: { rows: 0, accepted: 0, rejected: 0 },
  });
  audit.record({ target: `return:${returnId}`, outcome: `rejected:${p.status}` });
  recordMetric(METRIC.returnsRejected, 1);
  return refuseFile(p, { returnId });
}

export interface SubmittedReturn {
  returnId: string;
  urn: string;
  status: 'received';
}

/** Check a file sent through the API, keep it, and hand it to the ingest. */
export async function submitReturn(
  deps: ReturnDeps,
  caller: Caller,
  input: { format: ReturnFormat; body: Buffer },
): Promise<Outcome<SubmittedReturn>> {
  const { principal, audit } = caller;
  const { format, body } = input;
  const fallbackUrn = principal.urn ?? 'unknown';
  if (body.length > LIMITS.maxDirectUploadBytes) {
    // Kept like any refused file, so the school can see it arrived.
    return quarantine(deps, caller, body, format, fallbackUrn, {
      status: 413,
      code: 'too_large',
      title: 'Payload too large',
      detail: `This file is ${body.length} bytes; files over ${LIMITS.maxDirectUploadBytes} bytes go through POST /v1/returns/uploads (a presigned upload).`,
    });
  }
  // The parser's URN check is synchronous; collect the file's URNs, then check the one school it may hold.
  const urns = new Set<string>();
  const parsed = parseReturn(format, body, { today: todayInEngland(), urnAllowed: (urn) => (urns.add(urn), true) });
  if (!parsed.ok) return quarantine(deps, caller, body, format, fallbackUrn, parsed.error);
  if (urns.size > 1) {
    return quarantine(deps, caller, body, format, fallbackUrn, {
      status: 422,
      code: 'several_schools',
      title: 'One school per return',
      detail: `A return holds one school's register; this file has rows for ${urns.size} URNs (${[...urns].slice(0, 5).join(', ')}). Send one file per school.`,
    });
  }
  const urn = [...urns][0] ?? parsed.rows[0]?.urn;
  if (!urn)
    return quarantine(deps, caller, body, format, fallbackUrn, {
      status: 422,
      code: 'no_rows',
      title: 'No usable rows',
      detail: 'No row of this file has a valid URN.',
      errors: parsed.errors,
    });
  if (!(await mayUpload(deps, principal, urn))) {
    // Kept and listed under the uploader, never under the school it names (issue 15): that school
    // would otherwise see, in its own list, a file it never sent.
    return quarantine(deps, caller, body, format, fallbackUrn, {
      status: 403,
      code: 'urn_not_permitted',
      title: 'Forbidden',
      detail: isVirtualSchool(principal)
        ? `The Virtual School may send returns only for schools outside the LA; ${urn} is not registered as out of area.`
        : `This token may not send returns for URN ${urn}.`,
    });
  }
  const returnId = newId('r');
  const objectKey = paths.rawReturn(urn, returnId, EXT[format]);
  await deps.returns.create({
    returnId,
    urn,
    status: 'received',
    format,
    bytes: body.length,
    receivedAt: new Date().toISOString(),
    uploadedBy: uploaderOf(principal),
    objectKey,
  });
  try {
    await deps.files.put('returns', objectKey, body, CONTENT_TYPE[format], { 'return-id': returnId });
  } catch (err) {
    await deps.returns.setStatus(returnId, 'rejected', {
      rejection: { title: 'Not stored', detail: 'The file could not be stored; send it again.' },
    });
    throw err;
  }
  audit.record({ target: `return:${returnId}`, outcome: 'received', urn });
  return done({ returnId, urn, status: 'received' });
}

export interface ReturnUpload {
  returnId: string;
  uploadUrl: string;
  contentType: string;
  expiresAt: string;
}

const UPLOAD_EXPIRES_SECONDS = 900;

/** A presigned upload for a file too large for the API (up to 200 MB); the ingest checks it on arrival. */
export async function presignReturnUpload(
  deps: ReturnDeps,
  { principal, audit }: Caller,
  input: { urn: string; format: ReturnFormat; bytes: number },
): Promise<Outcome<ReturnUpload>> {
  if (!(await mayUpload(deps, principal, input.urn))) {
    audit.record({ target: `school:${input.urn}`, outcome: 'rejected:403', urn: input.urn });
    return refuse('forbidden', `This token may not send returns for URN ${input.urn}.`);
  }
  const returnId = newId('r');
  const objectKey = paths.rawReturn(input.urn, returnId, EXT[input.format]);
  const contentType = CONTENT_TYPE[input.format];
  const uploadUrl = await deps.files.uploadUrl('returns', objectKey, contentType, input.bytes, UPLOAD_EXPIRES_SECONDS);
  await deps.returns.create({
    returnId,
    urn: input.urn,
    status: 'awaiting_upload',
    format: input.format,
    bytes: input.bytes,
    receivedAt: new Date().toISOString(),
    uploadedBy: uploaderOf(principal),
    objectKey,
  });
  audit.record({ target: `return:${returnId}`, outcome: 'awaiting_upload', urn: input.urn });
  return done({
    returnId,
    uploadUrl,
    contentType,
    expiresAt: new Date(Date.now() + UPLOAD_EXPIRES_SECONDS * 1000).toISOString(),
  });
}
