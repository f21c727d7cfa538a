/**
 * Materialised views (school and LA figures, LA pupil lists) in S3, with small version pointers in
 * DynamoDB so readers can tell cheaply whether the copy they hold is current.
 */
import type { LaView } from '../domain/la-view.js';
import type { PupilRow, SchoolView } from '../domain/school-view.js';
import { getJson, putJson } from './blobs.js';
import { k, paths } from './keys.js';
import { getItem, putItem, queryAll } from './table.js';

function bucket(): string {
  const b = process.env.REGISTERS_BUCKET;
  if (!b) throw new Error('environment variable REGISTERS_BUCKET is not set');
  return b;
}

export interface ViewPointer {
  urn?: string;
  academicYear: number;
  version: number;
  updatedAt: string;
}

const viewsIndex = (year: number) => `VIEWS#${year}`;

export async function putSchoolView(view: SchoolView, version: number): Promise<void> {
  await putJson(bucket(), paths.schoolView(view.academicYear, view.urn), { ...view, version });
  await putItem({
    ...k.schoolView(view.urn, view.academicYear),
    gsi1pk: viewsIndex(view.academicYear),
    gsi1sk: view.urn,
    urn: view.urn,
    academicYear: view.academicYear,
    version,
    updatedAt: new Date().toISOString(),
  });
}

export async function getSchoolViewPointer(urn: string, year: number): Promise<ViewPointer | undefined> {
  return getItem<ViewPointer>(k.schoolView(urn, year));
}

export async function listSchoolViewPointers(year: number): Promise<ViewPointer[]> {
  return queryAll<ViewPointer>({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :pk',
    ExpressionAttributeValues: { ':pk': viewsIndex(year) },
  });
}

export async function getSchoolView(urn: string, year: number): Promise<(SchoolView & { version: number }) | undefined> {
  return (await getJson<SchoolView & { version: number }>(bucket(), paths.schoolView(year, urn)))?.value;
}

export interface LaPupils {
  academicYear: number;
  version: number;
  rows: PupilRow[];
}

export async function putLaView(view: LaView, pupils: PupilRow[], version: number): Promise<void> {
  await putJson(bucket(), paths.laView(view.academicYear), { ...view, version });
  await putJson(bucket(), paths.pupilsView(view.academicYear), { academicYear: view.academicYear, version, rows: pupils } satisfies LaPupils);
  await putItem({ ...k.laView(view.academicYear), academicYear: view.academicYear, version, updatedAt: new Date().toISOString() });
}

export async function getLaViewPointer(year: number): Promise<ViewPointer | undefined> {
  return getItem<ViewPointer>(k.laView(year));
}

export async function getLaView(year: number): Promise<(LaView & { version: number }) | undefined> {
  return (await getJson<LaView & { version: number }>(bucket(), paths.laView(year)))?.value;
}

export async function getLaPupils(year: number): Promise<LaPupils | undefined> {
  return (await getJson<LaPupils>(bucket(), paths.pupilsView(year)))?.value;
}
