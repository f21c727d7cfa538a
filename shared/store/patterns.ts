/**
 * Threshold-gaming findings as flags on a pupil: written by the patterns run for each pupil it
 * flags, tagged with the run, and shown only while that run is the latest.
 */
import type { PupilFlag } from '../domain/pupil-summary.js';
import { k } from './keys.js';
import { getItem } from './table.js';

interface PupilPatternsItem {
  runId: string;
  flags: PupilFlag[];
}

interface LatestPatternsItem {
  runId: string;
}

export async function getPupilPatternFlags(upn: string): Promise<PupilFlag[]> {
  const [item, latest] = await Promise.all([getItem<PupilPatternsItem>(k.pupilPatterns(upn), false), getItem<LatestPatternsItem>(k.latestPatterns(), false)]);
  if (!item || !latest || item.runId !== latest.runId) return [];
  return item.flags;
}
