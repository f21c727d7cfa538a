import { describe, expect, it } from 'vitest';
import { londonTime, nightlyDue } from '../../../local/patterns-timer.js';

describe('the local nightly patterns run', () => {
  it('reads the time of day in Europe/London (BST in summer, GMT in winter)', () => {
    expect(londonTime(new Date('2026-07-01T01:00:00Z'))).toBe('02:00');
    expect(londonTime(new Date('2026-12-01T02:00:00Z'))).toBe('02:00');
    expect(londonTime(new Date('2026-12-01T01:59:00Z'))).toBe('01:59');
  });

  it('is due from 02:00 London time, once per London day', () => {
    expect(nightlyDue(new Date('2026-12-01T01:59:00Z'), '02:00', '2026-11-30')).toBe(false);
    expect(nightlyDue(new Date('2026-12-01T02:00:00Z'), '02:00', '2026-11-30')).toBe(true);
    expect(nightlyDue(new Date('2026-12-01T15:00:00Z'), '02:00', '2026-12-01')).toBe(false);
    expect(nightlyDue(new Date('2026-12-01T15:00:00Z'), '02:00', undefined)).toBe(true);
    // 01:30 UTC on 1 July is 02:30 BST: due.
    expect(nightlyDue(new Date('2026-07-01T01:30:00Z'), '02:00', '2026-06-30')).toBe(true);
  });
});
