/**
 * POST /v1/cohorts: the LA's social-care lists (docs/design.md §6) — SSDA903 header.csv + episodes.csv
 * (together, as multipart/form-data), a CIN census XML, or a cohort CSV. The format is recognised
 * from the content unless `?format=` says. Good records load while each defective one is reported
 * (file, line, field, what was expected); an import replaces that source's episodes, and the
 * figures of every pupil whose membership changed are recomputed.
 */
import { gunzipSync } from 'node:zlib';
import * as z from 'zod';
import { LIMITS } from '../../../shared/config.js';
import type { CareEpisodeSpan } from '../../../shared/domain/cohorts.js';
import { todayInEngland } from '../../../shared/domain/dates.js';
import type { CareImport } from '../../../shared/formats/care-episodes.js';
import { importCinCensus } from '../../../shared/formats/cin-census.js';
import { importCohortCsv } from '../../../shared/formats/cohort-csv.js';
import { multipartBoundary, parseMultipart, type FormPart } from '../../../shared/formats/multipart.js';
import { importSsda903 } from '../../../shared/formats/ssda903.js';
import { getCareDocument, putCareDocument, resetCareCache, type CareSource } from '../../../shared/store/care.js';
import { keepImportFile, putImport, type ImportRecord } from '../../../shared/store/imports.js';
import { getPupilEnrolments } from '../../../shared/store/pupils.js';
import { sendIngest } from '../../../shared/store/queues.js';
import { inParallel } from '../../../shared/store/table.js';
import { actorOf } from '../../../shared/domain/access.js';
import { defineRoute, header, json, jsonBody, problem, Problem, rawBody, type RouteContext } from '../http.js';
import { eventWithStagedBody, presignStagedUpload, StagedUploadResponse, stagedUploadRequest, UploadId } from '../staged-uploads.js';
import { newId } from '../../../shared/app/ids.js';

const FORMATS = ['ssda903', 'cin_census', 'cohort_csv'] as const;
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
    errors: z.array(z.object({ file: z.string().optional(), line: z.number().int(), field: z.string(), code: z.string(), message: z.string(), record: z.string().optional() })),
    errorsTruncated: z.boolean(),
  })
  .meta({ id: 'CohortImportReport' });

interface Upload {
  files: Array<{ name: string; body: Buffer; contentType: string }>;
}

/**
 * A request body may be gzip-compressed (Content-Encoding: gzip): API Gateway passes at most 10 MB and
 * a synchronous Lambda about 4.4 MB of file, while a large LA's CIN census is tens of MB of XML that
 * compresses about tenfold. The decompressed size is bounded (no zip bombs).
 */
function decodedBody(ctx: Pick<RouteContext, 'event'>): Buffer {
  const body = rawBody(ctx.event);
  const encoding = (header(ctx.event, 'content-encoding') ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return body;
  if (encoding !== 'gzip') throw problem(415, `Content-Encoding '${encoding.slice(0, 20)}' is not supported; send the file as is or gzip-compressed.`);
  try {
    return gunzipSync(body, { maxOutputLength: LIMITS.maxCohortUploadBytes });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw problem(413, `Cohort uploads are limited to ${LIMITS.maxCohortUploadBytes} bytes once decompressed.`);
    throw problem(400, 'The body says Content-Encoding: gzip but is not valid gzip data.');
  }
}

function readUpload(ctx: Pick<RouteContext, 'event'>): Upload {
  const body = decodedBody(ctx);
  if (body.length === 0) throw problem(400, 'The request has no body: send the file(s) to import.');
  if (body.length > LIMITS.maxCohortUploadBytes) throw problem(413, `Cohort uploads are limited to ${LIMITS.maxCohortUploadBytes} bytes.`);
  const contentType = header(ctx.event, 'content-type') ?? '';
  const boundary = multipartBoundary(contentType);
  if (/^multipart\//i.test(contentType)) {
    if (!boundary) throw problem(400, 'A multipart/form-data upload must name its boundary in Content-Type.');
    const parsed = parseMultipart(body, boundary);
    if (!parsed.ok) throw problem(400, `The multipart body could not be read: ${parsed.message}.`);
    const files = parsed.parts.filter((p) => p.body.length > 0);
    if (files.length === 0) throw problem(400, 'The multipart body holds no file.');
    return { files: files.map((p: FormPart) => ({ name: p.filename || p.name, body: p.body, contentType: p.contentType ?? 'application/octet-stream' })) };
  }
  return { files: [{ name: /xml/i.test(contentType) ? 'cin-census.xml' : 'cohorts.csv', body, contentType: contentType || 'application/octet-stream' }] };
}

/** Recognise the list from its content: XML is the CIN census; CSV headers tell SSDA903 from the cohort CSV. */
function detectFormat(upload: Upload): Format {
  const looksXml = (b: Buffer) => /^\uFEFF?\s*</.test(b.subarray(0, 200).toString('utf8'));
  const headerLine = (b: Buffer) => b.subarray(0, 2000).toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/)[0].toLowerCase();
  if (upload.files.length >= 2) return 'ssda903';
  const [file] = upload.files;
  if (looksXml(file.body)) return 'cin_census';
  const h = headerLine(file.body);
  if (/\bchild\b/.test(h) && /\bdecom\b/.test(h)) {
    throw problem(422, 'This looks like an SSDA903 episodes.csv: send header.csv and episodes.csv together as multipart/form-data (fields "header" and "episodes").');
  }
  if (/\bchild\b/.test(h) && /\bupn\b/.test(h)) {
    throw problem(422, 'This looks like an SSDA903 header.csv: send header.csv and episodes.csv together as multipart/form-data (fields "header" and "episodes").');
  }
  if (/\bupn\b/.test(h) && /\bcohort\b/.test(h)) return 'cohort_csv';
  throw problem(415, 'Unrecognised list: send SSDA903 header.csv + episodes.csv (multipart/form-data), a CIN census XML, or a cohort CSV (upn, cohort, start_date, end_date); or say which with ?format=.');
}

