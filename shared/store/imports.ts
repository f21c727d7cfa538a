/**
 * Imports of LA lists (social-care cohorts, the school registry): the raw files as received, and a
 * record of each import with its per-record report, so an officer can see what loaded and why
 * other records did not.
 */
import { resourceName } from '../config.js';
import { putBlob } from './blobs.js';
import { k, paths } from './keys.js';
import { getItem, putItem } from './table.js';

export interface ImportRecord {
  importId: string;
  kind: 'cohorts' | 'registry' | 'calendar';
  format: string;
  importedAt: string;
  importedBy: { sub: string; role: string };
  files: string[];
  counts: { records: number; accepted: number; rejected: number };
  errors: Array<{ file?: string; line: number; field: string; code: string; message: string; record?: string }>;
  errorsTruncated: boolean;
  /** Pupils whose cohort membership changed, and the school-years queued for recomputation. */
  changedPupils?: number;
  refreshed?: number;
}

function bucket(): string {
  return resourceName('registersBucket');
}

/** Keep an uploaded file exactly as received (nothing received is ever discarded). */
export async function keepImportFile(importId: string, name: string, body: Buffer, contentType: string): Promise<string> {
  const key = paths.importFile(importId, name);
  await putBlob(bucket(), key, body, contentType);
  return key;
}

export async function putImport(record: ImportRecord): Promise<void> {
  await putItem({ ...k.importItem(record.importId), gsi1pk: k.importsIndex, gsi1sk: `${record.importedAt}#${record.importId}`, ...record });
}

export async function getImport(importId: string): Promise<ImportRecord | undefined> {
  const item = await getItem<ImportRecord & { pk: string; sk: string }>(k.importItem(importId));
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, ...rest } = item as ImportRecord & { pk: string; sk: string; gsi1pk?: string; gsi1sk?: string };
  delete (rest as { gsi1pk?: string }).gsi1pk;
  delete (rest as { gsi1sk?: string }).gsi1sk;
  return rest;
}
