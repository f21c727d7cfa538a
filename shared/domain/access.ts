/**
 * Who may do and see what (DESIGN §4). The one place that decides access; handlers ask it and map
 * "no" to 403 (an action the role never has) or 404 (data outside the caller's scope, so that its
 * existence is not revealed).
 */
import { VIRTUAL_SCHOOL_COHORTS } from './cohorts.js';

export const ROLES = ['school', 'la_officer', 'vsh', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  sub: string;
  role: Role;
  /** The LA the token was issued for. */
  la: string;
  /** School tokens only. */
  urn?: string;
}

export type Capability =
  | 'upload_return'
  | 'read_return'
  | 'read_pupil'
  | 'list_pupils'
  | 'read_metrics'
  | 'read_schools'
  | 'import_cohorts'
  | 'manage_calendars'
  | 'manage_registry'
  | 'read_audit'
  | 'run_patterns'
  | 'read_patterns'
  | 'create_referral'
  | 'read_referrals'
  | 'work_referrals'
  | 'read_data_quality'
  | 'read_enforcement';

/**
 * Capabilities by role. The admin role administers the service (calendars, registry, audit,
 * detector runs) and deliberately has no access to pupil-level data.
 */
const CAPABILITIES: Readonly<Record<Role, ReadonlySet<Capability>>> = {
  school: new Set<Capability>([
    'upload_return', 'read_return', 'read_pupil', 'list_pupils', 'read_metrics', 'read_schools', 'create_referral', 'read_referrals', 'read_data_quality',
  ]),
  la_officer: new Set<Capability>([
    'upload_return', 'read_return', 'read_pupil', 'list_pupils', 'read_metrics', 'read_schools', 'import_cohorts',
    'read_patterns', 'create_referral', 'read_referrals', 'work_referrals', 'read_data_quality', 'read_enforcement',
  ]),
  vsh: new Set<Capability>(['upload_return', 'read_return', 'read_pupil', 'list_pupils', 'read_metrics', 'read_schools', 'read_patterns', 'create_referral', 'read_referrals']),
  // No read_return: a return's row errors name pupils by UPN, and the admin role holds no pupil data.
  admin: new Set<Capability>(['read_schools', 'import_cohorts', 'manage_calendars', 'manage_registry', 'read_audit', 'run_patterns']),
};

export function can(p: Principal, capability: Capability): boolean {
  return CAPABILITIES[p.role].has(capability);
}

export function isRole(s: unknown): s is Role {
  return typeof s === 'string' && (ROLES as readonly string[]).includes(s);
}

/** Whether the principal may send a return for this school. */
export function mayUploadFor(p: Principal, school: { urn: string; outOfArea?: boolean }): boolean {
  switch (p.role) {
    case 'school':
      return p.urn === school.urn;
    case 'vsh':
      // The Virtual School uploads for schools outside the LA, which never send us registers.
      return school.outOfArea === true;
    case 'la_officer':
      return true;
    default:
      return false;
  }
}

/** Cohorts a pupil must have been in (at any time in the period) for the Virtual School to see them. */
export const VSH_SCOPE_COHORTS: readonly string[] = ['cla', 'plac', 'cin', 'cpp'];

export function inVirtualSchool(everCohorts: readonly string[]): boolean {
  return everCohorts.some((c) => VSH_SCOPE_COHORTS.includes(c));
}

/**
 * Whether the principal may read a pupil, given the URNs of the pupil's enrolments and the cohorts
 * the pupil was in at any time in the period.
 */
export function mayReadPupil(p: Principal, pupil: { urns: readonly string[]; everCohorts: readonly string[] }): boolean {
  switch (p.role) {
    case 'school':
      return p.urn !== undefined && pupil.urns.includes(p.urn);
    case 'vsh':
      return inVirtualSchool(pupil.everCohorts);
    case 'la_officer':
      return true;
    default:
      return false;
  }
}

/** Cohort filters a Virtual School Head may ask metrics for. */
export function mayReadCohortMetrics(p: Principal, cohort: string): boolean {
  if (p.role !== 'vsh') return true;
  return (VIRTUAL_SCHOOL_COHORTS as readonly string[]).includes(cohort);
}

/**
 * A school's data-quality list (unresolved N, naming pupils): the school sees its own only; an LA
 * officer every school's (issue 22). Other roles never have `read_data_quality`.
 */
export function mayReadSchoolDataQuality(p: Principal, urn: string): boolean {
  if (p.role === 'school') return p.urn === urn;
  return p.role === 'la_officer';
}

/** Metrics scope: a school sees its own school only. */
export function mayReadSchoolMetrics(p: Principal, urn: string | undefined, scope: 'la' | 'school'): boolean {
  if (p.role === 'school') return scope === 'school' && urn === p.urn;
  return true;
}
