/**
 * The LA's social-care episodes (looked after, in need, protection plans, previously looked after),
 * one document per source list. An import of a source replaces that source's episodes: SSDA903 and
 * the CIN census are complete returns, not deltas.
 */
import { resourceName } from '../config.js';
import type { CareEpisodeSpan } from '../domain/cohorts.js';
import { isLookedAfterOn } from '../domain/virtual-school.js';
import { getJson, headBlob, putJson } from './blobs.js';
import { paths } from './keys.js';

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

export async function putCareDocument(doc: CareDocument): Promise<void> {
  await putJson(bucket(), paths.care(doc.source), doc);
}

export async function getCareDocument(source: CareSource): Promise<CareDocument | undefined> {
  return (await getJson<CareDocument>(bucket(), paths.care(source)))?.value;
}

export type CareIndex = ReadonlyMap<string, readonly CareEpisodeSpan[]>;

// Cached per process, keyed by the documents' ETags, so a warm Lambda re-reads only after an import.
let cached: { tags: string; index: Map<string, CareEpisodeSpan[]> } | undefined;

/** Every source's episodes, by UPN. */
export async function loadCareIndex(): Promise<CareIndex> {
  const heads = await Promise.all(CARE_SOURCES.map((s) => headBlob(bucket(), paths.care(s))));
  const tags = heads.map((h) => h?.etag ?? '-').join('|');
  if (cached && cached.tags === tags) return cached.index;
  const index = new Map<string, CareEpisodeSpan[]>();
  const docs = await Promise.all(CARE_SOURCES.map((s, i) => (heads[i] ? getCareDocument(s) : Promise.resolve(undefined))));
  for (const doc of docs) {
    for (const e of doc?.episodes ?? []) {
      let list = index.get(e.upn);
      if (!list) index.set(e.upn, (list = []));
      list.push({ cohort: e.cohort, start: e.start, end: e.end });
    }
  }
  cached = { tags, index };
  return index;
}

export function resetCareCache(): void {
  cached = undefined;
}

/**
 * Which of these pupils the LA looks after on `date`, by its own lists only: what a school is told of
 * its pupils' social-care record, and nothing more (issue 20; docs/duties.md).
 */
export async function lookedAfterAmong(upns: Iterable<string>, date: string): Promise<Set<string>> {
  const care = await loadCareIndex();
  const out = new Set<string>();
  for (const upn of upns) if (isLookedAfterOn(care.get(upn) ?? [], date)) out.add(upn);
  return out;
}
