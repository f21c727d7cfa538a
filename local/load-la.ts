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
import { mkdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
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

/** A school's back-fill file, and when it is on disk. */
interface Backfill {
  path: string;
  role: ManifestFile['role'];
  written: Promise<void>;
}

/**
 * Each school's daily files before `before`, as one back-fill CSV per school (header once), with the
 * corrections of those dates folded in (a school back-filling its year sends the corrected marks).
 * Rows are keyed by pupil and date, so a correction's row replaces the original. The files are
 * written one school at a time in the background (so a whole year for a large LA never sits in
 * memory at once), each school's `written` resolving when its file is on disk: the first schools'
 * back-fills are sent, and applied, while the later ones are still being written.
 */
function writeBackfills(
  dir: string,
  workDir: string,
  files: readonly ManifestFile[],
  before: string,
  onProgress?: (done: number, total: number) => void,
): { backfills: Map<string, Backfill>; rest: ManifestFile[]; allWritten: Promise<void> } {
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
  const backfills = new Map<string, Backfill>();
  const done = new Map<string, { resolve: () => void; reject: (err: unknown) => void }>();
  for (const [urn, schoolFiles] of folded) {
    let settle: { resolve: () => void; reject: (err: unknown) => void } | undefined;
    const written = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    // Sent only once written; a failure reaches the uploader through `allWritten` as well.
    written.catch(() => undefined);
    backfills.set(urn, { path: join(workDir, `${urn}.csv`), role: schoolFiles[0].role, written });
    done.set(urn, settle!);
  }
  const allWritten = (async () => {
    let n = 0;
    for (const [urn, schoolFiles] of folded) {
      // Let the uploads and the service's work for the schools already written run in between.
      await new Promise((r) => setImmediate(r));
      try {
        await writeFile(backfills.get(urn)!.path, backfillOf(dir, schoolFiles));
        done.get(urn)!.resolve();
      } catch (err) {
        for (const d of done.values()) d.reject(err);
        throw err;
      }
      onProgress?.(++n, folded.size);
    }
  })();
  return { backfills, rest, allWritten };
}

/**
 * One school's back-fill: every row of its files in date order, then pupil order, the last row
 * given for a pupil and date kept (files in manifest order, so a correction replaces the day's row).
 */
export function backfillOf(dir: string, schoolFiles: readonly ManifestFile[]): string {
  let header = '';
  const byDate = new Map<string, Map<string, string>>();
  for (const f of schoolFiles) {
    const text = readFileSync(join(dir, f.path), 'utf8');
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      if (end > start) {
        const line = text.slice(start, end);
        if (start === 0) header ||= line;
        else {
          // Generated returns start urn,upn,date (RETURN_COLUMNS), so pupil and date are fields 2 and 3.
          const a = line.indexOf(',');
          const b = a < 0 ? -1 : line.indexOf(',', a + 1);
          const c = b < 0 ? -1 : line.indexOf(',', b + 1);
          const upn = a < 0 ? '' : line.slice(a + 1, b < 0 ? line.length : b);
          const date = b < 0 ? '' : line.slice(b + 1, c < 0 ? line.length : c);
          let day = byDate.get(date);
          if (!day) byDate.set(date, (day = new Map()));
          day.set(upn, line);
        }
      }
      start = end + 1;
    }
  }
  const out: string[] = [header];
  for (const date of [...byDate.keys()].sort()) {
    const day = byDate.get(date)!;
    // A day's file lists its pupils in order already; a correction replaces a row in place.
    let upns = [...day.keys()];
    if (!isAscending(upns)) upns = upns.sort();
    for (const upn of upns) out.push(day.get(upn)!);
  }
  out.push('');
  return out.join('\n');
}

function isAscending(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1] > keys[i]) return false;
  return true;
}

export async function loadGeneratedLa(options: LoadOptions): Promise<LoadSummary> {
  const manifest = readGeneratedManifest(options.dir);
  const setup = await loadSetup(options, manifest);
  const { backfills, rest, allWritten } = options.backfillBefore
    ? writeBackfills(
        options.dir,
        options.workDir ?? join(options.dir, 'backfill'),
        manifest.files,
        options.backfillBefore,
        options.onBackfillWritten,
      )
    : { backfills: new Map<string, Backfill>(), rest: manifest.files, allWritten: Promise.resolve() };
  const tokens = new Map<string, string>();
  const tokenFor = async (role: ManifestFile['role'], urn: string) => {
    const key = role === 'vsh' ? 'vsh' : `school:${urn}`;
    let t = tokens.get(key);
    if (!t) tokens.set(key, (t = role === 'vsh' ? await options.token('vsh') : await options.token('school', urn)));
    return t;
  };
  const items: UploadItem[] = [];
  for (const [urn, b] of backfills)
    items.push({ path: b.path, lane: urn, urn, token: await tokenFor(b.role, urn), ready: b.written });
  for (const f of rest)
    items.push({ path: join(options.dir, f.path), lane: f.urn, urn: f.urn, token: await tokenFor(f.role, f.urn) });
  const [uploads] = await Promise.all([
    uploadAll(items, { url: options.url, concurrency: options.concurrency ?? 4, onProgress: options.onProgress }),
    allWritten,
  ]);
  const sampleUrn = manifest.files.find((f) => f.role === 'school')?.urn ?? '100001';
  return { setup, uploads, backfills: backfills.size, sampleUrn };
}
