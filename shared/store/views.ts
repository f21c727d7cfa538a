/**
 * Materialised views in S3 (a school's figures and pupil rows; the LA aggregate and the school
 * contributions it sums), with small version pointers in DynamoDB so readers can tell cheaply whether
 * the copy they hold is current. The LA lists are DynamoDB items: shared/store/la-lists.ts.
 */
import { resourceName } from '../config.js';
import {
  laViewOf,
  type LaAggregate,
  type LaView,
  type SchoolCell,
  type SchoolContribution,
} from '../domain/la-view.js';
import type { SchoolView } from '../domain/school-view.js';
import { deleteBlob, getJson, putJson } from './blobs.js';
import { k, paths } from './keys.js';
import { batchDelete, batchPut, getItem, putItem, queryAll } from './table.js';

function bucket(): string {
  return resourceName('registersBucket');
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

export async function getSchoolView(
  urn: string,
  year: number,
): Promise<(SchoolView & { version: number }) | undefined> {
  return (await getJson<SchoolView & { version: number }>(bucket(), paths.schoolView(year, urn)))?.value;
}

/** The LA aggregate, or undefined (none yet, or one in the layout before contributions: rebuilt). */
export async function getLaAggregate(year: number): Promise<LaAggregate | undefined> {
  const doc = (await getJson<LaAggregate>(bucket(), paths.laView(year)))?.value;
  return doc && Array.isArray(doc.markedCounts) ? doc : undefined;
}

/** The aggregate, then its pointer: a reader that sees the new version finds the document written. */
export async function putLaAggregate(agg: LaAggregate): Promise<void> {
  await putJson(bucket(), paths.laView(agg.academicYear), agg);
  await putItem({
    ...k.laView(agg.academicYear),
    academicYear: agg.academicYear,
    version: agg.version,
    updatedAt: new Date().toISOString(),
  });
}

export async function getLaViewPointer(year: number): Promise<ViewPointer | undefined> {
  return getItem<ViewPointer>(k.laView(year));
}

/** The LA figures as the metrics read them (per-school cells: `listSchoolCells`). */
export async function getLaView(
  year: number,
): Promise<(LaView & { version: number; listCounts: Record<string, number> }) | undefined> {
  const agg = await getLaAggregate(year);
  return agg ? { ...laViewOf(agg), version: agg.version, listCounts: agg.listCounts } : undefined;
}

export async function getContribution(
  year: number,
  urn: string,
  version: number,
): Promise<SchoolContribution | undefined> {
  return (await getJson<SchoolContribution>(bucket(), paths.contribution(year, urn, version)))?.value;
}

/** Written under its view version and never overwritten, so a retried rollup subtracts what was added. */
export async function putContribution(c: SchoolContribution): Promise<void> {
  await putJson(bucket(), paths.contribution(c.academicYear, c.urn, c.version), c);
}

export async function deleteContribution(year: number, urn: string, version: number): Promise<void> {
  await deleteBlob(bucket(), paths.contribution(year, urn, version));
}

/** A school's per-school cells for the detailed periods that changed (`cells` undefined: remove). */
export async function putSchoolCells(
  year: number,
  urn: string,
  periods: ReadonlyArray<{ periodId: string; cells?: SchoolCell[] }>,
): Promise<void> {
  const puts = periods.filter((p) => p.cells).map((p) => ({ ...k.laBySchool(year, p.periodId, urn), cells: p.cells }));
  const deletes = periods.filter((p) => !p.cells).map((p) => k.laBySchool(year, p.periodId, urn));
  if (puts.length) await batchPut(puts);
  if (deletes.length) await batchDelete(deletes);
}

/** Every school's per-school cells for one detailed period (a groupBy school answer has a row a school). */
export async function listSchoolCells(year: number, periodId: string): Promise<SchoolCell[]> {
  const items = await queryAll<{ cells: SchoolCell[] }>({
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': k.laBySchoolPk(year, periodId) },
  });
  return items.flatMap((i) => i.cells);
}
