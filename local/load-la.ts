/**
 * Loading a generated LA (local/synthetic) into a running service through its public API, as the
 * LA and its schools would: the registry and calendars (admin), the social-care lists (LA officer),
 * then the schools' returns in the manifest's order, each school's files in one ordered lane, the
 * out-of-area schools' returns sent by the Virtual School.
 *
 * `backfillBefore` folds each school's daily returns before that date into one back-fill file per
 * school (a school joining the service part-way through the year sends its year so far at once);
 * later days, late files and corrections still go one by one, in order.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Role } from '../shared/domain/access.js';
import type { ManifestFile, ManifestSetup } from './synthetic/index.js';
import { uploadAll, type UploadItem, type UploadSummary } from './uploader.js';

export interface LoadOptions {
  url: string;
  /** The generated LA's directory (with manifest.json). */
  dir: string;
  /** Where back-fill files are written (default `<dir>/backfill`). */
  workDir?: string;
  token: (role: Role, urn?: string) => Promise<string>;
  backfillBefore?: string;
  concurrency?: number;
  onSetup?: (step: string) => void;
  /** Returns whose outcome is known, of all sent. */
  onProgress?: (done: number, total: number) => void;
  /** Back-fill files written, of all schools' (writing them is a long step for a whole year). */
  onBackfillWritten?: (done: number, total: number) => void;
}

export interface LoadSummary {
  setup: Array<{ kind: string; status: number }>;
  uploads: UploadSummary;
  backfills: number;
  sampleUrn: string;
}

interface Manifest {
  laCode: string;
  setup: ManifestSetup[];
  files: ManifestFile[];
}

export function readGeneratedManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
}

async function post(url: string, token: string, body: Buffer, contentType: string): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

function multipart(parts: Array<{ field: string; name: string; body: Buffer }>): { body: Buffer; contentType: string } {
  const boundary = `attendance-hub-${Date.now().toString(36)}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${p.field}"; filename="${p.name}"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
      p.body,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The LA's lists: registry, calendars, social care. Each must be accepted for the returns to make sense. */
async function loadSetup(options: LoadOptions, manifest: Manifest): Promise<Array<{ kind: string; status: number }>> {
  const out: Array<{ kind: string; status: number }> = [];
  for (const step of manifest.setup) {
    options.onSetup?.(step.kind);
    const token = await options.token(step.role === 'admin' ? 'admin' : 'la_officer');
    const file = (p: string) => readFileSync(join(options.dir, p));
    let status: number;
    switch (step.kind) {
      case 'registry':
        status = await post(`${options.url}/v1/schools`, token, file(step.path), 'text/csv');
        break;
      case 'calendar':
        status = await post(`${options.url}/v1/calendars`, token, file(step.path), step.contentType);
        break;
      case 'ssda903': {
        const form = multipart([
          { field: 'header', name: 'header.csv', body: file(step.parts?.header ?? step.path) },
          { field: 'episodes', name: 'episodes.csv', body: file(step.parts?.episodes ?? step.path) },
        ]);
        status = await post(`${options.url}/v1/cohorts?format=ssda903`, token, form.body, form.contentType);
        break;
      }
      case 'cin_census':
        status = await post(`${options.url}/v1/cohorts?format=cin_census`, token, file(step.path), 'application/xml');
        break;
    }
    if (status >= 300)
      throw new Error(`loading the generated LA: ${step.kind} (${step.path}) was refused with HTTP ${status}`);
    out.push({ kind: step.kind, status });
  }
  return out;
}

/**
 * Each school's daily files before `before`, as one back-fill CSV per school (header once), with the
 * corrections of those dates folded in (a school back-filling its year sends the corrected marks).
 * Rows are keyed by pupil and date, so a correction's row replaces the original. One school at a
 * time, so a whole year for a large LA never sits in memory at once.
 */
function writeBackfills(
  dir: string,
  workDir: string,
  files: readonly ManifestFile[],
  before: string,
  onProgress?: (done: number, total: number) => void,
): { backfills: Map<string, { path: string; role: ManifestFile['role'] }>; rest: ManifestFile[] } {
  mkdirSync(workDir, { recursive: true });
  const folded = new Map<string, ManifestFile[]>();
  const rest: ManifestFile[] = [];
  for (const f of files) {
    const early = (f.kind === 'daily' || f.kind === 'late') && f.date < before;
    const earlyCorrection =
      f.kind === 'correction' && (f.dates ?? [f.date]).every((d) => d < before) && folded.has(f.urn);
    if (early || earlyCorrection) {
      const list = folded.get(f.urn);
      if (list) list.push(f);
      else folded.set(f.urn, [f]);
    } else rest.push(f);
  }
  const backfills = new Map<string, { path: string; role: ManifestFile['role'] }>();
  let done = 0;
  for (const [urn, schoolFiles] of folded) {
    let header = '';
    const rows = new Map<string, string>();
    for (const f of schoolFiles) {
      const lines = readFileSync(join(dir, f.path), 'utf8')
        .split('\n')
        .filter((l) => l.length > 0);
      header ||= lines[0];
      // Generated returns start urn,upn,date (RETURN_COLUMNS), so pupil and date are fields 2 and 3.
      for (const line of lines.slice(1)) {
        const [, upn, date] = line.split(',', 3);
        rows.set(`${date}|${upn}`, line);
      }
    }
    const path = join(workDir, `${urn}.csv`);
    const ordered = [...rows.entries()]
      .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
      .map(([, line]) => line);
    writeFileSync(path, `${header}\n${ordered.join('\n')}\n`);
    backfills.set(urn, { path, role: schoolFiles[0].role });
    onProgress?.(++done, folded.size);
  }
  return { backfills, rest };
}

export async function loadGeneratedLa(options: LoadOptions): Promise<LoadSummary> {
  const manifest = readGeneratedManifest(options.dir);
  const setup = await loadSetup(options, manifest);
  const { backfills, rest } = options.backfillBefore
    ? writeBackfills(
        options.dir,
        options.workDir ?? join(options.dir, 'backfill'),
        manifest.files,
        options.backfillBefore,
        options.onBackfillWritten,
      )
    : { backfills: new Map<string, { path: string; role: ManifestFile['role'] }>(), rest: manifest.files };
  const tokens = new Map<string, string>();
  const tokenFor = async (role: ManifestFile['role'], urn: string) => {
    const key = role === 'vsh' ? 'vsh' : `school:${urn}`;
    let t = tokens.get(key);
    if (!t) tokens.set(key, (t = role === 'vsh' ? await options.token('vsh') : await options.token('school', urn)));
    return t;
  };
  const items: UploadItem[] = [];
  for (const [urn, b] of backfills) items.push({ path: b.path, lane: urn, urn, token: await tokenFor(b.role, urn) });
  for (const f of rest)
    items.push({ path: join(options.dir, f.path), lane: f.urn, urn: f.urn, token: await tokenFor(f.role, f.urn) });
  const uploads = await uploadAll(items, {
    url: options.url,
    concurrency: options.concurrency ?? 4,
    onProgress: options.onProgress,
  });
  const sampleUrn = manifest.files.find((f) => f.role === 'school')?.urn ?? '100001';
  return { setup, uploads, backfills: backfills.size, sampleUrn };
}