function ssda903Files(upload: Upload): { header: Upload['files'][number]; episodes: Upload['files'][number] } {
  const byName = (re: RegExp) => upload.files.find((f) => re.test(f.name));
  const headerFile = byName(/header/i) ?? upload.files.find((f) => /\bupn\b/i.test(f.body.subarray(0, 500).toString('utf8').split(/\r?\n/)[0]));
  const episodes = byName(/episode/i) ?? upload.files.find((f) => /\bdecom\b/i.test(f.body.subarray(0, 500).toString('utf8').split(/\r?\n/)[0]));
  if (!headerFile || !episodes || headerFile === episodes) {
    throw problem(422, 'An SSDA903 import needs both header.csv and episodes.csv (multipart/form-data fields "header" and "episodes").');
  }
  return { header: headerFile, episodes };
}

function runImport(format: Format, upload: Upload, today: string): CareImport {
  switch (format) {
    case 'ssda903': {
      const { header: h, episodes } = ssda903Files(upload);
      return importSsda903({ header: h.body, episodes: episodes.body }, { today, fileNames: { header: h.name, episodes: episodes.name } });
    }
    case 'cin_census':
      return importCinCensus(upload.files[0].body, { today });
    case 'cohort_csv':
      return importCohortCsv(upload.files[0].body, { today });
  }
}

function episodesKey(list: readonly CareEpisodeSpan[]): string {
  return list.map((e) => `${e.cohort}:${e.start}:${e.end ?? ''}`).sort().join('|');
}

/** Pupils whose episodes from this source differ between the old and new documents. */
function changedPupils(before: ReadonlyArray<CareEpisodeSpan & { upn: string }>, after: ReadonlyArray<CareEpisodeSpan & { upn: string }>): string[] {
  const group = (list: ReadonlyArray<CareEpisodeSpan & { upn: string }>) => {
    const m = new Map<string, CareEpisodeSpan[]>();
    for (const e of list) {
      let l = m.get(e.upn);
      if (!l) m.set(e.upn, (l = []));
      l.push(e);
    }
    return m;
  };
  const a = group(before);
  const b = group(after);
  const out: string[] = [];
  for (const upn of new Set([...a.keys(), ...b.keys()])) if (episodesKey(a.get(upn) ?? []) !== episodesKey(b.get(upn) ?? [])) out.push(upn);
  return out.sort();
}

/** Queue a recomputation of every school-year where a changed pupil is enrolled (in that school's FIFO lane). */
async function refreshSchools(importId: string, upns: string[]): Promise<number> {
  const bySchoolYear = new Map<string, { urn: string; academicYear: number; upns: string[] }>();
  await inParallel(upns, 16, async (upn) => {
    for (const e of await getPupilEnrolments(upn)) {
      const key = `${e.academicYear}#${e.urn}`;
      let entry = bySchoolYear.get(key);
      if (!entry) bySchoolYear.set(key, (entry = { urn: e.urn, academicYear: e.academicYear, upns: [] }));
      entry.upns.push(upn);
    }
  });
  for (const [key, entry] of bySchoolYear) {
    await sendIngest({ kind: 'refresh', urn: entry.urn, academicYear: entry.academicYear, upns: entry.upns, reason: 'cohort import' }, `${importId}-${key}`);
  }
  return bySchoolYear.size;
}

