import { describe, expect, it } from 'vitest';
import {
  addYears,
  amountDue,
  escalationPeriods,
  nextPenaltyNotice,
  penaltyNoticePeriodEnd,
  type PenaltyNoticeRecord,
} from '../../../shared/domain/penalty-notices.js';

const UPN = 'A999400124001';
const OTHER_CHILD = 'B999400124002';

let seq = 0;
function notice(issuedOn: string, extra: Partial<PenaltyNoticeRecord> = {}): PenaltyNoticeRecord {
  seq += 1;
  return { id: `n${seq}`, parentId: 'mum', upn: UPN, issuedOn, status: 'issued', ...extra };
}
const next = (history: PenaltyNoticeRecord[], on: string, parentId = 'mum', upn = UPN) =>
  nextPenaltyNotice(history, { parentId, upn, on });

describe('penalty-notice escalation (per parent, per child, 3 years from the first notice)', () => {
  it('makes the first notice £160, reduced to £80 if paid within 21 days, opening a 3-year period', () => {
    const d = next([], '2024-09-10');
    expect(d).toEqual({
      allowed: true,
      sequence: 1,
      amount: { full: 160, fullPayableWithinDays: 28, reduced: 80, reducedIfPaidWithinDays: 21 },
      period: { start: '2024-09-10', end: '2027-09-09' },
      previous: [],
    });
  });

  it("makes a second notice within 3 years of the first £160 flat, in the first notice's period", () => {
    const first = notice('2024-09-10');
    const d = next([first], '2027-09-09');
    expect(d).toMatchObject({
      allowed: true,
      sequence: 2,
      amount: { full: 160, reduced: null, reducedIfPaidWithinDays: null },
      period: { start: '2024-09-10', end: '2027-09-09' },
      previous: [first.id],
    });
  });

  it('refuses a third notice on the last day of the 3 years, naming the alternatives and the next date allowed', () => {
    const history = [notice('2024-09-10'), notice('2025-02-03')];
    const d = next(history, '2027-09-09');
    expect(d.allowed).toBe(false);
    if (d.allowed) return;
    expect(d.code).toBe('third_within_period');
    expect(d.alternatives).toEqual(['prosecution', 'education_supervision_order']);
    expect(d.nextAllowedOn).toBe('2027-09-10');
    expect(d.period).toEqual({ start: '2024-09-10', end: '2027-09-09' });
    expect(d.reason).toContain('2024-09-10 and 2025-02-03');
    expect(d.reason).toContain('prosecution');
  });

  it('allows a notice one day after the 3 years as a new first notice (£80/£160) opening a new period', () => {
    const history = [notice('2024-09-10'), notice('2025-02-03')];
    expect(next(history, '2027-09-10')).toMatchObject({
      allowed: true,
      sequence: 1,
      amount: { reduced: 80 },
      period: { start: '2027-09-10', end: '2030-09-09' },
    });
  });

  it('anchors the period on its first notice: after it lapses, a recent second notice does not carry into the new period', () => {
    const history = [notice('2024-09-10'), notice('2027-06-01'), notice('2027-09-10')];
    expect(escalationPeriods(history, 'mum', UPN).map((p) => [p.start, p.notices.length])).toEqual([
      ['2024-09-10', 2],
      ['2027-09-10', 1],
    ]);
    expect(next(history, '2028-01-05')).toMatchObject({ allowed: true, sequence: 2, period: { start: '2027-09-10' } });
    expect(next([...history, notice('2028-01-05')], '2028-06-01')).toMatchObject({
      allowed: false,
      code: 'third_within_period',
      nextAllowedOn: '2030-09-10',
    });
  });

  it('counts unpaid notices towards the limit', () => {
    const history = [notice('2024-10-01'), notice('2024-12-01')];
    expect(history.every((n) => n.status === 'issued')).toBe(true);
    expect(next(history, '2025-03-01')).toMatchObject({ allowed: false, code: 'third_within_period' });
  });

  it('counts paid notices towards the limit too', () => {
    const history = [
      notice('2024-10-01', { status: 'paid', paidOn: '2024-10-10' }),
      notice('2024-12-01', { status: 'paid', paidOn: '2024-12-20' }),
    ];
    expect(next(history, '2025-03-01').allowed).toBe(false);
  });

  it('does not count a withdrawn notice: a third issue with one of two withdrawn is the second notice', () => {
    const history = [notice('2024-10-01'), notice('2024-12-01', { status: 'withdrawn', withdrawnOn: '2024-12-05' })];
    expect(next(history, '2025-03-01')).toMatchObject({ allowed: true, sequence: 2, previous: [history[0].id] });
  });

  it('does not let a withdrawn first notice open the period: the first counted notice does', () => {
    const history = [notice('2024-09-10', { status: 'withdrawn' }), notice('2025-01-06'), notice('2026-01-05')];
    expect(next(history, '2027-09-20')).toMatchObject({
      allowed: false,
      nextAllowedOn: '2028-01-06',
      period: { start: '2025-01-06', end: '2028-01-05' },
    });
    expect(next(history, '2028-01-06')).toMatchObject({ allowed: true, sequence: 1 });
  });

  it('counts per parent: the other parent of the same child starts at a first notice', () => {
    const history = [notice('2024-10-01'), notice('2024-12-01')];
    expect(next(history, '2025-03-01', 'dad')).toMatchObject({ allowed: true, sequence: 1 });
  });

  it('counts per child: the same parent with another child starts at a first notice', () => {
    const history = [notice('2024-10-01'), notice('2024-12-01')];
    expect(next(history, '2025-03-01', 'mum', OTHER_CHILD)).toMatchObject({ allowed: true, sequence: 1 });
  });

  it('ignores notices issued before the Framework began on 2024-08-19', () => {
    const history = [notice('2024-06-01'), notice('2024-07-01')];
    expect(next(history, '2024-08-19')).toMatchObject({ allowed: true, sequence: 1, period: { start: '2024-08-19' } });
  });

  it('refuses to issue a notice dated before 2024-08-19 under these rules', () => {
    expect(next([], '2024-08-18')).toMatchObject({ allowed: false, code: 'before_framework' });
  });

  it('refuses a notice dated before the latest counted notice for that parent and child (recorded in date order)', () => {
    expect(next([notice('2025-03-01')], '2025-02-28')).toMatchObject({ allowed: false, code: 'out_of_order' });
    expect(next([notice('2025-03-01')], '2025-03-01')).toMatchObject({ allowed: true, sequence: 2 });
  });

  it('ends a period opened on 29 February on 27 February three years on (the anniversary falls on 28 February)', () => {
    expect(addYears('2028-02-29', 3)).toBe('2031-02-28');
    expect(penaltyNoticePeriodEnd('2028-02-29')).toBe('2031-02-27');
    expect(addYears('2024-02-29', 4)).toBe('2028-02-29');
  });
});

