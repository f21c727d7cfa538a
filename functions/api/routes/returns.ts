/**
 * Returns: schools' daily registers (CSV) and CTF files in; status, counts and row errors out.
 * File-level problems are answered at once (4xx) with the file kept in quarantine; accepted files go
 * to the returns bucket, whose object-created event starts the same ingest path as a presigned upload.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { LIMITS, runtimeConfig } from '../../../shared/config.js';
import { isVirtualSchool, mayListReturnsOf, mayReadReturn, mayUploadFor, schoolScope, uploaderOf, type Principal } from '../../../shared/domain/access.js';
import { todayInEngland } from '../../../shared/domain/dates.js';
import { headBlob, putBlob, putJson } from '../../../shared/store/blobs.js';
import { s3Client } from '../../../shared/store/clients.js';
import { paths } from '../../../shared/store/keys.js';
import { createReturn, getReturn, listReturns, setReturnStatus, type ReturnRecord } from '../../../shared/store/returns.js';
import { getSchool } from '../../../shared/store/schools.js';
import { METRIC, recordMetric } from '../../../shared/observability.js';
import { parseReturn } from '../../ingest/parse-return.js';
import { Urn, page, Problem as ProblemSchema } from '../../../shared/schemas/common.js';
import { redirectToObject } from '../large-responses.js';
import { defineRoute, header, json, jsonBody, pageQuery, problem, Problem, rawBody, type RouteContext } from '../http.js';

export function newId(prefix: string): string {
  return `${prefix}${Date.now().toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}

const ReturnId = z.string().regex(/^[A-Za-z0-9_-]{6,64}$/);

const ReturnStatusSchema = z
  .object({
    returnId: z.string(),
    urn: z.string(),
    status: z.enum(['awaiting_upload', 'received', 'processing', 'accepted', 'accepted_with_errors', 'rejected']),
    format: z.enum(['csv', 'ctf']),
    receivedAt: z.string(),
    processedAt: z.string().optional(),
    counts: z.object({ rows: z.number().int(), accepted: z.number().int(), rejected: z.number().int() }).optional(),
    errors: z.array(z.object({ line: z.number().int(), field: z.string(), code: z.string(), message: z.string() })).optional(),
    errorsTruncated: z.boolean().optional(),
    rejection: z.object({ title: z.string(), detail: z.string() }).optional(),
  })
  .meta({ id: 'ReturnStatus' });

function formatOf(contentType: string | undefined): 'csv' | 'ctf' | undefined {
  const t = (contentType ?? '').toLowerCase();
  if (/^text\/csv\b/.test(t) || /^application\/csv\b/.test(t)) return 'csv';
  if (/^(application|text)\/xml\b/.test(t)) return 'ctf';
  return undefined;
}

const EXT = { csv: 'csv', ctf: 'xml' } as const;

async function uploadScope(principal: Principal) {
  return async (urn: string) => {
    const school = await getSchool(urn);
    return mayUploadFor(principal, school ?? { urn });
  };
}

/** Keep a file rejected at the door, with its report, and answer with the problem and the return id. */
async function quarantineAtDoor({ principal, audit }: Pick<RouteContext, 'principal' | 'audit'>, body: Buffer, format: 'csv' | 'ctf', urn: string, p: { status: number; code: string; title: string; detail: string; errors?: Array<{ line: number; field: string; code: string; message: string }> }): Promise<never> {
  const config = runtimeConfig();
  const returnId = newId('r');
  const receivedAt = new Date().toISOString();
  await putBlob(config.quarantineBucket, paths.quarantined(urn, returnId, EXT[format]), body, format === 'csv' ? 'text/csv' : 'application/xml');
  await putJson(config.quarantineBucket, paths.quarantineReport(urn, returnId), { returnId, error: p });
  await createReturn({
    returnId, urn, status: 'rejected', format, bytes: body.length, receivedAt, processedAt: receivedAt,
    uploadedBy: uploaderOf(principal),
    objectKey: paths.quarantined(urn, returnId, EXT[format]),
    rejection: { title: p.title, detail: p.detail },
    errors: (p.errors ?? []).slice(0, LIMITS.maxInlineRowErrors),
    counts: { rows: 0, accepted: 0, rejected: 0 },
  });
  audit.record({ target: `return:${returnId}`, outcome: `rejected:${p.status}` });
  recordMetric(METRIC.returnsRejected, 1);
  throw new Problem(p.status, p.title, p.detail, p.errors?.slice(0, 100), { returnId, code: p.code });
}

