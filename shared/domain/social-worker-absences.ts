/**
 * Unexplained absences of children with a social worker (issue 20): for the LA's children's social
 * care team and the Virtual School Head, the sessions of one day on which a child in need (cin) or on
 * a child protection plan (cpp) — by the LA's lists or the school's own return, on that date — was
 * marked `O` (unauthorised, no reason known) or was listed with no mark yet where one was due (the
 * school's register holds the session as "not yet marked"). `L` (late, arrived before the register
 * closed) is present, never an absence; every other code is explained.
 *
 * Each item carries a stable `alertKey` (date, session, UPN, URN): a notifier (issue 19) sends each
 * key once, so the list is also the feed of alerts.
 */
import { CODE_OF_CHAR, UNMARKED } from './codes.js';
import { COHORT_BIT } from './cohorts.js';
import { academicYearOf, dayOfAcademicYear, type Session } from './dates.js';
import { careCohortsOf, careMasks, type VirtualSchoolChild } from './virtual-school.js';

export interface SocialWorkerAbsence {
  alertKey: string;
  upn: string;
  urn: string;
  date: string;
  session: Session;
  /** `O`, or null when listed without a mark where one was due. */
  code: string | null;
  reason: 'unauthorised_no_reason' | 'not_marked';
  /** Care cohorts the child was in on the date (cin, cpp, and cla/plac when also). */
  cohorts: string[];
}

const SOCIAL_WORKER_BITS = COHORT_BIT.cin | COHORT_BIT.cpp;

export function socialWorkerAbsences(date: string, children: Iterable<VirtualSchoolChild>): SocialWorkerAbsence[] {
  const year = academicYearOf(date);
  const day = dayOfAcademicYear(date);
  const out: SocialWorkerAbsence[] = [];
  for (const child of children) {
    const thisYear = child.enrolments.filter((e) => e.academicYear === year);
    const candidates: Array<{ urn: string; session: Session; code: string | null }> = [];
    for (const e of thisYear) {
      for (const [offset, session] of [
        [0, 'AM'],
        [1, 'PM'],
      ] as const) {
        const ch = e.marks[day * 2 + offset];
        if (ch === UNMARKED) candidates.push({ urn: e.urn, session, code: null });
        else if (CODE_OF_CHAR[ch] === 'O') candidates.push({ urn: e.urn, session, code: 'O' });
      }
    }
    if (candidates.length === 0) continue;
    const mask = careMasks(child, year)[day];
    if ((mask & SOCIAL_WORKER_BITS) === 0) continue;
    const cohorts = careCohortsOf(mask);
    for (const c of candidates) {
      out.push({
        alertKey: `${date}#${c.session}#${child.upn}#${c.urn}`,
        upn: child.upn,
        urn: c.urn,
        date,
        session: c.session,
        code: c.code,
        reason: c.code === null ? 'not_marked' : 'unauthorised_no_reason',
        cohorts,
      });
    }
  }
  return out.sort((a, b) =>
    a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : a.upn < b.upn ? -1 : a.upn > b.upn ? 1 : a.session < b.session ? -1 : 1,
  );
}
