/**
 * A school's admission-register duties per academic year (issue 20), one gzipped JSON object each:
 * what the LA was told and when (the notices, kept by ingest), and what follows from them and the
 * register (new entries, deletions, part-time timetables), recomputed on every return. Written only
 * by the school's ingest, which runs one return at a time per school (the FIFO group is the URN).
 */
import { randomBytes } from 'node:crypto';
import { resourceName } from '../config.js';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Deletion, NewEntry, RollNotices } from '../domain/admission-register.js';
import type { PartTimeTimetable } from '../domain/part-time-timetables.js';
import { LIMITS } from '../config.js';
import { getJson, putJson } from './blobs.js';
import { s3Client } from './clients.js';
import { k, paths } from './keys.js';
import { getItem, inParallel, putItem } from './table.js';

export interface SchoolDuties {
  urn: string;
  academicYear: number;
  /** The first date any register the service holds lists a pupil at this school. */
  heldFrom: string;
  /** Pupils on the year before's register with no leaving date (not new entries). */
  continuing: string[];
  notices: RollNotices;
  entries: NewEntry[];
  deletions: Deletion[];
  partTimeTimetables: PartTimeTimetable[];
  computedAt: string;
}

function bucket(): string {
  return resourceName('registersBucket');
}

export async function getSchoolDuties(urn: string, academicYear: number): Promise<SchoolDuties | undefined> {
  return (await getJson<SchoolDuties>(bucket(), paths.schoolDuties(academicYear, urn)))?.value;
}

/** The document, then a new version stamp: a reader that sees the new stamp finds the document written. */
export async function putSchoolDuties(doc: SchoolDuties): Promise<void> {
  await putJson(bucket(), paths.schoolDuties(doc.academicYear, doc.urn), doc);
  await putItem({
    ...k.schoolDutiesVersion(doc.urn, doc.academicYear),
    stamp: randomBytes(9).toString('base64url'),
    updatedAt: new Date().toISOString(),
  });
}

/**
 * Per process, each school's document as last read with its ETag, per academic year (at most
 * LIMITS.maxCachedYears years). An LA-wide read then costs one S3 LIST (a page holds 1,000 schools:
 * one request for any English LA) plus a GET of each document that changed since, not a GET of every
 * school's document: the ETag in the listing is the version check, so the ingest writes nothing extra.
 */
type Held = { etag: string; doc: SchoolDuties; stamp?: string };
const held = new Map<number, Map<string, Held>>();

function heldYear(academicYear: number): Map<string, Held> {
  let year = held.get(academicYear);
  if (!year) {
    held.set(academicYear, (year = new Map()));
    // Oldest year first out (Map keeps insertion order).
    while (held.size > LIMITS.maxCachedYears) held.delete(held.keys().next().value as number);
  }
  return year;
}

/** Every school's duties for the year (or only `urn`'s). */
export async function listSchoolDuties(academicYear: number, urn?: string): Promise<SchoolDuties[]> {
  if (urn !== undefined) return oneSchoolDuties(urn, academicYear);
  const listed = new Map<string, string>();
  let token: string | undefined;
  do {
    const res = await s3Client().send(
      new ListObjectsV2Command({
        Bucket: bucket(),
        Prefix: paths.schoolDutiesPrefix(academicYear),
        ContinuationToken: token,
      }),
    );
    for (const o of res.Contents ?? []) {
      const u = paths.parseSchoolDuties(o.Key ?? '');
      if (u !== undefined) listed.set(u, o.ETag ?? '');
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  const year = heldYear(academicYear);
  for (const u of year.keys()) if (!listed.has(u)) year.delete(u);
  const changed = [...listed].filter(([u, etag]) => etag === '' || year.get(u)?.etag !== etag).map(([u]) => u);
  await inParallel(changed, 16, async (u) => {
    const read = await getJson<SchoolDuties>(bucket(), paths.schoolDuties(academicYear, u));
    if (read) year.set(u, { etag: read.etag ?? '', doc: read.value });
    else year.delete(u);
  });
  return [...year.entries()]
    .filter(([u]) => listed.has(u))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, h]) => h.doc);
}

/** For tests: forget the documents held. */
export function resetSchoolDutiesCache(): void {
  held.clear();
}

/**
 * One school's document (a pupil view asks for each of the pupil's schools): the copy held, when the
 * version stamp its last write left says it is current — one small DynamoDB read, which goes in the
 * same batch as the view's other reads (shared/store/table.ts) — else read from S3. Documents
 * written before the stamp existed are read every time until their school's next return writes one.
 */
async function oneSchoolDuties(urn: string, academicYear: number): Promise<SchoolDuties[]> {
  const year = heldYear(academicYear);
  const version = await getItem<{ stamp?: string }>(k.schoolDutiesVersion(urn, academicYear));
  const mine = year.get(urn);
  if (version?.stamp && mine?.stamp === version.stamp) return [mine.doc];
  // Read after the stamp: what is held is at least as new as the stamp it is kept under.
  const read = await getJson<SchoolDuties>(bucket(), paths.schoolDuties(academicYear, urn));
  if (!read) {
    year.delete(urn);
    return [];
  }
  year.set(urn, { etag: read.etag ?? '', doc: read.value, ...(version?.stamp ? { stamp: version.stamp } : {}) });
  return [read.value];
}
