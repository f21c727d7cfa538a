/**
 * The LA's social-care episodes (looked after, in need, protection plans, previously looked after),
 * one document per source list. An import of a source replaces that source's episodes: SSDA903 and
 * the CIN census are complete returns, not deltas.
 */
import { randomBytes } from 'node:crypto';
import { resourceName } from '../config.js';
import type { CareEpisodeSpan } from '../domain/cohorts.js';
import { isLookedAfterOn } from '../domain/virtual-school.js';
import { getJson, headBlob, putJson } from './blobs.js';
import { k, paths } from './keys.js';
import { getItem, isConditionFailure, putItem } from './table.js';

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
 * Cached per process. Whether the copy held is current is one small DynamoDB read of the version
 * stamp every import moves (a pupil view and a list page ask for it; three S3 HEADs a request
 * before); the documents' ETags then say which changed. Lists stored before the stamp existed get
 * one (conditionally: an import's own stamp wins), so a warm Lambda re-reads only after an import.
 */
let cached: { stamp?: string; tags: string; index: Map<string, CareEpisodeSpan[]> } | undefined;

/** Every source's episodes, by UPN. */
export async function loadCareIndex(): Promise<CareIndex> {
  const version = await getItem<{ stamp?: string }>(k.careVersion);
  if (version?.stamp && cached?.stamp === version.stamp) return cached.index;
  // Read after the stamp: what is loaded is at least as new as the stamp it is kept under.
  const heads = await Promise.all(CARE_SOURCES.map((s) => headBlob(bucket(), paths.care(s))));
  const tags = heads.map((h) => h?.etag ?? '-').join('|');
  const stamp = version?.stamp ?? (await firstStamp());
  if (cached && cached.tags === tags) {
    cached = { ...cached, stamp };
    return cached.index;
  }
  const index = new Map<string, CareEpisodeSpan[]>();
  const docs = await Promise.all(
    CARE_SOURCES.map((s, i) => (heads[i] ? getCareDocument(s) : Promise.resolve(undefined))),
  );
  for (const doc of docs) {
    for (const e of doc?.episodes ?? []) {
      let list = index.get(e.upn);
      if (!list) index.set(e.upn, (list = []));
      list.push({ cohort: e.cohort, start: e.start, end: e.end });
    }
  }
  cached = { stamp, tags, index };
  return index;
}

/** A stamp for lists that have none yet; undefined (nothing kept by stamp) if an import set one meanwhile. */
async function firstStamp(): Promise<string | undefined> {
  const stamp = newStamp();
  try {
    await putItem(
      { ...k.careVersion, stamp, updatedAt: new Date().toISOString() },
      { expression: 'attribute_not_exists(pk)' },
    );
    return stamp;
  } catch (err) {
    if (isConditionFailure(err)) return undefined;
    throw err;
  }
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
