/**
 * Who may do and see what (docs/design.md §4). The one place that decides access; handlers ask it and map
 * "no" to 403 (an action the role never has) or 404 (data outside the caller's scope, so that its
 * existence is not revealed).
 */
import { VIRTUAL_SCHOOL_COHORTS, type Cohort } from './cohorts.js';
import type { FlagType, PupilFlag } from './pupil-summary.js';
import { identityAgrees, type PupilIdentity } from './pupil-identity.js';

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

const ALL_CAPABILITIES = [
  'upload_return',
  'read_return',
  'read_pupil',
  'list_pupils',
  'read_metrics',
  'read_schools',
  'import_cohorts',
  'manage_calendars',
  'manage_registry',
  'read_audit',
  'run_patterns',
  'read_patterns',
  'create_referral',
  'read_referrals',
  'work_referrals',
  'review_identities',
  'read_admission_register',
  'read_social_worker_absences',
  'read_data_quality',
  'read_enforcement',
  'manage_people',
  'read_outbox',
] as const;

export type Capability = (typeof ALL_CAPABILITIES)[number];

/**
 * Capabilities by role. The admin role administers the service (calendars, registry, audit,
 * detector runs) and deliberately has no access to pupil-level data.
 */
const CAPABILITIES: Readonly<Record<Role, ReadonlySet<Capability>>> = {
  school: new Set<Capability>([
    'upload_return',
    'read_return',
    'read_pupil',
    'list_pupils',
    'read_metrics',
    'read_schools',
    'create_referral',
    'read_referrals',
    'read_admission_register',
    'read_data_quality',
  ]),
  la_officer: new Set<Capability>([
    'upload_return',
    'read_return',
    'read_pupil',
    'list_pupils',
    'read_metrics',
    'read_schools',
    'import_cohorts',
    'read_patterns',
    'create_referral',
    'read_referrals',
    'work_referrals',
    'review_identities',
    'read_admission_register',
    'read_social_worker_absences',
    'read_data_quality',
    'read_enforcement',
  ]),
  vsh: new Set<Capability>([
    'upload_return',
    'read_return',
    'read_pupil',
    'list_pupils',
    'read_metrics',
    'read_schools',
    'read_patterns',
    'create_referral',
    'read_referrals',
    'read_social_worker_absences',
  ]),
  // No read_return: a return's row errors name pupils by UPN, and the admin role holds no pupil data.
  // manage_people: who gets notifications (addresses, role, school); read_outbox: what was sent, and failures.
  admin: new Set<Capability>([
    'read_schools',
    'import_cohorts',
    'manage_calendars',
    'manage_registry',
    'read_audit',
    'run_patterns',
    'manage_people',
    'read_outbox',
  ]),
};

export function can(p: Principal, capability: Capability): boolean {
  return CAPABILITIES[p.role].has(capability);
}

export function isCapability(s: unknown): s is Capability {
  return typeof s === 'string' && (ALL_CAPABILITIES as readonly string[]).includes(s);
}

/**
 * Why the caller may not use a route that needs `access` (a 403's detail), or undefined when they
 * may: the role must have the capability ('any': every role), and a school's token must name it.
 */
