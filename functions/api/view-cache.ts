/**
 * Per-process copies of the materialised views, refreshed when their version pointer moves. A warm
 * API Lambda answers LA-wide reads from memory after one small DynamoDB read.
 */
import { LIMITS } from '../../shared/config.js';
import type { LaView } from '../../shared/domain/la-view.js';
import type { PupilRow, SchoolView } from '../../shared/domain/school-view.js';
import {
  getLaPupils,
  getLaView,
  getLaViewPointer,
  getSchoolView,
  getSchoolViewPointer,
  type LaPupils,
} from '../../shared/store/views.js';
import { LruCache } from './lru.js';

// Bounded (issue 15): least recently used dropped first.
const la = new LruCache<number, LaView & { version: number }>(LIMITS.maxCachedYears);
const pupils = new LruCache<number, LaPupils>(LIMITS.maxCachedYears);
const schools = new LruCache<string, SchoolView & { version: number }>(LIMITS.maxCachedSchoolViews);

export async function currentLaView(year: number): Promise<(LaView & { version: number }) | undefined> {
  const pointer = await getLaViewPointer(year);
  if (!pointer) return undefined;
  const held = la.get(year);
  if (held && held.version >= pointer.version) return held;
  const view = await getLaView(year);
  if (view) la.set(year, view);
  return view;
}

export async function currentLaPupils(year: number): Promise<LaPupils | undefined> {
  const pointer = await getLaViewPointer(year);
  if (!pointer) return undefined;
  const held = pupils.get(year);
  if (held && held.version >= pointer.version) return held;
  const doc = await getLaPupils(year);
  if (doc) pupils.set(year, doc);
  return doc;
}

const flagged = new WeakMap<LaPupils, Map<string, PupilRow[]>>();

/** The rows of an LA pupil list carrying a flag (worst first, as held), worked out once per version. */
export function laPupilsWithFlag(doc: LaPupils, flag: string): PupilRow[] {
  let byFlag = flagged.get(doc);
  if (!byFlag) flagged.set(doc, (byFlag = new Map()));
  let rows = byFlag.get(flag);
  if (!rows) byFlag.set(flag, (rows = doc.rows.filter((r) => r.flags.some((f) => f.type === flag))));
  return rows;
}

export async function currentSchoolView(urn: string, year: number): Promise<(SchoolView & { version: number }) | undefined> {
  const pointer = await getSchoolViewPointer(urn, year);
  if (!pointer) return undefined;
  const key = `${year}#${urn}`;
  const held = schools.get(key);
  if (held && held.version >= pointer.version) return held;
  const view = await getSchoolView(urn, year);
  if (view) schools.set(key, view);
  return view;
}
