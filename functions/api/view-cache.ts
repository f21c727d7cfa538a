/**
 * Per-process copies of the materialised figures, refreshed when their version pointer moves. A warm
 * API Lambda answers LA-wide metrics from memory after one small DynamoDB read. The LA aggregate's
 * size does not grow with the pupils (docs/design.md §3); the LA lists are DynamoDB pages, never held.
 */
import { LIMITS } from '../../shared/config.js';
import type { LaView } from '../../shared/domain/la-view.js';
import type { SchoolView } from '../../shared/domain/school-view.js';
import { VersionedCache } from '../../shared/lib/versioned-cache.js';
import { getLaView, getLaViewPointer, getSchoolView, getSchoolViewPointer } from '../../shared/store/views.js';

type CurrentLaView = LaView & { version: number; listCounts: Record<string, number> };

// A view read after its pointer may be newer than the pointer said: it answers any pointer up to its own version.
const newEnough = (held: number, wanted: number) => held >= wanted;
const la = new VersionedCache<number, CurrentLaView, number>({ capacity: LIMITS.maxCachedYears, current: newEnough });
const schools = new VersionedCache<string, SchoolView & { version: number }, number>({
  capacity: LIMITS.maxCachedSchoolViews,
  current: newEnough,
});

const asLoaded = <V extends { version: number }>(view: V | undefined) =>
  view ? { value: view, version: view.version } : undefined;

export async function currentLaView(year: number): Promise<CurrentLaView | undefined> {
  const pointer = await getLaViewPointer(year);
  if (!pointer) return undefined;
  return la.get(year, pointer.version, async () => asLoaded(await getLaView(year)));
}

export async function currentSchoolView(
  urn: string,
  year: number,
): Promise<(SchoolView & { version: number }) | undefined> {
  const pointer = await getSchoolViewPointer(urn, year);
  if (!pointer) return undefined;
  return schools.get(`${year}#${urn}`, pointer.version, async () => asLoaded(await getSchoolView(urn, year)));
}
