/**
 * Large LA lists (social-care cohorts, the GIAS registry) by presigned PUT. A request reaches the api
 * function only if its event fits Lambda's 6 MB (a file body is base64-encoded: about 4.4 MB of
 * file), well under the 20 MB such a list may be. So, as for returns:
 *   1. `POST /v1/cohorts/uploads` (or `/v1/schools/uploads`) with `{ contentType, bytes }` gives a
 *      presigned PUT (15 minutes) for exactly that many bytes of that type;
 *   2. the client PUTs the file to S3;
 *   3. `POST /v1/cohorts?upload=<uploadId>` (or `/v1/schools?upload=`) with no body runs the same
 *      import as a direct upload, reading the file from S3, and answers with the same report.
 * The staged object is kept as received (uploads/<uploadId>); the import keeps its own copy too.
 */
import { randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import * as z from 'zod';
import { LIMITS, runtimeConfig } from '../../shared/config.js';
import { getBlob } from '../../shared/store/blobs.js';
import { s3Client } from '../../shared/store/clients.js';
import { paths } from '../../shared/store/keys.js';
import { problem, rawBody, type Event } from './http.js';

const PRESIGNED_PUT_SECONDS = 900;

export type StagedKind = 'cohorts' | 'registry';

/** `c…` / `g…` like the imports they feed, then base36 time and 96 random bits. */
export const UploadId = z
  .string()
  .regex(/^u[cg][0-9a-z]{6,12}[0-9a-f]{24}$/, { message: 'not an upload id this service issued' });

export function stagedUploadRequest(mediaTypes: readonly string[]) {
  return z.object({
    contentType: z
      .string()
      .max(200)
      .refine((t) => mediaTypes.some((m) => t.toLowerCase().startsWith(m)), {
        message: `one of ${mediaTypes.join(', ')}`,
      })
      .describe('the Content-Type the file will be PUT with (multipart/form-data with its boundary for SSDA903)'),
    bytes: z.number().int().min(1).max(LIMITS.maxCohortUploadBytes),
  });
}

export const StagedUploadResponse = z.object({
  uploadId: z.string(),
  uploadUrl: z.string(),
  method: z.literal('PUT'),
  headers: z.record(z.string(), z.string()),
  expiresAt: z.string(),
  importUrl: z.string(),
});

export async function presignStagedUpload(
  kind: StagedKind,
  body: { contentType: string; bytes: number },
  importPath: string,
): Promise<z.infer<typeof StagedUploadResponse>> {
  const uploadId = `u${kind === 'cohorts' ? 'c' : 'g'}${Date.now().toString(36)}${randomBytes(12).toString('hex')}`;
  const headers: Record<string, string> = { 'content-type': body.contentType };
  const uploadUrl = await getSignedUrl(
    s3Client(),
    new PutObjectCommand({
      Bucket: runtimeConfig().registersBucket,
      Key: paths.stagedUpload(uploadId),
      ContentType: body.contentType,
      ContentLength: body.bytes,
    }),
    { expiresIn: PRESIGNED_PUT_SECONDS },
  );
  return {
    uploadId,
    uploadUrl,
    method: 'PUT',
    headers,
    expiresAt: new Date(Date.now() + PRESIGNED_PUT_SECONDS * 1000).toISOString(),
    importUrl: `${importPath}?upload=${uploadId}`,
  };
}

/**
 * The request as if the staged file had been its body: the same headers (Content-Type as signed;
 * a staged file is sent uncompressed, up to LIMITS.maxCohortUploadBytes), the body base64-encoded as API Gateway passes a file. 404 when
 * nothing was uploaded under that id for this kind of import; 400 when the request carries a body as well.
 */
export async function eventWithStagedBody(event: Event, uploadId: string, kind: StagedKind): Promise<Event> {
  if (rawBody(event).length > 0)
    throw problem(400, 'Send either the file as the body or ?upload= naming a presigned upload, not both.', [
      { field: 'upload', message: 'given with a body' },
    ]);
  // An upload is imported only by the route it was presigned for: a GIAS file staged for the registry
  // (manage_registry) is not a cohort list (import_cohorts), nor the other way round; unknown here.
  const staged = uploadId.startsWith(kind === 'cohorts' ? 'uc' : 'ug');
  const blob = staged ? await getBlob(runtimeConfig().registersBucket, paths.stagedUpload(uploadId)) : undefined;
  if (!blob)
    throw problem(404, 'Nothing has been uploaded under that upload id (PUT the file to the uploadUrl first).');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {}))
    if (v !== undefined && !/^content-(type|encoding|length)$/i.test(k)) headers[k] = v;
  headers['content-type'] = blob.contentType ?? 'application/octet-stream';
  return { ...event, headers, body: blob.body.toString('base64'), isBase64Encoded: true };
}
