/**
 * List referrals and suggest them (docs/design.md §5 GET /v1/referrals and /v1/referrals/suggestions):
 * the cases the caller may see, and the pupils whose flags call for a case and who have none open —
 * worst first. A school sees its own figures only (issue 15); the Virtual School only children ever
 * in its cohorts; each row's visibility is asked of access.ts.
 */
import {
  everInVirtualSchool,
  flagsForSchool,
  isVirtualSchool,
  mayListPupil,
  ownSchoolOf,
  schoolScope,
  type Principal,
} from '../domain/access.js';
import { academicYearEnd, academicYearOf, academicYearStart, todayInEngland } from '../domain/dates.js';
import { customPeriod } from '../domain/periods.js';
import type { FlagType } from '../domain/pupil-summary.js';
import {
  SUGGESTION_FLAGS,
  referralSuggestions,
  type ReferralStatus,
  type ReferralType,
  type Suggestion,
  type SuggestionCandidate,
} from '../domain/referrals.js';
import { isSevereAbsence } from '../domain/stats.js';
import type { PupilSummaryRecord } from '../store/pupils.js';
import type { ReferralFilter, ReferralListItem } from '../store/referrals.js';
import { done, refuse, type Outcome } from './outcome.js';
import type { LaLists, MissingEducation, PupilRecords, Referrals, Registers, Settings, Views } from './ports.js';

export type ReferralListDeps = { referrals: Referrals; pupils: PupilRecords } & Settings;
export type SuggestionDeps = ReferralListDeps & {
  views: Views;
  laLists: LaLists;
  registers: Registers;
  missingEducation: MissingEducation;
};

export interface ReferralListQuery {
  status?: ReferralStatus;
  type?: ReferralType;
  urn?: string;
  assignee?: string;
  upn?: string;
  overdue?: 'true' | 'false';
  limit?: number;
  cursor?: string;
}

/** The cases the caller may see, newest first: a page, or (`all`) every match for an export. */
export async function listReferralCases(
  deps: ReferralListDeps,
  principal: Principal,
  q: ReferralListQuery & { all: boolean },
): Promise<Outcome<{ items: ReferralListItem[]; nextCursor: string | null; urn: string | undefined; today: string }>> {
  const today = todayInEngland();
  const scope = schoolScope(principal, q.urn);
  if (!scope.ok) return refuse('not_found', 'No such school.');
  const filter: ReferralFilter = {
    status: q.status,
    type: q.type,
    assignee: q.assignee,
    upn: q.upn,
    today,
    urn: scope.urn,
    overdue: q.overdue === undefined ? undefined : q.overdue === 'true',
  };
  const keep = isVirtualSchool(principal)
    ? async (items: ReferralListItem[]) => {
        const summaries = await deps.pupils.summaries([...new Set(items.map((i) => i.upn))]);
        return items.filter((i) => {
          const s = summaries.get(i.upn);
          return !!s && everInVirtualSchool(Object.values(s.years));
        });
      }
    : undefined;
  // A cursor that is not one this service issued is thrown by the store and answered 400 by the door.
  const page = q.all
    ? { items: await deps.referrals.listAll(filter, keep), nextCursor: null }
    : await deps.referrals.list(filter, q.limit ?? 50, q.cursor, keep);
  return done({ ...page, urn: filter.urn, today });
}

/**
 * The one-off back-fill of the referral list partitions (issue 17): cases stored before searches
 * read per-facet lists get their entries, once per table (`npm run cli -- referral-lists`; the local
 * runtime runs it at start). Searches read the LA-wide list until it has run, so no case is missed.
 */
export async function backfillReferralLists(
  deps: { referrals: Pick<Referrals, 'indexLists'> },
  options: { force?: boolean; onProgress?: (cases: number) => void } = {},
): Promise<{ cases: number; alreadyIndexed: boolean }> {
  return deps.referrals.indexLists(options);
}

const STATUTORY_FLAGS: ReadonlySet<string> = new Set([
  'penalty_notice_threshold',
  'ten_day_unauthorised',
  'twenty_day_unauthorised',
  'illness_15_days',
]);

/**
 * Suggestions as a school sees them (issue 15): its own figures from its own register, SA judged on
 * them, and only the flags the LA shares (no evidence from other schools). A pupil only this school
 * had that year keeps every flag: they are its own figures. A pupil of the school the LA lists nowhere
 * (`unlisted`: no LA row) has no flag to share, and is judged on SA alone.
 */
