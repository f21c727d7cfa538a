/**
 * The case pages keep their own labels for the referral API's vocabularies (the web app imports no
 * service code: docs/web.md); every value the API can return has a label, and no label names a value
 * the API does not have.
 */
import { describe, expect, it } from 'vitest';
import {
  ACTION_TYPES,
  OUTCOMES,
  PRIORITIES,
  REFERRAL_STATUSES,
  REFERRAL_TYPES,
} from '../../../shared/domain/referrals.js';
import {
  ACTION_LABELS,
  OUTCOME_LABELS,
  PRIORITY_LABELS,
  STATUS_COLOURS,
  STATUS_LABELS,
  TYPE_LABELS,
} from '../../../web/src/referral-labels.js';

const sorted = (values: Iterable<string>) => [...values].sort();

describe("the case pages' labels", () => {
  it.each([
    ['status', STATUS_LABELS, REFERRAL_STATUSES],
    ['status colour', STATUS_COLOURS, REFERRAL_STATUSES],
    ['type', TYPE_LABELS, REFERRAL_TYPES],
    ['priority', PRIORITY_LABELS, PRIORITIES],
    ['action', ACTION_LABELS, ACTION_TYPES],
    ['outcome', OUTCOME_LABELS, OUTCOMES],
  ] as const)('label every referral %s the API has, and nothing else', (_kind, labels, values) => {
    expect(sorted(Object.keys(labels))).toEqual(sorted(values));
  });
});
