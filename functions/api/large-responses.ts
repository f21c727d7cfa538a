/**
 * Payloads too large for Lambda, the AWS way. A synchronous Lambda returns at most 6 MB (the whole
 * serialised result, base64 included), and API Gateway cannot stream a larger answer from it. So:
 * - a stored file (GET /v1/returns/{id}/file) is answered with 303 to a short-lived presigned S3 GET;
 * - any other response whose serialised result is over LIMITS.maxResponseBodyBytes (in practice a CSV export of
 *   a whole LA's list) is written to S3 under exports/ (expired after a day by a lifecycle rule) and
 *   answered the same way.
 * Clients that follow redirects (curl -L, fetch, browsers) get the content; the presigned URL carries
 * its own short-lived credential, so the bearer token is not forwarded to S3 (and must not be).
 */
import { randomBytes } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LIMITS, runtimeConfig } from '../../shared/config.js';
import { putBlob } from '../../shared/store/blobs.js';
import { s3Client } from '../../shared/store/clients.js';
import { paths } from '../../shared/store/keys.js';
import type { Result } from './http.js';

/** 303 See Other to a presigned GET of one object, downloaded under `filename` with `contentType`. */
export async function redirectToObject(
  bucket: string,
  key: string,
  filename: string,
  contentType: string,
): Promise<Result> {
  const url = await getSignedUrl(
    s3Client(),
    new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      ResponseContentType: contentType,
      ResponseContentDisposition: `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
    }),
    { expiresIn: LIMITS.presignedGetSeconds },
  );
  return {
    statusCode: 303,
    // The URL is a credential for a few minutes: not to be cached anywhere.
    headers: { location: url, 'cache-control': 'no-store' },
    body: '',
  };
}

/** The result's size as Lambda counts it: the serialised JSON (escapes and base64 included). */
function resultBytes(result: Result): number {
  return Buffer.byteLength(JSON.stringify(result), 'utf8');
}

/**
 * Whether the result surely fits without serialising it again (issue 17: that was about 1 % of the API
 * process's CPU on a PA page): a UTF-16 unit of the body is at most 6 bytes once escaped (`\u001f`),
 * so a body under a sixth of the limit, with its headers, cannot be over it.
 */
function surelyFits(result: Result, limit: number): boolean {
  const body = typeof result.body === 'string' ? result.body.length : 0;
  return 6 * body + JSON.stringify(result.headers ?? {}).length + 256 <= limit;
}

function header(result: Result, name: string): string | undefined {
  for (const [k, v] of Object.entries(result.headers ?? {})) if (k.toLowerCase() === name) return String(v);
  return undefined;
}

/**
 * The response as is when it fits; otherwise the body parked in S3 and a 303 to it. Only successful
 * answers are parked (a problem is small by construction).
 */
export async function fitForLambda(result: Result): Promise<Result> {
  const status = result.statusCode ?? 200;
  const limit = LIMITS.maxResponseBodyBytes;
  if (status < 200 || status >= 300 || surelyFits(result, limit) || resultBytes(result) <= limit) return result;
  const contentType = header(result, 'content-type') ?? 'application/octet-stream';
  const disposition = header(result, 'content-disposition');
  const ext = /csv/i.test(contentType) ? 'csv' : /json/i.test(contentType) ? 'json' : 'bin';
  const filename = /filename="([^"]+)"/.exec(disposition ?? '')?.[1] ?? `export.${ext}`;
  const id = `${Date.now().toString(36)}${randomBytes(12).toString('hex')}`;
  const key = paths.responseExport(id, ext);
  const bucket = runtimeConfig().registersBucket;
  const body = result.isBase64Encoded
    ? Buffer.from(result.body as string, 'base64')
    : Buffer.from(result.body as string, 'utf8');
  await putBlob(bucket, key, body, contentType);
  return redirectToObject(bucket, key, filename, contentType);
}
