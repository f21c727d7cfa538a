/**
 * Penalty-notice escalation (docs/design.md §2.5, National Framework from 19 August 2024): per parent, per
 * child, over a 3-year period that starts with the first notice.
 *
 * Rules, exactly as this module applies them:
 * - Only notices issued on or after 2024-08-19 count; earlier notices belong to the old regime and
 *   are ignored. Issuing a notice dated before 2024-08-19 is refused (`before_framework`).
 * - Notices count per (parent id, pupil UPN). Unpaid notices count; withdrawn notices do not (they
 *   neither count nor start a period).
 * - A **period** starts on the date of the first counted notice and lasts 3 years: it ends the day
 *   before the third anniversary (a notice issued on 2024-09-10 opens a period 2024-09-10 …
 *   2027-09-09; 29 February anniversaries fall on 28 February). "Within 3 years of the first"
 *   means inside that period.
 * - In a period: the 1st notice is £160, reduced to £80 if paid within 21 days (£160 within 28
 *   days); the 2nd is £160 flat within 28 days; a 3rd is refused, and the answer names the
 *   alternatives (prosecution, education supervision order) and the first date a notice may be
 *   issued again.
 * - When a period has lapsed, the next counted notice is a new 1st notice and opens a new 3-year
 *   period from its own date. Notices in the lapsed period never carry over, even when the 2nd of
 *   them was less than 3 years ago: the period is anchored on its first notice, not re-rolled at
 *   each notice (the Framework counts "within 3 years of the first").
 * - Notices are recorded in date order: a notice dated before the latest counted notice for the same
 *   parent and child is refused (`out_of_order`), so no earlier notice's sequence or amount changes
 *   after the fact.
 * - Only a child of compulsory school age (docs/design.md §2.5) can be the subject of a notice: a notice dated
 *   before the child reaches compulsory school age is refused (`not_compulsory_school_age`: no offence
 *   under section 444 can have been committed yet), and one recorded before this rule for such a date
 *   is not counted. A notice dated after the school leaving date is allowed (it concerns absence
 *   before it). Without a date of birth the notice is allowed and says `ageUnknown` for the officer.
 * - Payment days are counted from the date of issue (day 21 after issue is still "within 21 days");
 *   the service does not model deemed service by post. After day 28 a notice can no longer be paid:
 *   the LA prosecutes for the offence or withdraws the notice.
 *
 * Public API
 * - `nextPenaltyNotice(history, { parentId, upn, on })` → `PenaltyNoticeDecision`.
 * - `amountDue(notice, paidOn)` → `PaymentDue`.
 * - `escalationPeriods(history, parentId, upn)`, `penaltyNoticePeriodEnd(start)`, `addYears(date, n)`.
 */
import type { CompulsorySchoolAge } from './compulsory-school-age.js';
import { dayNumber, addDays } from './dates.js';

/** The National Framework's penalty-notice regime applies to notices issued from this date. */
const PENALTY_NOTICE_FRAMEWORK_FROM = '2024-08-19';
const PENALTY_NOTICE_PERIOD_YEARS = 3;
/** Notices a parent may receive for one child within one period. */
const MAX_NOTICES_PER_PERIOD = 2;
const FULL_AMOUNT_POUNDS = 160;
const REDUCED_AMOUNT_POUNDS = 80;
const REDUCED_WITHIN_DAYS = 21;
const PAYABLE_WITHIN_DAYS = 28;

const PENALTY_NOTICE_ALTERNATIVES = ['prosecution', 'education_supervision_order'] as const;
export type PenaltyNoticeAlternative = (typeof PENALTY_NOTICE_ALTERNATIVES)[number];

export type PenaltyNoticeStatus = 'issued' | 'paid' | 'withdrawn';

/** A notice as recorded (on a referral): to whom, about whom, when, and where it stands. */
export interface PenaltyNoticeRecord {
  id: string;
  parentId: string;
  upn: string;
  issuedOn: string;
  status: PenaltyNoticeStatus;
  /** 1 or 2 within its period (as decided when it was issued). */
  sequence?: number;
  paidOn?: string;
  withdrawnOn?: string;
}

export interface PenaltyNoticeAmount {
  /** Pounds payable within `fullPayableWithinDays` of issue. */
  full: number;
  fullPayableWithinDays: number;
  /** Pounds payable within `reducedIfPaidWithinDays` (1st notice only), else null. */
  reduced: number | null;
  reducedIfPaidWithinDays: number | null;
}