async function ownSchoolCandidates(
  deps: SuggestionDeps,
  candidates: SuggestionCandidate[],
  urn: string,
  year: number,
  unlisted: readonly string[],
): Promise<SuggestionCandidate[]> {
  const today = todayInEngland();
  const end = academicYearEnd(year) < today ? academicYearEnd(year) : today;
  if (end < academicYearStart(year)) return [];
  const own = new Map(
    (
      await deps.registers.pupilRowsForPeriod(customPeriod(year, academicYearStart(year), end), {
        urns: new Set([urn]),
        withCare: false,
      })
    ).map((r) => [r.upn, r]),
  );
  const shared = deps.settings().flagsSharedWithSchools;
  const out: SuggestionCandidate[] = [];
  for (const upn of unlisted) {
    const mine = own.get(upn);
    if (mine && isSevereAbsence(mine.authorised + mine.unauthorised, mine.possible))
      out.push({ ...mine, urns: [urn], flags: [{ type: 'severe_absence', since: academicYearStart(year) }] });
  }
  for (const c of candidates) {
    const mine = own.get(c.upn);
    if (!mine) continue;
    const sole = c.urns.length === 1 && c.urns[0] === urn;
    const flags = sole
      ? c.flags
      : [
          ...flagsForSchool(
            c.flags.map((f) => ({ type: f.type as FlagType, since: f.since, detail: f.detail ?? {} })),
            urn,
            shared,
          ),
          ...(isSevereAbsence(mine.authorised + mine.unauthorised, mine.possible)
            ? [{ type: 'severe_absence', since: academicYearStart(year) }]
            : []),
        ];
    out.push({
      ...c,
      urns: [urn],
      possible: mine.possible,
      authorised: mine.authorised,
      unauthorised: mine.unauthorised,
      flags,
    });
  }
  return out;
}

/** Pupils whose flags call for a case and who have none open (every SA pupil, penalty-notice threshold met, CME risk, 15 days of illness), worst first. */
export async function suggestReferrals(
  deps: SuggestionDeps,
  principal: Principal,
  q: { academicYear?: number; urn?: string; type?: ReferralType },
): Promise<Outcome<{ suggestions: Suggestion[]; year: number; urn: string | undefined; snapshot: string }>> {
  const year = q.academicYear ?? academicYearOf(todayInEngland());
  const scope = schoolScope(principal, q.urn);
  if (!scope.ok) return refuse('not_found', 'No such school.');
  const urn = scope.urn;
  // Only a pupil with a flag that makes a suggestion can be suggested: those flags' lists (a pupil in two
  // of them once). A school judges SA on its own figures, so it takes every pupil it has (its view's
  // UPNs), as many as it has.
  const own =
    ownSchoolOf(principal) && urn
      ? ((await deps.views.schoolView(urn, year))?.pupils ?? []).map((p) => p.upn)
      : undefined;
  const filter = { ...(urn ? { urn } : {}), ...(isVirtualSchool(principal) ? { vs: true } : {}) };
  const [listed, version] = await Promise.all([
    own
      ? deps.laLists.rows(year, own).then((m) => [...m.values()])
      : deps.laLists.all(year, [...SUGGESTION_FLAGS], filter),
    deps.laLists.version(year),
  ]);
  // The school's pupils the LA lists nowhere (no LA row): judged on the school's own figures below.
  const held = new Set(listed.map((r) => r.upn));
  const unlisted = (own ?? []).filter((upn) => !held.has(upn));
  const rows = listed.filter((r) => (!urn || r.urns.includes(urn)) && mayListPupil(principal, r));
  // The LA list holds flag types only; a continuous-absence flag's detail says whether it is a CME risk,
  // a statutory flag's whether the pupil's age is unknown, and the threshold's which route applies.
  const needDetail = rows.filter((r) => r.flags.some((f) => STATUTORY_FLAGS.has(f.type)));
  const summaries = needDetail.length
    ? await deps.pupils.summaries(needDetail.map((r) => r.upn))
    : new Map<string, PupilSummaryRecord>();
  let candidates: SuggestionCandidate[] = rows.map((r) => ({
    ...r,
    flags: r.flags.map((f) => ({
      ...f,
      detail: summaries.get(r.upn)?.years[String(year)]?.flags.find((g) => g.type === f.type)?.detail,
    })),
  }));
  if (ownSchoolOf(principal) && urn) candidates = await ownSchoolCandidates(deps, candidates, urn, year, unlisted);
  const open = await deps.referrals.openUpns();
  const suggestions = (
    await deps.missingEducation.withChildrenMissingEducation(
      principal,
      referralSuggestions(candidates, (upn) => open.has(upn)),
      year,
      (upn) => open.has(upn),
      urn,
    )
  ).filter((s) => !q.type || s.suggestedType === q.type);
  return done({ suggestions, year, urn, snapshot: `${year}:${version}` });
}
