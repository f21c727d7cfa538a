/**
 * Import cohorts (docs/design.md §6 "Social care"; POST /v1/cohorts): the LA's social-care lists —
 * SSDA903 header.csv + episodes.csv (together, as multipart/form-data), a CIN census XML, or a cohort
 * CSV. The format is recognised from the content unless the caller says. Good records load while
 * each defective one is reported (file, line, field, what was expected); an import replaces that
 * source's episodes, and the figures of every pupil whose membership changed are recomputed.
 * Whatever is received is kept under the import's id, refused or not.
 */
import { gunzipSync } from 'node:zlib';
import { LIMITS } from '../config.js';
import { actorOf, type Principal } from '../domain/access.js';
import type { CareEpisodeSpan } from '../domain/cohorts.js';
import { todayInEngland } from '../domain/dates.js';
import type { CareImport } from '../formats/care-episodes.js';
import { importCinCensus } from '../formats/cin-census.js';
import { importCohortCsv } from '../formats/cohort-csv.js';
import { multipartBoundary, parseMultipart, type FormPart } from '../formats/multipart.js';
import { importSsda903 } from '../formats/ssda903.js';
import type { CareSource } from '../store/care.js';
import type { ImportRecord } from '../store/imports.js';
import { inParallel } from '../store/table.js';
import type { AuditTrail } from './audit.js';
import { newId } from './ids.js';
import { done, refuse, refuseFile, type Outcome, type Refusal, type RefusalKind } from './outcome.js';
import type { CareLists, Imports, IngestQueue, PupilRecords } from './ports.js';

export const COHORT_FORMATS = ['ssda903', 'cin_census', 'cohort_csv'] as const;
type Format = (typeof COHORT_FORMATS)[number];

export interface CohortDeps {
  careLists: CareLists;
  imports: Imports;
  pupils: PupilRecords;
  ingest: IngestQueue;
}

/** The request as received: the body, its media type and content encoding. */
export interface CohortUpload {
  body: Buffer;
  contentType: string;
  contentEncoding?: string;
  format?: Format;
}

export interface CohortImportReport {
  importId: string;
  format: Format;
  counts: CareImport['counts'];
  episodes: number;
  changedPupils: number;
  refreshed: number;
  errors: ImportRecord['errors'];
  errorsTruncated: boolean;
}

interface Upload {
  files: Array<{ name: string; body: Buffer; contentType: string }>;
}

/** A refusal raised while reading the upload, before any report (caught once, in importCohorts). */
class UploadRefused extends Error {
  constructor(readonly refusal: { ok: false } & Refusal) {
    super(refusal.detail);
  }
}

function refused(kind: RefusalKind, detail: string): UploadRefused {
  return new UploadRefused(refuse(kind, detail));
}

/**
 * A request body may be gzip-compressed (Content-Encoding: gzip): API Gateway passes at most 10 MB and
 * a synchronous Lambda about 4.4 MB of file, while a large LA's CIN census is tens of MB of XML that
 * compresses about tenfold. The decompressed size is bounded (no zip bombs).
 */