/** The request body as received, for an upload refused before its files could be told apart. */
function rawUploadName(contentType: string): string {
  return /^multipart\//i.test(contentType) ? 'request.multipart' : /xml/i.test(contentType) ? 'request.xml' : /csv/i.test(contentType) ? 'request.csv' : 'request.bin';
}

async function postCohorts(direct: RouteContext<{ format?: Format; upload?: string }>) {
  // A file sent by presigned PUT (POST /v1/cohorts/uploads) is imported exactly as a direct upload.
  const ctx = direct.query.upload ? { ...direct, event: await eventWithStagedBody(direct.event, direct.query.upload) } : direct;
  const { audit, principal, query } = ctx;
  const importId = newId('i');
  let upload: Upload;
  let format: Format;
  let result: CareImport;
  let kept = false;
  try {
    upload = readUpload(ctx);
    format = query.format ?? detectFormat(upload);
    for (const f of upload.files) await keepImportFile(importId, f.name, f.body, f.contentType);
    kept = true;
    result = runImport(format, upload, todayInEngland());
  } catch (err) {
    // Refused before a report: still keep what was received and say under which import id.
    if (!(err instanceof Problem)) throw err;
    const body = rawBody(ctx.event);
    if (!kept && body.length > 0) await keepImportFile(importId, rawUploadName(header(ctx.event, 'content-type') ?? ''), body, header(ctx.event, 'content-type') ?? 'application/octet-stream');
    audit.record({ target: `import:${importId}`, outcome: `rejected:${err.status}` });
    throw new Problem(err.status, err.title, err.detail, err.errors, { ...err.extra, ...(body.length > 0 ? { importId } : {}) }, err.headers);
  }
  if (result.fileError) {
    audit.record({ target: `import:${importId}`, outcome: `rejected:${result.fileError.status}` });
    throw new Problem(result.fileError.status, result.fileError.title, result.fileError.detail, result.fileError.errors?.slice(0, 100), { importId, code: result.fileError.code });
  }
  const source: CareSource = format;
  const previous = await getCareDocument(source);
  const episodes = result.episodes.map((e) => ({ upn: e.upn, cohort: e.cohort, start: e.start, ...(e.end ? { end: e.end } : {}), source, ref: e.ref }));
  await putCareDocument({ source, importId, importedAt: new Date().toISOString(), episodes });
  resetCareCache();
  const changed = changedPupils(previous?.episodes ?? [], episodes);
  const refreshed = await refreshSchools(importId, changed);
  const record: ImportRecord = {
    importId, kind: 'cohorts', format, importedAt: new Date().toISOString(), importedBy: actorOf(principal),
    files: upload.files.map((f) => f.name), counts: result.counts,
    errors: result.errors.slice(0, LIMITS.maxInlineRowErrors), errorsTruncated: result.errors.length > LIMITS.maxInlineRowErrors,
    changedPupils: changed.length, refreshed,
  };
  await putImport(record);
  audit.record({ target: `import:${importId}`, outcome: result.errors.length ? 'accepted_with_errors' : 'accepted', count: changed.length });
  return json(200, {
    importId, format, counts: result.counts, episodes: episodes.length, changedPupils: changed.length, refreshed,
    errors: record.errors, errorsTruncated: record.errorsTruncated,
  });
}

export const cohortRoutes = [
  defineRoute({
    method: 'POST', path: '/v1/cohorts', access: 'import_cohorts', audit: { action: 'import_cohorts' }, tags: ['cohorts'], successStatus: 200,
    summary: 'Import an LA social-care list (SSDA903 header + episodes as multipart/form-data, CIN census XML, or cohort CSV) with a per-record report',
    query: z.object({
      format: z.enum(FORMATS).optional().describe('skip recognition: ssda903, cin_census or cohort_csv'),
      upload: UploadId.optional().describe('import the file sent by presigned PUT under this upload id (POST /v1/cohorts/uploads) instead of a body'),
    }),
    body: { mediaTypes: [...COHORT_MEDIA_TYPES], description: 'SSDA903: fields "header" and "episodes"; CIN census XML; cohort CSV (upn, cohort, start_date, end_date)' },
    response: ImportReport,
    handler: postCohorts,
  }),
  defineRoute({
    method: 'POST', path: '/v1/cohorts/uploads', access: 'import_cohorts', audit: { action: 'presign_import' }, tags: ['cohorts'],
    summary: 'Get a presigned S3 PUT for a list too large to send directly (up to 20 MB), then POST /v1/cohorts?upload=<uploadId>',
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
