/**
 * Children missing education after a deletion (issue 20; docs/design.md §2.5 for who the duty applies to).
 *
 * For each deletion (shared/domain/admission-register.ts) the child's status today:
 * - `listed`: a school lists the child since (another school on roll on or after the leaving date,
 *   or the same school re-admitting them after it) — the flag is cleared whenever this happens;
 *   `schoolDaysToListing` counts school days after the leaving date to the listing, and
 *   `withinTenSchoolDays` says whether the child arrived in time;
 * - `missing` (**the CME flag**): a child of compulsory school age on the leaving date, deleted with
 *   an unknown (or no stated) destination, or whose destination school in the LA has not listed them
 *   by the tenth school day after the leaving date (flagged from the eleventh);
 * - `awaiting`: destination school in the LA, still within those ten school days;
 * - `confirm_with_other_la`: the destination is a school outside the LA (the officer confirms with
 *   the other LA); `elective_home_education`, `another_country`: not a CME case here;
 * - `standard_transition`, `not_compulsory_school_age`: exempt.
 *
 * Age unknown (no date of birth): a year group 1–11, or none, counts as compulsory school age so
 * that the officer checks (`ageUnknown: true`).
 */
import type { Deletion } from './admission-register.js';
import type { Enrolment } from './pupil-summary.js';
import { isOfCompulsorySchoolAge } from './compulsory-school-age.js';

export const CME_STATUSES = [
  'missing',
  'awaiting',
  'listed',
  'confirm_with_other_la',
  'elective_home_education',
  'another_country',
  'standard_transition',
  'not_compulsory_school_age',
] as const;
export type CmeStatus = (typeof CME_STATUSES)[number];

/** School days after the leaving date within which the destination school must list the child. */
const DESTINATION_LISTING_SCHOOL_DAYS = 10;

/** Where a child is on a register: one enrolment (any school, any year). */
export type Listing = Pick<Enrolment, 'urn' | 'admissionDate' | 'leavingDate' | 'firstListed' | 'lastListed'>;

export interface CmeContext {
  today: string;
  /** Whether a URN is a school of this LA (out-of-area and unknown URNs are not). */
  inLa: (urn: string) => boolean;
  /** School days strictly after `from` up to and including `to`, by the calendar of `urn` (the destination, else the deleting school). */
  schoolDays: (urn: string, from: string, to: string) => number;
  /** The n-th school day after `from` by the calendar of `urn`. */
  nthSchoolDayAfter: (urn: string, from: string, n: number) => string;
}

export interface CmeAssessment {
  status: CmeStatus;
  /** The CME flag: a referral suggestion `children_missing_education`. */
  flagged: boolean;
  ageUnknown: boolean;
  /** Destination in the LA: the last school day by which it must list the child. */
  listingDeadline?: string;
  listedBy?: string;
  listedFrom?: string;
  schoolDaysToListing?: number;
  withinTenSchoolDays?: boolean;
}

function compulsoryAge(d: Pick<Deletion, 'dob' | 'yearGroup' | 'leavingDate'>): {
  compulsory: boolean;
  ageUnknown: boolean;
} {
  const byDob = isOfCompulsorySchoolAge(d.dob, d.leavingDate);
  if (byDob !== undefined) return { compulsory: byDob, ageUnknown: false };
  const n = Number(d.yearGroup);
  const compulsory = d.yearGroup === undefined || (Number.isInteger(n) && n >= 1 && n <= 11);
  return { compulsory, ageUnknown: true };
}

/** The first listing of the child on a roll since the deletion, if any. */
function listingSince(
  deletion: Pick<Deletion, 'urn' | 'leavingDate'>,
  listings: readonly Listing[],
): Listing | undefined {
  let best: Listing | undefined;
  for (const l of listings) {
    const from = l.admissionDate ?? l.firstListed;
    const until = l.leavingDate ?? l.lastListed;
    const since =
      l.urn === deletion.urn
        ? from > deletion.leavingDate
        : until >= deletion.leavingDate && l.lastListed >= deletion.leavingDate;
    if (!since) continue;
    if (!best || from < (best.admissionDate ?? best.firstListed)) best = l;
  }
  return best;
}

export function assessDeletion(deletion: Deletion, listings: readonly Listing[], ctx: CmeContext): CmeAssessment {
  const { compulsory, ageUnknown } = compulsoryAge(deletion);
  const base = { flagged: false, ageUnknown };
  if (deletion.standardTransition) return { ...base, status: 'standard_transition' };
  if (!compulsory) return { ...base, status: 'not_compulsory_school_age' };
  const destination = deletion.destination;
  const destinationUrn = destination !== undefined && /^\d{6}$/.test(destination) ? destination : undefined;
  const calendarUrn = destinationUrn !== undefined && ctx.inLa(destinationUrn) ? destinationUrn : deletion.urn;
  const listing = listingSince(deletion, listings);
  if (listing) {
    const from = listing.admissionDate ?? listing.firstListed;
    const days = from > deletion.leavingDate ? ctx.schoolDays(listing.urn, deletion.leavingDate, from) : 0;
    return {
      ...base,
      status: 'listed',
      listedBy: listing.urn,
      listedFrom: from,
      schoolDaysToListing: days,
      withinTenSchoolDays: days <= DESTINATION_LISTING_SCHOOL_DAYS,
    };
  }
  if (destination === 'elective_home_education') return { ...base, status: 'elective_home_education' };
  if (destination === 'another_country') return { ...base, status: 'another_country' };
  if (destinationUrn !== undefined && !ctx.inLa(destinationUrn)) return { ...base, status: 'confirm_with_other_la' };
  if (destinationUrn !== undefined) {
    const deadline = ctx.nthSchoolDayAfter(calendarUrn, deletion.leavingDate, DESTINATION_LISTING_SCHOOL_DAYS);
    if (ctx.today <= deadline) return { ...base, status: 'awaiting', listingDeadline: deadline };
    return { ...base, status: 'missing', flagged: true, listingDeadline: deadline };
  }
  // Unknown destination, or none stated (a derived deletion states none).
  return { ...base, status: 'missing', flagged: true };
}