function decodedBody(received: CohortUpload): Buffer {
  const encoding = (received.contentEncoding ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return received.body;
  if (encoding !== 'gzip')
    throw refused(
      'unsupported',
      `Content-Encoding '${encoding.slice(0, 20)}' is not supported; send the file as is or gzip-compressed.`,
    );
  try {
    return gunzipSync(received.body, { maxOutputLength: LIMITS.maxCohortUploadBytes });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw refused(
        'too_large',
        `Cohort uploads are limited to ${LIMITS.maxCohortUploadBytes} bytes once decompressed.`,
      );
    throw refused('invalid', 'The body says Content-Encoding: gzip but is not valid gzip data.');
  }
}

function readUpload(received: CohortUpload): Upload {
  const body = decodedBody(received);
  if (body.length === 0) throw refused('invalid', 'The request has no body: send the file(s) to import.');
  if (body.length > LIMITS.maxCohortUploadBytes)
    throw refused('too_large', `Cohort uploads are limited to ${LIMITS.maxCohortUploadBytes} bytes.`);
  const contentType = received.contentType;
  const boundary = multipartBoundary(contentType);
  if (/^multipart\//i.test(contentType)) {
    if (!boundary) throw refused('invalid', 'A multipart/form-data upload must name its boundary in Content-Type.');
    const parsed = parseMultipart(body, boundary);
    if (!parsed.ok) throw refused('invalid', `The multipart body could not be read: ${parsed.message}.`);
    const files = parsed.parts.filter((p) => p.body.length > 0);
    if (files.length === 0) throw refused('invalid', 'The multipart body holds no file.');
    return {
      files: files.map((p: FormPart) => ({
        name: p.filename || p.name,
        body: p.body,
        contentType: p.contentType ?? 'application/octet-stream',
      })),
    };
  }
  return {
    files: [
      {
        name: /xml/i.test(contentType) ? 'cin-census.xml' : 'cohorts.csv',
        body,
        contentType: contentType || 'application/octet-stream',
      },
    ],
  };
}

/** Recognise the list from its content: XML is the CIN census; CSV headers tell SSDA903 from the cohort CSV. */
function detectFormat(upload: Upload): Format {
  const looksXml = (b: Buffer) => /^\uFEFF?\s*</.test(b.subarray(0, 200).toString('utf8'));
  const headerLine = (b: Buffer) =>
    b
      .subarray(0, 2000)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)[0]
      .toLowerCase();
  if (upload.files.length >= 2) return 'ssda903';
  const [file] = upload.files;
  if (looksXml(file.body)) return 'cin_census';
  const h = headerLine(file.body);
  if (/\bchild\b/.test(h) && /\bdecom\b/.test(h)) {
    throw refused(
      'unacceptable',
      'This looks like an SSDA903 episodes.csv: send header.csv and episodes.csv together as multipart/form-data (fields "header" and "episodes").',
    );
  }
  if (/\bchild\b/.test(h) && /\bupn\b/.test(h)) {
    throw refused(
      'unacceptable',
      'This looks like an SSDA903 header.csv: send header.csv and episodes.csv together as multipart/form-data (fields "header" and "episodes").',
    );
  }
  if (/\bupn\b/.test(h) && /\bcohort\b/.test(h)) return 'cohort_csv';
  throw refused(
    'unsupported',
    'Unrecognised list: send SSDA903 header.csv + episodes.csv (multipart/form-data), a CIN census XML, or a cohort CSV (upn, cohort, start_date, end_date); or say which with ?format=.',
  );
}

function ssda903Files(upload: Upload): { header: Upload['files'][number]; episodes: Upload['files'][number] } {
  const byName = (re: RegExp) => upload.files.find((f) => re.test(f.name));
  const headerFile =
    byName(/header/i) ??
    upload.files.find((f) => /\bupn\b/i.test(f.body.subarray(0, 500).toString('utf8').split(/\r?\n/)[0]));
  const episodes =
    byName(/episode/i) ??
    upload.files.find((f) => /\bdecom\b/i.test(f.body.subarray(0, 500).toString('utf8').split(/\r?\n/)[0]));
  if (!headerFile || !episodes || headerFile === episodes) {
    throw refused(
      'unacceptable',
      'An SSDA903 import needs both header.csv and episodes.csv (multipart/form-data fields "header" and "episodes").',
    );
  }
  return { header: headerFile, episodes };
}

function runImport(format: Format, upload: Upload, today: string): CareImport {
  switch (format) {
    case 'ssda903': {
      const { header: h, episodes } = ssda903Files(upload);
      return importSsda903(
        { header: h.body, episodes: episodes.body },
        { today, fileNames: { header: h.name, episodes: episodes.name } },
      );
    }
    case 'cin_census':
      return importCinCensus(upload.files[0].body, { today });
    case 'cohort_csv':
      return importCohortCsv(upload.files[0].body, { today });
  }
}

function episodesKey(list: readonly CareEpisodeSpan[]): string {
  return list
    .map((e) => `${e.cohort}:${e.start}:${e.end ?? ''}`)
    .sort()
    .join('|');
}

/** Pupils whose episodes from this source differ between the old and new documents. */
function changedPupils(
  before: ReadonlyArray<CareEpisodeSpan & { upn: string }>,
  after: ReadonlyArray<CareEpisodeSpan & { upn: string }>,
): string[] {
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
  for (const upn of new Set([...a.keys(), ...b.keys()]))
    if (episodesKey(a.get(upn) ?? []) !== episodesKey(b.get(upn) ?? [])) out.push(upn);
  return out.sort();
}

