/**
 * Returns: schools' daily registers (CSV) and CTF files in; status, counts and row errors out.
 * File-level problems are answered at once (4xx) with the file kept in quarantine; accepted files go
 * to the returns bucket, whose object-created event starts the same ingest path as a presigned upload.
 */
import * as z from 'zod';
import { LIMITS } from '../../../shared/config.js';
import { isVirtualSchool, mayListReturnsOf, schoolScope } from '../../../shared/domain/access.js';
import { readReturn, returnFile } from '../../../shared/app/read-return.js';
import { presignReturnUpload, returnFormatOf, submitReturn } from '../../../shared/app/submit-return.js';
import { bucketOf } from '../../../shared/app/wiring.js';
import { listReturns } from '../../../shared/store/returns.js';
import { getSchool } from '../../../shared/store/schools.js';
import { Urn, page, Problem as ProblemSchema } from '../../../shared/schemas/common.js';
import { app } from '../app.js';
import { redirectToObject } from '../large-responses.js';
import { defineRoute, header, json, jsonBody, pageQuery, problem, rawBody, resultOf } from '../http.js';

const ReturnStatusSchema = z
  .object({
    returnId: z.string(),
    urn: z.string(),
    status: z.enum(['awaiting_upload', 'received', 'processing', 'accepted', 'accepted_with_errors', 'rejected']),
    format: z.enum(['csv', 'ctf']),
    receivedAt: z.string(),
    processedAt: z.string().optional(),
    counts: z.object({ rows: z.number().int(), accepted: z.number().int(), rejected: z.number().int() }).optional(),
    errors: z
      .array(z.object({ line: z.number().int(), field: z.string(), code: z.string(), message: z.string() }))
      .optional(),
    errorsTruncated: z.boolean().optional(),
    rejection: z.object({ title: z.string(), detail: z.string() }).optional(),
  })
  .meta({ id: 'ReturnStatus' });

export const returnRoutes = [
  defineRoute({
    method: 'POST',
    path: '/v1/returns',
    access: 'upload_return',
    audit: { action: 'upload_return' },
    tags: ['returns'],
    summary: 'Send a daily return (text/csv) or a Common Transfer File (application/xml)',
    body: { mediaTypes: ['text/csv', 'application/xml'], description: 'the file, as exported' },
    response: z.object({ returnId: z.string(), status: z.literal('received'), urn: z.string(), statusUrl: z.string() }),
    handler: async ({ audit, event, principal }) => {
      const format = returnFormatOf(header(event, 'content-type'));
      if (!format) throw problem(415, 'Send a daily return as text/csv or a Common Transfer File as application/xml.');
      const { returnId, urn, status } = resultOf(
        await submitReturn(app, { principal, audit }, { format, body: rawBody(event) }),
      );
      return json(
        202,
        { returnId, status, urn, statusUrl: `/v1/returns/${returnId}` },
        { location: `/v1/returns/${returnId}` },
      );
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/returns/uploads',
    access: 'upload_return',
    audit: { action: 'presign_return' },
    tags: ['returns'],
    summary: 'Get a presigned S3 PUT for a large file (up to 200 MB); it is processed like any return',
    body: z.object({
      urn: Urn,
      format: z.enum(['csv', 'ctf']).default('csv'),
      bytes: z.number().int().min(1).max(LIMITS.maxPresignedUploadBytes),
    }),
    response: z.object({
      returnId: z.string(),
      uploadUrl: z.string(),
      method: z.literal('PUT'),
      headers: z.record(z.string(), z.string()),
      expiresAt: z.string(),
    }),
    handler: async ({ audit, event, principal }) => {
      const body = jsonBody(
        event,
        z.object({
          urn: Urn,
          format: z.enum(['csv', 'ctf']).default('csv'),
          bytes: z.number().int().min(1).max(LIMITS.maxPresignedUploadBytes),
        }),
      );
      const upload = resultOf(await presignReturnUpload(app, { principal, audit }, body));
      return json(201, {
        returnId: upload.returnId,
        uploadUrl: upload.uploadUrl,
        method: 'PUT',
        headers: { 'content-type': upload.contentType },
        expiresAt: upload.expiresAt,
      });
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/returns/{returnId}',
    access: 'read_return',
    audit: { action: 'read_return' },
    tags: ['returns'],
    summary: "A return's status, counts and row errors (line, field, code, message)",
    response: ReturnStatusSchema,
    handler: async ({ audit, principal, params }) => {
      const r = resultOf(await readReturn(app, { principal, audit }, String(params.returnId)));
      return json(200, {
        returnId: r.returnId,
        urn: r.urn,
        status: r.status,
        format: r.format,
        receivedAt: r.receivedAt,
        processedAt: r.processedAt,
        counts: r.counts,
        errors: r.errors ?? [],
        errorsTruncated: r.errorsTruncated ?? false,
        rejection: r.rejection,
        dates: r.dates,
      });
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/returns/{returnId}/file',
    access: 'read_return',
    audit: { action: 'read_return_file' },
    tags: ['returns'],
    summary:
      'The file exactly as it was received (kept whatever its fate, rejected files included): 303 to a presigned S3 GET valid for 5 minutes',
    successStatus: 303,
    handler: async ({ audit, principal, params }) => {
      // Files run to 200 MB, over Lambda's 6 MB response: the client fetches it from S3 itself.
      const file = resultOf(await returnFile(app, { principal, audit }, String(params.returnId)));
      return redirectToObject(bucketOf(file.area), file.key, file.filename, file.contentType);
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/returns',
    access: 'read_return',
    audit: { none: "a school's returns by id, status and date: nothing about pupils" },
    tags: ['returns'],
    summary: "A school's returns, newest first",
    query: z.object({ urn: Urn.optional(), ...pageQuery }),
    response: page(
      z.object({ returnId: z.string(), urn: z.string(), status: z.string(), receivedAt: z.string() }),
      'ReturnList',
    ),
    handler: async ({ principal, query }) => {
      const scope = schoolScope(principal, query.urn);
      const urn = scope.ok ? scope.urn : query.urn;
      if (!urn) throw problem(400, 'Say which school: ?urn=', [{ field: 'urn', message: 'required' }]);
      if (!scope.ok) throw problem(404, 'No such school.');
      // The Virtual School sends returns only for schools outside the LA; other schools' returns are not its business.
      if (!mayListReturnsOf(principal, isVirtualSchool(principal) ? await getSchool(urn) : undefined))
        throw problem(404, 'No such school.');
      const result = await listReturns(urn, query.limit ?? 50, query.cursor).catch((err: unknown) => {
        if ((err as Error).name === 'InvalidCursorError')
          throw problem(400, 'The cursor is not one this service issued.');
        throw err;
      });
      return json(200, result);
    },
  }),
];

export { ProblemSchema };
