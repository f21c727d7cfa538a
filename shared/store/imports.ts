/**
 * Imports of LA lists (social-care cohorts, the school registry): the raw files as received, and a
 * record of each import with its per-record report, so an officer can see what loaded and why
 * other records did not.
 */
import { resourceName } from '../config.js';
import { putBlob } from './blobs.js';
import { k, paths } from './keys.js';
import { putItem } from './table.js';

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
export async function keepImportFile(
  importId: string,
  name: string,
  body: Buffer,
  contentType: string,
): Promise<string> {
  const key = paths.importFile(importId, name);
  await putBlob(bucket(), key, body, contentType);
  return key;
}

export async function putImport(record: ImportRecord): Promise<void> {
  await putItem({
    ...k.importItem(record.importId),
    gsi1pk: k.importsIndex,
    gsi1sk: `${record.importedAt}#${record.importId}`,
    ...record,
  });
}
