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
import { LruCache, VersionedCache } from '../lib/versioned-cache.js';
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
 * Per process (shared/lib/versioned-cache.ts), each school's document as last read, per academic year
 * (at most LIMITS.maxCachedYears years), under two versions: the ETag it was read with and the
 * version stamp its write left. An LA-wide read costs one S3 LIST (a page holds 1,000 schools: one
 * request for any English LA) plus a GET of each document whose listed ETag moved, not a GET of every
 * school's document, so the ingest writes nothing extra for it. One school's read (a pupil view asks
 * for each of the pupil's schools) checks the stamp: one small DynamoDB read, which goes in the same
 * batch as the view's other reads (shared/store/table.ts).
 */
type Seen = { etag?: string; stamp?: string };
const sameDocument = (held: Seen, wanted: Seen) =>
  (wanted.stamp !== undefined && held.stamp === wanted.stamp) ||
  (wanted.etag !== undefined && wanted.etag !== '' && held.etag === wanted.etag);
const held = new LruCache<number, VersionedCache<string, SchoolDuties, Seen>>(LIMITS.maxCachedYears);

function heldYear(academicYear: number): VersionedCache<string, SchoolDuties, Seen> {
  let year = held.get(academicYear);
  if (!year)
    held.set(academicYear, (year = new VersionedCache({ capacity: LIMITS.maxCachedSchools, current: sameDocument })));
  return year;
}

async function readDuties(urn: string, academicYear: number, stamp?: string) {
  const read = await getJson<SchoolDuties>(bucket(), paths.schoolDuties(academicYear, urn));
  return read ? { value: read.value, version: { etag: read.etag ?? '', stamp } } : undefined;
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
  for (const u of [...year.keys()]) if (!listed.has(u)) year.delete(u);
  const docs = new Map<string, SchoolDuties>();
  await inParallel([...listed], 16, async ([u, etag]) => {
    const doc = await year.get(u, { etag }, () => readDuties(u, academicYear));
    if (doc) docs.set(u, doc);
  });
  return [...docs.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, doc]) => doc);
}

/** For tests: forget the documents held. */
export function resetSchoolDutiesCache(): void {
  held.clear();
}

/** One school's document: the copy held when its stamp is current, else read from S3 (read after the stamp). */
async function oneSchoolDuties(urn: string, academicYear: number): Promise<SchoolDuties[]> {
  const stamp = (await getItem<{ stamp?: string }>(k.schoolDutiesVersion(urn, academicYear)))?.stamp;
  const doc = await heldYear(academicYear).get(urn, { stamp }, () => readDuties(urn, academicYear, stamp));
  return doc ? [doc] : [];
}
