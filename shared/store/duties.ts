/**
 * A school's admission-register duties per academic year (issue 20), one gzipped JSON object each:
 * what the LA was told and when (the notices, kept by ingest), and what follows from them and the
 * register (new entries, deletions, part-time timetables), recomputed on every return. Written only
 * by the school's ingest, which runs one return at a time per school (the FIFO group is the URN).
 */
import { resourceName } from '../config.js';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Deletion, NewEntry, RollNotices } from '../domain/admission-register.js';
import type { PartTimeTimetable } from '../domain/part-time-timetables.js';
import { getJson, putJson } from './blobs.js';
import { s3Client } from './clients.js';
import { paths } from './keys.js';
import { inParallel } from './table.js';

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

export async function putSchoolDuties(doc: SchoolDuties): Promise<void> {
  await putJson(bucket(), paths.schoolDuties(doc.academicYear, doc.urn), doc);
}

/** Every school's duties for the year (or only `urn`'s). */
export async function listSchoolDuties(academicYear: number, urn?: string): Promise<SchoolDuties[]> {
  if (urn !== undefined) {
    const one = await getSchoolDuties(urn, academicYear);
    return one ? [one] : [];
  }
  const urns: string[] = [];
  let token: string | undefined;
  do {
    const res = await s3Client().send(new ListObjectsV2Command({ Bucket: bucket(), Prefix: paths.schoolDutiesPrefix(academicYear), ContinuationToken: token }));
    for (const o of res.Contents ?? []) {
      const m = /\/([^/]+)\.json\.gz$/.exec(o.Key ?? '');
      if (m) urns.push(m[1]);
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  const docs: SchoolDuties[] = [];
  await inParallel(urns.sort(), 16, async (u) => {
    const doc = await getSchoolDuties(u, academicYear);
    if (doc) docs.push(doc);
  });
  return docs.sort((a, b) => (a.urn < b.urn ? -1 : 1));
}
