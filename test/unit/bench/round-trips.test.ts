/** Round trips in sequence (bench/round-trips.ts): the longest chain of calls each sent after the one before was answered. */
import { describe, expect, it } from 'vitest';
import { roundTripsInSequence } from '../../../bench/round-trips.js';

const call = (sent: number, answered: number) => ({ command: 'X', sent, answered });

describe('round trips in sequence', () => {
  it('counts calls sent together as one, and a call sent after another was answered as one more', () => {
    expect(roundTripsInSequence([])).toBe(0);
    expect(roundTripsInSequence([call(0, 5), call(0, 9), call(1, 4)])).toBe(1);
    // Query and a batch together, then the rows, then the audit.
    expect(roundTripsInSequence([call(0, 5), call(0, 3), call(5, 8), call(8, 10)])).toBe(3);
  });

  it('follows the longest chain, not the number of calls', () => {
    // Chains 0→4→6 (three calls) and 1 (one, long): three; a call sent at 9 follows the longer chain.
    expect(roundTripsInSequence([call(0, 4), call(4, 6), call(6, 7), call(1, 9)])).toBe(3);
    expect(roundTripsInSequence([call(0, 4), call(4, 6), call(6, 7), call(1, 9), call(9, 12)])).toBe(4);
    // A call sent just before another was answered did not wait for it.
    expect(roundTripsInSequence([call(0, 5), call(4.9, 6)])).toBe(1);
  });
});
