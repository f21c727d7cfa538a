/**
 * The API Lambda's composition (docs/design.md §3): the use cases' ports wired once, to the stores,
 * and to the API's own read models where a use case needs them. Routes hand this to the use cases.
 */
import { configuredSettings, storedFiles, storedPupils, storedReturns, storedSchools } from '../../shared/app/wiring.js';
import { pupilDutyFields } from './routes/duties.js';

export const app = {
  returns: storedReturns,
  files: storedFiles,
  schools: storedSchools,
  pupils: storedPupils,
  ...configuredSettings,
  duties: { fieldsFor: pupilDutyFields },
};