/** Queue a recomputation of every school-year where a changed pupil is enrolled (in that school's FIFO lane). */
async function refreshSchools(deps: CohortDeps, importId: string, upns: string[]): Promise<number> {
  const bySchoolYear = new Map<string, { urn: string; academicYear: number; upns: string[] }>();
  await inParallel(upns, 16, async (upn) => {
    for (const e of (await deps.pupils.summary(upn))?.enrolments ?? []) {
      const key = `${e.academicYear}#${e.urn}`;
      let entry = bySchoolYear.get(key);
      if (!entry) bySchoolYear.set(key, (entry = { urn: e.urn, academicYear: e.academicYear, upns: [] }));
      entry.upns.push(upn);
    }
  });
  for (const [key, entry] of bySchoolYear) {
    await deps.ingest.send(
      { kind: 'refresh', urn: entry.urn, academicYear: entry.academicYear, upns: entry.upns, reason: 'cohort import' },
      `${importId}-${key}`,
    );
  }
  return bySchoolYear.size;
}

/** The request body as received, for an upload refused before its files could be told apart. */
function rawUploadName(contentType: string): string {
  return /^multipart\//i.test(contentType)
    ? 'request.multipart'
    : /xml/i.test(contentType)
      ? 'request.xml'
      : /csv/i.test(contentType)
        ? 'request.csv'
        : 'request.bin';
}

/** Import one of the LA's social-care lists and queue the recomputation of every pupil whose membership changed. */
export async function importCohorts(
  deps: CohortDeps,
  { principal, audit }: { principal: Principal; audit: AuditTrail },
  received: CohortUpload,
): Promise<Outcome<CohortImportReport>> {
  const importId = newId('i');
  let upload: Upload;
  let format: Format;
  let result: CareImport;
  let kept = false;
  try {
    upload = readUpload(received);
    format = received.format ?? detectFormat(upload);
    for (const f of upload.files) await deps.imports.keepFile(importId, f.name, f.body, f.contentType);
    kept = true;
    result = runImport(format, upload, todayInEngland());
  } catch (err) {
    // Refused before a report: still keep what was received and say under which import id.
    if (!(err instanceof UploadRefused)) throw err;
    const { body, contentType } = received;
    if (!kept && body.length > 0)
      await deps.imports.keepFile(
        importId,
        rawUploadName(contentType),
        body,
        contentType || 'application/octet-stream',
      );
    audit.record({ target: `import:${importId}`, outcome: `rejected:${STATUS_OF[err.refusal.refused]}` });
    return { ...err.refusal, extra: { ...err.refusal.extra, ...(body.length > 0 ? { importId } : {}) } };
  }
  if (result.fileError) {
    const e = result.fileError;
    audit.record({ target: `import:${importId}`, outcome: `rejected:${e.status}` });
    return refuseFile(e, { importId });
  }
  const source: CareSource = format;
  const previous = await deps.careLists.get(source);
  const episodes = result.episodes.map((e) => ({
    upn: e.upn,
    cohort: e.cohort,
    start: e.start,
    ...(e.end ? { end: e.end } : {}),
    source,
    ref: e.ref,
  }));
  await deps.careLists.put({ source, importId, importedAt: new Date().toISOString(), episodes });
  const changed = changedPupils(previous?.episodes ?? [], episodes);
  const refreshed = await refreshSchools(deps, importId, changed);
  const record: ImportRecord = {
    importId,
    kind: 'cohorts',
    format,
    importedAt: new Date().toISOString(),
    importedBy: actorOf(principal),
    files: upload.files.map((f) => f.name),
    counts: result.counts,
    errors: result.errors.slice(0, LIMITS.maxInlineRowErrors),
    errorsTruncated: result.errors.length > LIMITS.maxInlineRowErrors,
    changedPupils: changed.length,
    refreshed,
  };
  await deps.imports.put(record);
  audit.record({
    target: `import:${importId}`,
    outcome: result.errors.length ? 'accepted_with_errors' : 'accepted',
    count: changed.length,
  });
  return done({
    importId,
    format,
    counts: result.counts,
    episodes: episodes.length,
    changedPupils: changed.length,
    refreshed,
    errors: record.errors,
    errorsTruncated: record.errorsTruncated,
  });
}

/** The HTTP status each refusal of an upload is recorded under in the audit (as the API answers it). */
const STATUS_OF: Partial<Record<RefusalKind, number>> = {
  invalid: 400,
  too_large: 413,
  unsupported: 415,
  unacceptable: 422,
};