async function postReturn(ctx: RouteContext): Promise<ReturnType<typeof json>> {
  const { audit, event, principal } = ctx;
  const format = formatOf(header(event, 'content-type'));
  if (!format) throw problem(415, 'Send a daily return as text/csv or a Common Transfer File as application/xml.');
  const body = rawBody(event);
  if (body.length > LIMITS.maxDirectUploadBytes) {
    // Kept like any refused file (nothing received is discarded), so the school can see it arrived.
    return quarantineAtDoor(ctx, body, format, principal.urn ?? 'unknown', {
      status: 413, code: 'too_large', title: 'Payload too large',
      detail: `This file is ${body.length} bytes; files over ${LIMITS.maxDirectUploadBytes} bytes go through POST /v1/returns/uploads (a presigned upload).`,
    });
  }
  const allowed = await uploadScope(principal);
  // The parser's URN check is synchronous; collect the file's URNs, then check the one school it may hold.
  const urns = new Set<string>();
  const parsed = parseReturn(format, body, { today: todayInEngland(), urnAllowed: (urn) => (urns.add(urn), true) });
  const fallbackUrn = principal.urn ?? 'unknown';
  if (!parsed.ok) return quarantineAtDoor(ctx, body, format, fallbackUrn, parsed.error);
  if (urns.size > 1) {
    return quarantineAtDoor(ctx, body, format, fallbackUrn, {
      status: 422, code: 'several_schools', title: 'One school per return',
      detail: `A return holds one school's register; this file has rows for ${urns.size} URNs (${[...urns].slice(0, 5).join(', ')}). Send one file per school.`,
    });
  }
  const urn = [...urns][0] ?? parsed.rows[0]?.urn;
  if (!urn) {
    return quarantineAtDoor(ctx, body, format, fallbackUrn, { status: 422, code: 'no_rows', title: 'No usable rows', detail: 'No row of this file has a valid URN.', errors: parsed.errors });
  }
  if (!(await allowed(urn))) {
    // Kept and listed under the uploader, never under the school it names (issue 15): that school
    // would otherwise see, in its own list, a file it never sent.
    return quarantineAtDoor(ctx, body, format, fallbackUrn, {
      status: 403, code: 'urn_not_permitted', title: 'Forbidden',
      detail: isVirtualSchool(principal)
        ? `The Virtual School may send returns only for schools outside the LA; ${urn} is not registered as out of area.`
        : `This token may not send returns for URN ${urn}.`,
    });
  }
  const config = runtimeConfig();
  const returnId = newId('r');
  const key = paths.rawReturn(urn, returnId, EXT[format]);
  const record: ReturnRecord = {
    returnId, urn, status: 'received', format, bytes: body.length, receivedAt: new Date().toISOString(),
    uploadedBy: uploaderOf(principal), objectKey: key,
  };
  await createReturn(record);
  try {
    await putBlob(config.returnsBucket, key, body, format === 'csv' ? 'text/csv' : 'application/xml', { 'return-id': returnId });
  } catch (err) {
    await setReturnStatus(returnId, 'rejected', { rejection: { title: 'Not stored', detail: 'The file could not be stored; send it again.' } });
    throw err;
  }
  audit.record({ target: `return:${returnId}`, outcome: 'received', urn });
  return json(202, { returnId, status: 'received', urn, statusUrl: `/v1/returns/${returnId}` }, { location: `/v1/returns/${returnId}` });
}

/** A return is visible to whoever may upload for its school, and to whoever sent it. */
async function visibleReturn(principal: Principal, returnId: string): Promise<ReturnRecord> {
  const record = await getReturn(returnId);
  if (!record) throw problem(404, 'No such return.');
  if (!mayReadReturn(principal, record)) throw problem(404, 'No such return.');
  return record;
}

