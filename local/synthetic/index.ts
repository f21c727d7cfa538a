/**
 * The synthetic local authority: `generateLa(options)` writes a whole LA (registry, calendars,
 * social-care lists, daily returns, corrections, manifest, ground truth) deterministically from a
 * seed. See docs/synthetic-la.md.
 */
export { generateLa, RETURN_COLUMNS } from './generate.js';
export type {
  GenerateOptions,
  GenerateProgress,
  GenerateSummary,
  ManifestFile,
  ManifestSetup,
  ManifestRole,
} from './generate.js';
export type { Behaviour, BackgroundEvent, FlagName, GroundTruthMark } from './behaviours.js';
export { PLANTED_COUNTS } from './behaviours.js';
