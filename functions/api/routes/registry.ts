/**
 * POST /v1/schools (admin): load the school registry from a GIAS extract (docs/design.md §6). Phase drives
 * grouping; a school whose LA code is not this LA's is marked out of area (looked-after children
 * placed there; the Virtual School may send its returns).
 */
import * as z from 'zod';
import { LIMITS, runtimeConfig } from '../../../shared/config.js';
import { academicYearOf, todayInEngland } from '../../../shared/domain/dates.js';
import { parseGiasCsv } from '../../../shared/formats/gias.js';
import { keepImportFile, putImport } from '../../../shared/store/imports.js';
import { requestRollup } from '../../../shared/store/queues.js';
import { upsertSchool } from '../../../shared/store/schools.js';
import { inParallel } from '../../../shared/store/table.js';
import { actorOf } from '../../../shared/domain/access.js';
import { defineRoute, json, jsonBody, problem, Problem, rawBody } from '../http.js';
import { presignStagedUpload, StagedUploadResponse, stagedUploadRequest, UploadId, eventWithStagedBody } from '../staged-uploads.js';
import { newId } from '../../../shared/app/ids.js';

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
    method: 'POST', path: '/v1/schools', access: 'manage_registry', audit: { action: 'import_registry' }, tags: ['schools'], successStatus: 200,
    summary: 'Load or update the school registry from a GIAS extract CSV (per-record report)',
    body: { mediaTypes: ['text/csv'], description: 'GIAS extract: URN, LA (code), EstablishmentNumber, EstablishmentName, PhaseOfEducation (name), TypeOfEstablishment (name), EstablishmentStatus (name)' },
    query: z.object({ upload: UploadId.optional().describe('import the file sent by presigned PUT under this upload id (POST /v1/schools/uploads) instead of a body') }),
    response: RegistryReport,
    handler: async ({ audit, event: direct, principal, query }) => {
      // A file sent by presigned PUT (POST /v1/schools/uploads) is imported exactly as a direct upload.
      const event = query.upload ? await eventWithStagedBody(direct, query.upload) : direct;
      const body = rawBody(event);
      if (body.length === 0) throw problem(400, 'The request has no body: send the GIAS extract CSV.');
      if (body.length > LIMITS.maxCohortUploadBytes) throw problem(413, `Registry uploads are limited to ${LIMITS.maxCohortUploadBytes} bytes.`);
      const importId = newId('g');
      await keepImportFile(importId, 'gias.csv', body, 'text/csv');
      const parsed = parseGiasCsv(body);
      if (parsed.fileError) {
        audit.record({ target: `import:${importId}`, outcome: `rejected:${parsed.fileError.status}` });
        throw new Problem(parsed.fileError.status, parsed.fileError.title, parsed.fileError.detail, parsed.fileError.errors?.slice(0, 100), { importId, code: parsed.fileError.code });
      }
      const la = runtimeConfig().laCode;
      await inParallel(parsed.schools, 8, async (s) => {
        await upsertSchool(s.urn, {
          name: s.name, laCode: s.laCode, establishmentNumber: s.establishmentNumber, phase: s.phase, type: s.type,
          status: s.status, open: s.open, outOfArea: s.laCode !== la, inRegistry: true,
        });
      });
      const rejectedLines = new Set(parsed.errors.map((e) => e.line)).size;
      const counts = { records: parsed.schools.length + rejectedLines, accepted: parsed.schools.length, rejected: rejectedLines };
      await putImport({
        importId, kind: 'registry', format: 'gias', importedAt: new Date().toISOString(), importedBy: actorOf(principal),
        files: ['gias.csv'], counts, errors: parsed.errors.slice(0, LIMITS.maxInlineRowErrors), errorsTruncated: parsed.errors.length > LIMITS.maxInlineRowErrors,
      });
      // Phase groupings in the LA view follow the registry.
      await requestRollup(academicYearOf(todayInEngland()));
      audit.record({ target: `import:${importId}`, outcome: parsed.errors.length ? 'accepted_with_errors' : 'accepted', count: parsed.schools.length });
      return json(200, { importId, counts, outOfArea: parsed.schools.filter((s) => s.laCode !== la).length, errors: parsed.errors.slice(0, 1000) });
    },
  }),
  defineRoute({
    method: 'POST', path: '/v1/schools/uploads', access: 'manage_registry', audit: { action: 'presign_import' }, tags: ['schools'],
    summary: 'Get a presigned S3 PUT for a GIAS extract too large to send directly (up to 20 MB), then POST /v1/schools?upload=<uploadId>',
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