describe('amountDue', () => {
  const first = { issuedOn: '2025-01-06', status: 'issued' as const, sequence: 1 };
  const second = { issuedOn: '2025-01-06', status: 'issued' as const, sequence: 2 };

  it('charges £80 for a first notice paid on the 21st day after issue', () => {
    expect(amountDue(first, '2025-01-27')).toEqual({ payable: true, amount: 80, band: 'reduced', daysAfterIssue: 21 });
  });

  it('charges £160 for a first notice paid on the 22nd day after issue', () => {
    expect(amountDue(first, '2025-01-28')).toEqual({ payable: true, amount: 160, band: 'full', daysAfterIssue: 22 });
  });

  it('charges £80 on the day of issue', () => {
    expect(amountDue(first, '2025-01-06')).toMatchObject({ payable: true, amount: 80 });
  });

  it('still takes £160 on the 28th day and nothing from the 29th', () => {
    expect(amountDue(first, '2025-02-03')).toMatchObject({ payable: true, amount: 160, daysAfterIssue: 28 });
    expect(amountDue(first, '2025-02-04')).toMatchObject({
      payable: false,
      code: 'payment_period_ended',
      daysAfterIssue: 29,
    });
  });

  it('charges a second notice £160 even when paid within 21 days', () => {
    expect(amountDue(second, '2025-01-10')).toMatchObject({ payable: true, amount: 160, band: 'full' });
  });

  it('takes nothing for a withdrawn notice, or before the notice was issued', () => {
    expect(amountDue({ ...first, status: 'withdrawn' }, '2025-01-10')).toMatchObject({
      payable: false,
      code: 'withdrawn',
    });
    expect(amountDue(first, '2025-01-05')).toMatchObject({ payable: false, code: 'before_issue' });
  });
});
