/**
 * POST /v1/schools (admin): load the school registry from a GIAS extract (docs/design.md §6). Phase drives
 * grouping; a school whose LA code is not this LA's is marked out of area (looked-after children
 * placed there; the Virtual School may send its returns).
 */
import * as z from 'zod';
import { defineRoute, json, jsonBody, rawBody, resultOf } from '../http.js';
import {
  presignStagedUpload,
  StagedUploadResponse,
  stagedUploadRequest,
  UploadId,
  eventWithStagedBody,
} from '../staged-uploads.js';
import { importRegistry } from '../../../shared/app/import-registry.js';
import { app } from '../app.js';

const RegistryReport = z
  .object({
    importId: z.string(),
    counts: z.object({ records: z.number().int(), accepted: z.number().int(), rejected: z.number().int() }),
    outOfArea: z.number().int(),
    errors: z.array(z.object({ line: z.number().int(), field: z.string(), code: z.string(), message: z.string() })),
  })
  .meta({ id: 'RegistryImportReport' });

export const registryRoutes = [
  defineRoute({
    method: 'POST',
    path: '/v1/schools',
    access: 'manage_registry',
    audit: { action: 'import_registry' },
    tags: ['schools'],
    successStatus: 200,
    summary: 'Load or update the school registry from a GIAS extract CSV (per-record report)',
    body: {
      mediaTypes: ['text/csv'],
      description:
        'GIAS extract: URN, LA (code), EstablishmentNumber, EstablishmentName, PhaseOfEducation (name), TypeOfEstablishment (name), EstablishmentStatus (name)',
    },
    query: z.object({
      upload: UploadId.optional().describe(
        'import the file sent by presigned PUT under this upload id (POST /v1/schools/uploads) instead of a body',
      ),
    }),
    response: RegistryReport,
    handler: async ({ audit, event: direct, principal, query }) => {
      // A file sent by presigned PUT (POST /v1/schools/uploads) is imported exactly as a direct upload.
      const event = query.upload ? await eventWithStagedBody(direct, query.upload, 'registry') : direct;
      return json(200, resultOf(await importRegistry(app, { principal, audit }, rawBody(event))));
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/schools/uploads',
    access: 'manage_registry',
    audit: { action: 'presign_import' },
    tags: ['schools'],
    summary:
      'Get a presigned S3 PUT for a GIAS extract too large to send directly (up to 20 MB), then POST /v1/schools?upload=<uploadId>',
    body: stagedUploadRequest(['text/csv']),
    response: StagedUploadResponse,
    handler: async ({ audit, event }) => {
      const body = jsonBody(event, stagedUploadRequest(['text/csv']));
      const staged = await presignStagedUpload('registry', body, '/v1/schools');
      audit.record({ target: `upload:${staged.uploadId}`, outcome: 'awaiting_upload' });
      return json(201, staged);
    },
  }),
];