export function refusalOf(p: Principal, access: Capability | 'any'): string | undefined {
  if (access !== 'any' && !can(p, access)) return `The ${p.role} role may not do this.`;
  if (p.role === 'school' && !p.urn) return "A school token must carry the school's URN.";
  return undefined;
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
const VSH_SCOPE_COHORTS: readonly string[] = ['cla', 'plac', 'cin', 'cpp'];

export function inVirtualSchool(everCohorts: readonly string[]): boolean {
  return everCohorts.some((c) => VSH_SCOPE_COHORTS.includes(c));
}

/**
 * Whether the principal may read a pupil, given the URNs of the pupil's enrolments and the cohorts
 * the pupil was in at any time in the period.
 */
export function mayReadPupil(
  p: Principal,
  pupil: { urns: readonly string[]; everCohorts: readonly string[] },
): boolean {
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

/**
 * What of a pupil's record for one academic year the principal may read: every school's enrolments
 * (LA officer; the Virtual School for a child in its cohorts that year), only its own school's (a
 * school that had the child that year: its own marks and figures, never another school's; issue
 * 15), or nothing (answered 404). A read spanning years asks this for every year it returns.
 */
export type PupilReadScope = { kind: 'all' } | { kind: 'own'; urn: string } | { kind: 'none' };

export function pupilReadScope(
  p: Principal,
  pupil: { urns: readonly string[]; everCohorts: readonly string[] },
): PupilReadScope {
  if (!mayReadPupil(p, pupil)) return { kind: 'none' };
  return p.role === 'school' ? { kind: 'own', urn: p.urn as string } : { kind: 'all' };
}

/** Flags computed on a pupil's figures across all schools: a school sees its own PA/SA instead. */
const COMBINED_ATTENDANCE_FLAGS: readonly FlagType[] = [
  'persistent_absence',
  'severe_absence',
  'at_risk_pa',
  'emerging_pa',
];

/**
 * The flags a school is shown on its own pupil: only the types the LA shares with schools
 * (`flagsSharedWithSchools`), and without evidence from other schools (a flag's detail holds marks at
 * every school the child attended; a family flag keeps the child's own evidence when it is at this
 * school). Flags computed on combined figures (PA, SA, at risk, emerging PA) are shown only when this
 * school is the only one with the child that year, when they are its own figures.
 */
export function flagsForSchool(
  flags: readonly PupilFlag[],
  urn: string,
  shared: readonly string[],
  soleSchool = false,
): PupilFlag[] {
  return flags
    .filter((f) => (COMBINED_ATTENDANCE_FLAGS.includes(f.type) ? soleSchool : shared.includes(f.type)))
    .map((f) => {
      if (soleSchool) return f;
      const child = f.type === 'family_pattern' ? (f.detail.child as { urn?: unknown } | undefined) : undefined;
      if (child?.urn === urn) return f;
      return { type: f.type, since: f.since, detail: {} };
    });
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

/**
 * Whether rows a principal sends for a school may add that school's enrolment to a pupil another
 * school already holds: only when they agree with the record (docs/design.md §4 "reads only pupils with an
 * enrolment at its URN" would otherwise let any school read any child by naming its UPN; issue 15).
 * The LA's own uploads are trusted; the Virtual School's are bounded by its cohorts instead.
 */
export function mayJoinHeldPupil(p: Principal, sent: PupilIdentity, held: readonly PupilIdentity[]): boolean {
  if (p.role !== 'school') return true;
  return identityAgrees(sent, held);
}

/**
 * A school's admission-register duties (new entries, deletions, part-time timetables; issue 20): a
 * school sees its own only; LA officers every school's. Children missing education across schools
 * are for LA officers only.
 */
export function mayReadSchoolDuties(p: Principal, urn: string | undefined): boolean {
  if (p.role === 'school') return urn !== undefined && urn === p.urn;
  return p.role === 'la_officer';
}

// ---- Scope rules the API applies (issue 16: every one here, none in the routes) -------------------

/** Who did something, as stored with it (an import, a decision on a review). */
export function actorOf(p: Principal): { sub: string; role: Role } {
  return { sub: p.sub, role: p.role };
}

/** Who sent a return, as stored with it. */
export function uploaderOf(p: Principal): { sub: string; role: Role; urn: string | undefined } {
  return { sub: p.sub, role: p.role, urn: p.urn };
}

/** Who acts on a case, as its history records them (a school's URN with it). */
export function caseActorOf(p: Principal): { sub: string; role: Role; urn?: string } {
  return { sub: p.sub, role: p.role, ...(p.urn ? { urn: p.urn } : {}) };
}

/** Whether the principal is the Virtual School Head (whose uploads and lists are bounded by its cohorts). */
export function isVirtualSchool(p: Principal): boolean {
  return p.role === 'vsh';
}

/** Whether the principal may see a school's own details (a school sees itself only; every other role any). */
export function maySeeSchool(p: Principal, urn: string): boolean {
  return p.role === 'school' ? p.urn === urn : true;
}

/**
 * The school a request about one or all schools is confined to: a school's token is confined to its
 * own (naming another is "not found"); other roles get the school they asked for, or every school.
 */
export type SchoolScope = { ok: true; urn: string | undefined } | { ok: false };

export function schoolScope(p: Principal, requested: string | undefined): SchoolScope {
  if (p.role !== 'school') return { ok: true, urn: requested };
  if (requested !== undefined && requested !== p.urn) return { ok: false };
  return { ok: true, urn: p.urn };
}

/** Whether the principal reads only what its own school holds (own enrolments, own evidence, own figures). */
export function ownSchoolOf(p: Principal): string | undefined {
  return p.role === 'school' ? p.urn : undefined;
}

/**
 * A return is visible to the LA's officers and the service's administrators, to the school it is
 * kept under, and to the Virtual School user who sent it; others are told it does not exist. Who sent
 * it counts only in the role and school they sent it as: a sign-in subject keeps its `sub` when moved
 * to another school or role, and must not keep reading the old school's row errors (which name pupils).
 */
export function mayReadReturn(
  p: Principal,
  record: { urn: string; uploadedBy: { sub: string; role?: string } },
): boolean {
  switch (p.role) {
    case 'la_officer':
    case 'admin':
      return true;
    case 'school':
      return p.urn === record.urn;
    case 'vsh':
      return record.uploadedBy.sub === p.sub && record.uploadedBy.role === 'vsh';
    default:
      return false;
  }
}

/** Whose returns a principal may list: the Virtual School only those of out-of-area schools (which it sends). */
export function mayListReturnsOf(p: Principal, school: { outOfArea?: boolean } | undefined): boolean {
  return p.role === 'vsh' ? school?.outOfArea === true : true;
}

/** Whether rows a principal sends for a pupil another school holds must agree with the record first. */
export function uploadJoinsNeedIdentityCheck(p: Principal): boolean {
  return p.role === 'school';
}

/** The Virtual School's routes are for the Virtual School Head and the LA's officers. */
export function mayUseVirtualSchool(p: Principal): boolean {
  return p.role === 'vsh' || p.role === 'la_officer';
}

/**
 * Whether a principal's pupil lists are confined to the Virtual School's cohorts: a row is kept when
 * the pupil was in one of them at any time in the period.
 */
export function mayListPupil(p: Principal, pupil: { everCohorts: readonly string[] }): boolean {
  return p.role === 'vsh' ? inVirtualSchool(pupil.everCohorts) : true;
}

/** Whether a child was in a Virtual School cohort in any of the years given (a case's scope for the Virtual School). */
export function everInVirtualSchool(years: Iterable<{ everCohorts: readonly string[] }>): boolean {
  for (const y of years) if (inVirtualSchool(y.everCohorts)) return true;
  return false;
}

/**
 * Which threshold-gaming findings the principal may list: the Virtual School only findings about
 * pupils (never a school's coding) whose every pupil it holds (`held`); other roles with the
 * capability, every finding.
 */
export function mayListFinding(
  p: Principal,
  finding: { type: string; upns: readonly string[] },
  held: (upn: string) => boolean,
): boolean {
  if (p.role !== 'vsh') return true;
  return finding.type !== 'school_coding' && finding.upns.every(held);
}

/**
 * Whether a pupil's read must also consult the LA's own care lists before refusing (the Virtual
 * School, for a child whose figures show no cohort of its own: care may have begun after the last
 * register row).
 */
export function needsCareListsForScope(p: Principal, everCohorts: readonly string[]): boolean {
  return p.role === 'vsh' && !inVirtualSchool(everCohorts);
}

/**
 * Whether the principal may see a case (callers who may not get 404, never 403): LA officers every
 * case, a school its own, the Virtual School a child who was in its cohorts in any year (which the
 * caller must look up: `ever_in_virtual_school`).
 */
export function caseScope(p: Principal, r: { urn: string }): 'yes' | 'no' | 'ever_in_virtual_school' {
  switch (p.role) {
    case 'la_officer':
      return 'yes';
    case 'school':
      return p.urn === r.urn ? 'yes' : 'no';
    case 'vsh':
      return 'ever_in_virtual_school';
    default:
      return 'no';
  }
}

/** Whether the principal may refer a pupil for this school: a school its own pupils only. */
export function mayReferFor(p: Principal, urn: string): boolean {
  return p.role === 'school' ? p.urn === urn : true;
}

/**
 * Whether the principal may read facts that need other schools' rolls (children missing education
 * after a deletion, and whether a deleted child is on a roll since): LA officers only.
 */
export function mayReadOtherSchoolsRolls(p: Principal): boolean {
  return p.role === 'la_officer';
}

/**
 * The cohorts a principal's metrics are bounded to (the Virtual School's), undefined for no bound;
 * and the cohort asked for when none is named (the Virtual School's looked-after children).
 */
export function metricsCohortsOf(p: Principal): readonly Cohort[] | undefined {
  return p.role === 'vsh' ? VIRTUAL_SCHOOL_COHORTS : undefined;
}

export function defaultMetricsCohort(p: Principal): 'cla' | 'all' {
  return p.role === 'vsh' ? 'cla' : 'all';
}

/**
 * The metrics scope a request is about: a school's token always reads its own school (the URN it
 * names, else its own); other roles the scope and school they asked for (a URN alone means that school).
 */
export function metricsScope(
  p: Principal,
  asked: { scope?: 'la' | 'school'; urn?: string },
): { scope: 'la' | 'school'; urn: string | undefined } {
  if (p.role === 'school') return { scope: 'school', urn: asked.urn ?? p.urn };
  return { scope: asked.scope ?? (asked.urn ? 'school' : 'la'), urn: asked.urn };
}

/** Whether a metrics answer may compare a cohort with everyone outside it (not for the Virtual School, bounded to its cohorts). */
export function mayCompareWithComplement(p: Principal): boolean {
  return p.role !== 'vsh';
}