export const returnRoutes = [
  defineRoute({
    method: 'POST', path: '/v1/returns', access: 'upload_return', audit: { action: 'upload_return' }, tags: ['returns'],
    summary: 'Send a daily return (text/csv) or a Common Transfer File (application/xml)',
    body: { mediaTypes: ['text/csv', 'application/xml'], description: 'the file, as exported' },
    response: z.object({ returnId: z.string(), status: z.literal('received'), urn: z.string(), statusUrl: z.string() }),
    handler: postReturn,
  }),
  defineRoute({
    method: 'POST', path: '/v1/returns/uploads', access: 'upload_return', audit: { action: 'presign_return' }, tags: ['returns'],
    summary: 'Get a presigned S3 PUT for a large file (up to 200 MB); it is processed like any return',
    body: z.object({ urn: Urn, format: z.enum(['csv', 'ctf']).default('csv'), bytes: z.number().int().min(1).max(LIMITS.maxPresignedUploadBytes) }),
    response: z.object({ returnId: z.string(), uploadUrl: z.string(), method: z.literal('PUT'), headers: z.record(z.string(), z.string()), expiresAt: z.string() }),
    handler: async ({ audit, event, principal }) => {
      const body = jsonBody(event, z.object({ urn: Urn, format: z.enum(['csv', 'ctf']).default('csv'), bytes: z.number().int().min(1).max(LIMITS.maxPresignedUploadBytes) }));
      if (!(await (await uploadScope(principal))(body.urn))) {
        audit.record({ target: `school:${body.urn}`, outcome: 'rejected:403', urn: body.urn });
        throw problem(403, `This token may not send returns for URN ${body.urn}.`);
      }
      const config = runtimeConfig();
      const returnId = newId('r');
      const key = paths.rawReturn(body.urn, returnId, EXT[body.format]);
      const contentType = body.format === 'csv' ? 'text/csv' : 'application/xml';
      const expiresIn = 900;
      const uploadUrl = await getSignedUrl(
        s3Client(),
        new PutObjectCommand({ Bucket: config.returnsBucket, Key: key, ContentType: contentType, ContentLength: body.bytes }),
        { expiresIn },
      );
      await createReturn({
        returnId, urn: body.urn, status: 'awaiting_upload', format: body.format, bytes: body.bytes, receivedAt: new Date().toISOString(),
        uploadedBy: uploaderOf(principal), objectKey: key,
      });
      audit.record({ target: `return:${returnId}`, outcome: 'awaiting_upload', urn: body.urn });
      return json(201, { returnId, uploadUrl, method: 'PUT', headers: { 'content-type': contentType }, expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString() });
    },
  }),
  defineRoute({
    method: 'GET', path: '/v1/returns/{returnId}', access: 'read_return', audit: { action: 'read_return' }, tags: ['returns'],
    summary: 'A return\'s status, counts and row errors (line, field, code, message)',
    response: ReturnStatusSchema,
    handler: async ({ audit, principal, params }) => {
      // Row errors name pupils (a CTF's totals errors give the UPN), so reading a status is audited.
      const r = await (ReturnId.safeParse(params.returnId).success ? visibleReturn(principal, params.returnId) : Promise.reject(problem(404, 'No such return.'))).catch(async (err: unknown) => {
        if (err instanceof Problem) audit.record({ target: `return:${String(params.returnId).slice(0, 64)}`, outcome: 'not_found' });
        throw err;
      });
      audit.record({ target: `return:${r.returnId}`, outcome: 'ok', urn: r.urn });
      return json(200, {
        returnId: r.returnId, urn: r.urn, status: r.status, format: r.format, receivedAt: r.receivedAt, processedAt: r.processedAt,
        counts: r.counts, errors: r.errors ?? [], errorsTruncated: r.errorsTruncated ?? false, rejection: r.rejection, dates: r.dates,
      });
    },
  }),
  defineRoute({
    method: 'GET', path: '/v1/returns/{returnId}/file', access: 'read_return', audit: { action: 'read_return_file' }, tags: ['returns'],
    summary: 'The file exactly as it was received (kept whatever its fate, rejected files included): 303 to a presigned S3 GET valid for 5 minutes',
    successStatus: 303,
    handler: async ({ audit, principal, params }) => {
      if (!ReturnId.safeParse(params.returnId).success) throw problem(404, 'No such return.');
      const r = await visibleReturn(principal, params.returnId);
      const config = runtimeConfig();
      const bucket = r.objectKey.startsWith('quarantine/') ? config.quarantineBucket : config.returnsBucket;
      // Files run to 200 MB, over Lambda's 6 MB response: the client fetches it from S3 itself.
      if (!(await headBlob(bucket, r.objectKey))) throw problem(404, r.status === 'awaiting_upload' ? 'The file has not been uploaded yet.' : 'No such file.');
      audit.record({ target: `return:${r.returnId}`, outcome: 'ok', urn: r.urn });
      return redirectToObject(bucket, r.objectKey, `${r.returnId}.${EXT[r.format]}`, r.format === 'csv' ? 'text/csv' : 'application/xml');
    },
  }),
  defineRoute({
    method: 'GET', path: '/v1/returns', access: 'read_return', audit: { none: "a school's returns by id, status and date: nothing about pupils" }, tags: ['returns'],
    summary: 'A school\'s returns, newest first',
    query: z.object({ urn: Urn.optional(), ...pageQuery }),
    response: page(z.object({ returnId: z.string(), urn: z.string(), status: z.string(), receivedAt: z.string() }), 'ReturnList'),
    handler: async ({ principal, query }) => {
      const scope = schoolScope(principal, query.urn);
      const urn = scope.ok ? scope.urn : query.urn;
      if (!urn) throw problem(400, 'Say which school: ?urn=', [{ field: 'urn', message: 'required' }]);
      if (!scope.ok) throw problem(404, 'No such school.');
      // The Virtual School sends returns only for schools outside the LA; other schools' returns are not its business.
      if (!mayListReturnsOf(principal, isVirtualSchool(principal) ? await getSchool(urn) : undefined)) throw problem(404, 'No such school.');
      const result = await listReturns(urn, query.limit ?? 50, query.cursor).catch((err: unknown) => {
        if ((err as Error).name === 'InvalidCursorError') throw problem(400, 'The cursor is not one this service issued.');
        throw err;
      });
      return json(200, result);
    },
  }),
];

export { ProblemSchema };
