/**
 * The LA's social-care episodes (looked after, in need, protection plans, previously looked after),
 * one document per source list. An import of a source replaces that source's episodes: SSDA903 and
 * the CIN census are complete returns, not deltas.
 */
import { randomBytes } from 'node:crypto';
import { resourceName } from '../config.js';
import type { CareEpisodeSpan } from '../domain/cohorts.js';
import { isLookedAfterOn } from '../domain/virtual-school.js';
import { VersionedCache } from '../lib/versioned-cache.js';
import { getJson, putJson } from './blobs.js';
import { k, paths } from './keys.js';
import { getItem, putItem } from './table.js';

const CARE_SOURCES = ['ssda903', 'cin_census', 'cohort_csv'] as const;
export type CareSource = (typeof CARE_SOURCES)[number];

export interface StoredCareEpisode extends CareEpisodeSpan {
  upn: string;
  source: CareSource;
  ref: string;
}

export interface CareDocument {
  source: CareSource;
  importId: string;
  importedAt: string;
  episodes: StoredCareEpisode[];
}

function bucket(): string {
  return resourceName('registersBucket');
}

/** The document, then a new version stamp: a reader that sees the new stamp finds the document written. */
export async function putCareDocument(doc: CareDocument): Promise<void> {
  await putJson(bucket(), paths.care(doc.source), doc);
  await putItem({ ...k.careVersion, stamp: newStamp(), updatedAt: new Date().toISOString() });
}

const newStamp = () => randomBytes(9).toString('base64url');

export async function getCareDocument(source: CareSource): Promise<CareDocument | undefined> {
  return (await getJson<CareDocument>(bucket(), paths.care(source)))?.value;
}

export type CareIndex = ReadonlyMap<string, readonly CareEpisodeSpan[]>;

/**
 * Held per process (shared/lib/versioned-cache.ts) under the version stamp every import moves:
 * whether the copy held is current is one small DynamoDB read (a pupil view and a list page ask for
 * it). Lists never imported have no stamp, and are held as none until the first import writes one.
 */
const held = new VersionedCache<'index', Map<string, CareEpisodeSpan[]>, string>({ capacity: 1 });

/** Every source's episodes, by UPN. */
export async function loadCareIndex(): Promise<CareIndex> {
  const stamp = (await getItem<{ stamp?: string }>(k.careVersion))?.stamp ?? 'none';
  const index = await held.get('index', stamp, async () => {
    // Read after the stamp: what is loaded is at least as new as the stamp it is kept under.
    const docs = await Promise.all(CARE_SOURCES.map((s) => getCareDocument(s)));
    const byUpn = new Map<string, CareEpisodeSpan[]>();
    for (const doc of docs) {
      for (const e of doc?.episodes ?? []) {
        let list = byUpn.get(e.upn);
        if (!list) byUpn.set(e.upn, (list = []));
        list.push({ cohort: e.cohort, start: e.start, end: e.end });
      }
    }
    return { value: byUpn, version: stamp };
  });
  return index as CareIndex;
}

export function resetCareCache(): void {
  held.clear();
}

/**
 * Which of these pupils the LA looks after on `date`, by its own lists only: what a school is told of
 * its pupils' social-care record, and nothing more (issue 20; docs/duties.md).
 */
export async function lookedAfterAmong(
  upns: Iterable<string> | PromiseLike<Iterable<string>>,
  date: string,
): Promise<Set<string>> {
  // The index (its stamp: one small read) while the caller's pupils are still being found.
  const [care, wanted] = await Promise.all([loadCareIndex(), upns]);
  const out = new Set<string>();
  for (const upn of wanted) if (isLookedAfterOn(care.get(upn) ?? [], date)) out.add(upn);
  return out;
}
