/**
 * The API Lambda's composition (docs/design.md §3): the use cases' ports wired once, to the stores,
 * and to the API's own read models where a use case needs them. Routes hand this to the use cases.
 */
import { configuredSettings, ingestQueue, storedCalendars, storedRegistry, storedCareLists, storedFiles, storedImports, storedPatternFindings, storedPupils, storedReferrals, storedReturns, storedSchools } from '../../shared/app/wiring.js';
import type { Registers, Views } from '../../shared/app/ports.js';
import { cellsForPeriod, pupilRowsForPeriod } from './any-period.js';
import { pupilDutyFields, withChildrenMissingEducation } from './routes/duties.js';
import { currentLaPupils, currentLaView, currentSchoolView, laPupilsWithFlag } from './view-cache.js';

/** The views as this instance holds them (refreshed when their version pointer moves). */
const views: Views = { laView: currentLaView, schoolView: currentSchoolView, laPupils: currentLaPupils, laPupilsWithFlag };

/** Any other period, from the registers this instance holds. */
const registers: Registers = { cellsForPeriod, pupilRowsForPeriod };

export const app = {
  returns: storedReturns,
  files: storedFiles,
  schools: storedSchools,
  pupils: storedPupils,
  referrals: storedReferrals,
  patterns: storedPatternFindings,
  careLists: storedCareLists,
  imports: storedImports,
  calendars: storedCalendars,
  registry: storedRegistry,
  ingest: ingestQueue,
  ...configuredSettings,
  duties: { fieldsFor: pupilDutyFields },
  missingEducation: { withChildrenMissingEducation },
  views,
  registers,
};
