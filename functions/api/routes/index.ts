/** Every API route, in one list (the router and the OpenAPI document both read it). */
import type { RouteDef } from '../http.js';
import { auditRoutes } from './audit.js';
import { calendarRoutes } from './calendars.js';
import { cohortRoutes } from './cohorts.js';
import { docRoutes } from './docs.js';
import { identityReviewRoutes } from './identity-reviews.js';
import { dutyRoutes } from './duties.js';
import { metricsRoutes } from './metrics.js';
import { notificationRoutes } from './notifications.js';
import { patternRoutes } from './patterns.js';
import { penaltyNoticeRoutes } from './penalty-notices.js';
import { pupilRoutes } from './pupils.js';
import { referenceRoutes } from './reference.js';
import { referralRoutes } from './referrals.js';
import { registryRoutes } from './registry.js';
import { returnRoutes } from './returns.js';
import { schoolRoutes } from './schools.js';
import { virtualSchoolRoutes } from './virtual-school.js';

export const allRoutes: RouteDef[] = [
  ...docRoutes,
  ...returnRoutes,
  ...pupilRoutes,
  ...metricsRoutes,
  ...schoolRoutes,
  ...calendarRoutes,
  ...registryRoutes,
  ...cohortRoutes,
  ...auditRoutes,
  ...virtualSchoolRoutes,
  ...referralRoutes,
  ...patternRoutes,
  ...referenceRoutes,
  ...identityReviewRoutes,
  ...dutyRoutes,
  ...penaltyNoticeRoutes,
  ...notificationRoutes,
];
