/**
 * Item 1: parsing and validation throughput of daily returns, in marks (sessions) per second and MB/s,
 * for the daily-return CSV (shared/formats/daily-return-csv.ts) and the Common Transfer File
 * (shared/formats/ctf.ts), on the bench LA's own files. The CTF is written by the project's writer
 * from one school's parsed rows for the whole range (what a school's MIS would send as a back-fill).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDailyReturnCsv, type ReturnRow } from '../shared/formats/daily-return-csv.js';
import { parseCtf } from '../shared/formats/ctf.js';
import { writeCtf } from '../test/support/ctf-writer.js';
import { parseGiasCsv } from '../shared/formats/gias.js';
import { readManifestOf } from './duckdb-metrics.js';
import { repeatFor, round } from './measure.js';

export interface ParseThroughput {
  files: number;
  bytes: number;
  rows: number;
  marks: number;
  rowErrors: number;
  runs: number;
  marksPerSecond: number;
  mbPerSecond: number;
}

const MB = 1024 * 1024;

function throughput(
  files: number,
  bytes: number,
  rows: number,
  rowErrors: number,
  runs: number,
  secondsPerRun: number,
): ParseThroughput {
  return {
    files,
    bytes,
    rows,
    marks: rows * 2,
    rowErrors,
    runs,
    marksPerSecond: Math.round((rows * 2) / secondsPerRun),
    mbPerSecond: round(bytes / MB / secondsPerRun),
  };
}

/** Parse the LA's daily files (in manifest order, up to `maxBytes`) repeatedly for at least `minSeconds`. */
export async function csvThroughput(
  dir: string,
  today: string,
  maxBytes: number,
  minSeconds: number,
): Promise<ParseThroughput> {
  const buffers: Buffer[] = [];
  let bytes = 0;
  for (const f of readManifestOf(dir).files) {
    if (f.kind !== 'daily') continue;
    const b = readFileSync(join(dir, f.path));
    buffers.push(b);
    bytes += b.length;
    if (bytes >= maxBytes) break;
  }
  let rows = 0;
  let rowErrors = 0;
  const { runs, secondsPerRun } = await repeatFor(minSeconds, () => {
    rows = 0;
    rowErrors = 0;
    for (const b of buffers) {
      const parsed = parseDailyReturnCsv(b, { today });
      if (!parsed.ok) throw new Error(`bench: a generated return was rejected: ${parsed.error.detail}`);
      rows += parsed.rows.length;
      rowErrors += parsed.errors.length;
    }
  });
  return throughput(buffers.length, bytes, rows, rowErrors, runs, secondsPerRun);
}

/** Fields a CTF has no place for (admission, leaving, registration, household, social care other than in care). */
function forCtf(row: ReturnRow): ReturnRow {
  const {
    plac: _p,
    cin: _ci,
    cpp: _cp,
    admissionDate: _a,
    leavingDate: _l,
    registration: _r,
    uprn: _u,
    cla: _cl,
    ...rest
  } = row;
  return rest;
}

/**
 * One school's CTF for the whole range (the school with the most rows among the first `schools`),
 * written from its parsed daily files, then parsed repeatedly.
 */
export async function ctfThroughput(
  dir: string,
  today: string,
  minSeconds: number,
): Promise<ParseThroughput & { urn: string; pupils: number }> {
  const manifest = readManifestOf(dir);
  const registry = parseGiasCsv(readFileSync(join(dir, 'schools.csv')));
  const inArea = registry.schools.filter((s) => s.laCode === manifest.laCode);
  // A secondary school: the largest rolls.
  const school = inArea.find((s) => s.phase === 'secondary') ?? inArea[0];
  const rows: ReturnRow[] = [];
  for (const f of manifest.files) {
    if (f.kind !== 'daily' || f.urn !== school.urn) continue;
    const parsed = parseDailyReturnCsv(readFileSync(join(dir, f.path)), { today });
    if (parsed.ok) rows.push(...parsed.rows.filter((r) => !(r.am === '#' && r.pm === '#')).map(forCtf));
  }
  const xml = Buffer.from(
    writeCtf(rows, {
      school: { lea: school.laCode, estab: school.establishmentNumber, urn: school.urn, name: school.name },
      dateTime: `${today}T00:00:00`,
    }),
  );
  let parsedRows = 0;
  let rowErrors = 0;
  let pupils = 0;
  const { runs, secondsPerRun } = await repeatFor(minSeconds, () => {
    const parsed = parseCtf(xml, { today });
    if (!parsed.ok) throw new Error(`bench: the written CTF was rejected: ${parsed.error.detail}`);
    parsedRows = parsed.rows.length;
    rowErrors = parsed.errors.length;
    pupils = parsed.ctf.pupils.length;
  });
  if (parsedRows !== rows.length)
    throw new Error(`bench: the CTF gave ${parsedRows} rows back, ${rows.length} were written`);
  return { ...throughput(1, xml.length, parsedRows, rowErrors, runs, secondsPerRun), urn: school.urn, pupils };
}
