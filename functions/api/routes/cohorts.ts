/**
 * POST /v1/cohorts: the LA's social-care lists (docs/design.md §6) — SSDA903 header.csv + episodes.csv
 * (together, as multipart/form-data), a CIN census XML, or a cohort CSV; imported by
 * shared/app/import-cohorts.ts, which reports per record.
 */
import * as z from 'zod';
import { defineRoute, header, json, jsonBody, rawBody, resultOf, type RouteContext } from '../http.js';
import {
  eventWithStagedBody,
  presignStagedUpload,
  StagedUploadResponse,
  stagedUploadRequest,
  UploadId,
} from '../staged-uploads.js';
import { COHORT_FORMATS, importCohorts } from '../../../shared/app/import-cohorts.js';
import { app } from '../app.js';

const FORMATS = COHORT_FORMATS;
const COHORT_MEDIA_TYPES = ['multipart/form-data', 'application/xml', 'text/csv'] as const;
type Format = (typeof FORMATS)[number];

const ImportReport = z
  .object({
    importId: z.string(),
    format: z.enum(FORMATS),
    counts: z.object({ records: z.number().int(), accepted: z.number().int(), rejected: z.number().int() }),
    episodes: z.number().int(),
    changedPupils: z.number().int(),
    refreshed: z.number().int(),
    errors: z.array(
      z.object({
        file: z.string().optional(),
        line: z.number().int(),
        field: z.string(),
        code: z.string(),
        message: z.string(),
        record: z.string().optional(),
      }),
    ),
    errorsTruncated: z.boolean(),
  })
  .meta({ id: 'CohortImportReport' });

/** The import: the file sent by presigned PUT (POST /v1/cohorts/uploads) is imported exactly as a direct upload. */
async function postCohorts(direct: RouteContext<{ format?: Format; upload?: string }>) {
  const { audit, principal, query } = direct;
  const event = query.upload ? await eventWithStagedBody(direct.event, query.upload, 'cohorts') : direct.event;
  const received = {
    body: rawBody(event),
    contentType: header(event, 'content-type') ?? '',
    contentEncoding: header(event, 'content-encoding'),
    format: query.format,
  };
  return json(200, resultOf(await importCohorts(app, { principal, audit }, received)));
}

export const cohortRoutes = [
  defineRoute({
    method: 'POST',
    path: '/v1/cohorts',
    access: 'import_cohorts',
    audit: { action: 'import_cohorts' },
    tags: ['cohorts'],
    successStatus: 200,
    summary:
      'Import an LA social-care list (SSDA903 header + episodes as multipart/form-data, CIN census XML, or cohort CSV) with a per-record report',
    query: z.object({
      format: z.enum(FORMATS).optional().describe('skip recognition: ssda903, cin_census or cohort_csv'),
      upload: UploadId.optional().describe(
        'import the file sent by presigned PUT under this upload id (POST /v1/cohorts/uploads) instead of a body',
      ),
    }),
    body: {
      mediaTypes: [...COHORT_MEDIA_TYPES],
      description:
        'SSDA903: fields "header" and "episodes"; CIN census XML; cohort CSV (upn, cohort, start_date, end_date)',
    },
    response: ImportReport,
    handler: postCohorts,
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/cohorts/uploads',
    access: 'import_cohorts',
    audit: { action: 'presign_import' },
    tags: ['cohorts'],
    summary:
      'Get a presigned S3 PUT for a list too large to send directly (up to 20 MB), then POST /v1/cohorts?upload=<uploadId>',
    body: stagedUploadRequest(COHORT_MEDIA_TYPES),
    response: StagedUploadResponse,
    handler: async ({ audit, event }) => {
      const body = jsonBody(event, stagedUploadRequest(COHORT_MEDIA_TYPES));
      const staged = await presignStagedUpload('cohorts', body, '/v1/cohorts');
      audit.record({ target: `upload:${staged.uploadId}`, outcome: 'awaiting_upload' });
      return json(201, staged);
    },
  }),
];