export interface EscalationPeriod {
  /** Date of the period's first notice. */
  start: string;
  /** Last day of the period (the day before the 3rd anniversary of `start`). */
  end: string;
  /** Counted notices in the period, in date order. */
  notices: PenaltyNoticeRecord[];
}

export type PenaltyNoticeRefusal =
  'third_within_period' | 'before_framework' | 'out_of_order' | 'not_compulsory_school_age';

export type PenaltyNoticeDecision =
  | {
      allowed: true;
      sequence: 1 | 2;
      amount: PenaltyNoticeAmount;
      period: { start: string; end: string };
      previous: string[];
      /** The child's date of birth is not known: the officer checks they are of compulsory school age. */
      ageUnknown?: true;
    }
  | {
      allowed: false;
      code: PenaltyNoticeRefusal;
      reason: string;
      alternatives: PenaltyNoticeAlternative[];
      period?: { start: string; end: string };
      /** First date a new (1st) notice may be issued to this parent for this child. */
      nextAllowedOn?: string;
      previous: string[];
    };

/** The same month and day `n` years on; 29 February becomes 28 February in a common year. */
export function addYears(date: string, n: number): string {
  const y = Number(date.slice(0, 4)) + n;
  const m = Number(date.slice(5, 7));
  const d = Number(date.slice(8, 10));
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return `${String(y).padStart(4, '0')}-${date.slice(5, 7)}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/** Last day of the 3-year period opened by a notice on `start`. */
export function penaltyNoticePeriodEnd(start: string): string {
  return addDays(addYears(start, PENALTY_NOTICE_PERIOD_YEARS), -1);
}

function counted(
  history: readonly PenaltyNoticeRecord[],
  parentId: string,
  upn: string,
  age?: ChildAge,
): PenaltyNoticeRecord[] {
  const from = age?.compulsorySchoolAge?.from ?? PENALTY_NOTICE_FRAMEWORK_FROM;
  return history
    .filter(
      (n) =>
        n.parentId === parentId &&
        n.upn === upn &&
        n.status !== 'withdrawn' &&
        n.issuedOn >= PENALTY_NOTICE_FRAMEWORK_FROM &&
        n.issuedOn >= from,
    )
    .sort((a, b) =>
      a.issuedOn < b.issuedOn ? -1 : a.issuedOn > b.issuedOn ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
}

/** The child's compulsory school age (null span: date of birth unknown), as national-framework.ts states it. */
export interface ChildAge {
  compulsorySchoolAge: CompulsorySchoolAge | null;
  ageUnknown: boolean;
}

/** The parent's 3-year periods for this child, each anchored on its first counted notice. */
export function escalationPeriods(
  history: readonly PenaltyNoticeRecord[],
  parentId: string,
  upn: string,
  age?: ChildAge,
): EscalationPeriod[] {
  const periods: EscalationPeriod[] = [];
  for (const notice of counted(history, parentId, upn, age)) {
    const current = periods[periods.length - 1];
    if (current && notice.issuedOn <= current.end) current.notices.push(notice);
    else periods.push({ start: notice.issuedOn, end: penaltyNoticePeriodEnd(notice.issuedOn), notices: [notice] });
  }
  return periods;
}

const FIRST_AMOUNT: PenaltyNoticeAmount = {
  full: FULL_AMOUNT_POUNDS,
  fullPayableWithinDays: PAYABLE_WITHIN_DAYS,
  reduced: REDUCED_AMOUNT_POUNDS,
  reducedIfPaidWithinDays: REDUCED_WITHIN_DAYS,
};
const SECOND_AMOUNT: PenaltyNoticeAmount = {
  full: FULL_AMOUNT_POUNDS,
  fullPayableWithinDays: PAYABLE_WITHIN_DAYS,
  reduced: null,
  reducedIfPaidWithinDays: null,
};

/** The amounts for a notice of this sequence within its period. */
function penaltyNoticeAmount(sequence: 1 | 2): PenaltyNoticeAmount {
  return { ...(sequence === 1 ? FIRST_AMOUNT : SECOND_AMOUNT) };
}

/**
 * What the next notice to this parent for this child, issued on `on`, may be: its sequence and
 * amounts, or a refusal with the reason and the alternative actions.
 */
export function nextPenaltyNotice(
  history: readonly PenaltyNoticeRecord[],
  request: { parentId: string; upn: string; on: string; age?: ChildAge },
): PenaltyNoticeDecision {
  const { parentId, upn, on, age } = request;
  const alternatives = [...PENALTY_NOTICE_ALTERNATIVES];
  if (on < PENALTY_NOTICE_FRAMEWORK_FROM) {
    return {
      allowed: false,
      code: 'before_framework',
      alternatives,
      previous: [],
      reason: `Penalty notices dated before ${PENALTY_NOTICE_FRAMEWORK_FROM} fall under the previous regulations; this service records notices under the National Framework only.`,
    };
  }
  const span = age?.compulsorySchoolAge;
  if (span && on < span.from) {
    return {
      allowed: false,
      code: 'not_compulsory_school_age',
      alternatives: [],
      previous: [],
      reason: `The child is of compulsory school age from ${span.from} (docs/design.md §2.5): a penalty notice dated ${on} cannot concern an offence, and this notice is not recorded.`,
    };
  }
  const unknown = age?.ageUnknown ? { ageUnknown: true as const } : {};
  const notices = counted(history, parentId, upn, age);
  const latest = notices[notices.length - 1];
  if (latest && on < latest.issuedOn) {
    return {
      allowed: false,
      code: 'out_of_order',
      alternatives: [],
      previous: notices.map((n) => n.id),
      reason: `A notice to this parent for this child was already issued on ${latest.issuedOn}; notices are recorded in date order, so one dated ${on} cannot be added. Withdraw the later notice first if it was recorded in error.`,
    };
  }
  const periods = escalationPeriods(history, parentId, upn, age);
  const last = periods[periods.length - 1];
  if (!last || on > last.end) {
    return {
      allowed: true,
      sequence: 1,
      amount: penaltyNoticeAmount(1),
      period: { start: on, end: penaltyNoticePeriodEnd(on) },
      previous: [],
      ...unknown,
    };
  }
  const previous = last.notices.map((n) => n.id);
  if (last.notices.length < MAX_NOTICES_PER_PERIOD) {
    return {
      allowed: true,
      sequence: 2,
      amount: penaltyNoticeAmount(2),
      period: { start: last.start, end: last.end },
      previous,
      ...unknown,
    };
  }
  const nextAllowedOn = addDays(last.end, 1);
  const dates = last.notices.map((n) => n.issuedOn);
  return {
    allowed: false,
    code: 'third_within_period',
    alternatives,
    previous,
    nextAllowedOn,
    period: { start: last.start, end: last.end },
    reason:
      `A third penalty notice cannot be issued to this parent for this child within 3 years of the first: notices were issued on ${dates.join(' and ')}, ` +
      `and the 3-year period runs to ${last.end}. Consider alternative action (prosecution under section 444 of the Education Act 1996, or an education supervision order); ` +
      `a new notice may be issued from ${nextAllowedOn}.`,
  };
}

export type PaymentDue =
  | { payable: true; amount: number; band: 'reduced' | 'full'; daysAfterIssue: number }
  | {
      payable: false;
      code: 'withdrawn' | 'payment_period_ended' | 'before_issue';
      reason: string;
      daysAfterIssue: number;
    };

/** What a payment on `paidOn` must be for this notice, or why it cannot be paid. */
export function amountDue(
  notice: Pick<PenaltyNoticeRecord, 'issuedOn' | 'status' | 'sequence'>,
  paidOn: string,
): PaymentDue {
  const days = dayNumber(paidOn) - dayNumber(notice.issuedOn);
  if (notice.status === 'withdrawn')
    return {
      payable: false,
      code: 'withdrawn',
      daysAfterIssue: days,
      reason: 'The notice was withdrawn; nothing is payable.',
    };
  if (days < 0)
    return {
      payable: false,
      code: 'before_issue',
      daysAfterIssue: days,
      reason: `A payment cannot precede the notice (issued ${notice.issuedOn}).`,
    };
  if (days > PAYABLE_WITHIN_DAYS) {
    return {
      payable: false,
      code: 'payment_period_ended',
      daysAfterIssue: days,
      reason: `The notice issued on ${notice.issuedOn} could be paid until ${addDays(notice.issuedOn, PAYABLE_WITHIN_DAYS)} (${PAYABLE_WITHIN_DAYS} days); the LA now prosecutes for the offence or withdraws the notice.`,
    };
  }
  if ((notice.sequence ?? 1) === 1 && days <= REDUCED_WITHIN_DAYS)
    return { payable: true, amount: REDUCED_AMOUNT_POUNDS, band: 'reduced', daysAfterIssue: days };
  return { payable: true, amount: FULL_AMOUNT_POUNDS, band: 'full', daysAfterIssue: days };
}
