/**
 * Per-process copies of the materialised figures, refreshed when their version pointer moves. A warm
 * API Lambda answers LA-wide metrics from memory after one small DynamoDB read. The LA aggregate's
 * size does not grow with the pupils (docs/design.md §3); the LA lists are DynamoDB pages, never held.
 */
import { LIMITS } from '../../shared/config.js';
import type { LaView } from '../../shared/domain/la-view.js';
import type { SchoolView } from '../../shared/domain/school-view.js';
import { getLaView, getLaViewPointer, getSchoolView, getSchoolViewPointer } from '../../shared/store/views.js';
import { LruCache } from './lru.js';

export type CurrentLaView = LaView & { version: number; listCounts: Record<string, number> };

// Bounded (issue 15): least recently used dropped first.
const la = new LruCache<number, CurrentLaView>(LIMITS.maxCachedYears);
const schools = new LruCache<string, SchoolView & { version: number }>(LIMITS.maxCachedSchoolViews);

export async function currentLaView(year: number): Promise<CurrentLaView | undefined> {
  const pointer = await getLaViewPointer(year);
  if (!pointer) return undefined;
  const held = la.get(year);
  if (held && held.version >= pointer.version) return held;
  const view = await getLaView(year);
  if (view) la.set(year, view);
  return view;
}

export async function currentSchoolView(
  urn: string,
  year: number,
): Promise<(SchoolView & { version: number }) | undefined> {
  const pointer = await getSchoolViewPointer(urn, year);
  if (!pointer) return undefined;
  const key = `${year}#${urn}`;
  const held = schools.get(key);
  if (held && held.version >= pointer.version) return held;
  const view = await getSchoolView(urn, year);
  if (view) schools.set(key, view);
  return view;
}
