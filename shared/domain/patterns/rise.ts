/**
 * The LA's own rise in absence beside breaks, for the holiday-adjacent test's null (issue 21).
 *
 * The exact placement test (placement.ts) puts each of a pupil's absences at random among their own
 * sessions, every start equally likely. Absence really does start more often on the days before a
 * break (tiredness, colds at the end of a term), so that null is optimistic: ordinary illness just
 * before half terms looks like a pattern. Here the rise is measured on the LA's own registers: per
 * position beside a break (the K school days before it, the K after it, by distance) how often a
 * spell of counted absence starts there, relative to days that are not holiday-adjacent — per
 * school, then the MEDIAN over schools, so a school coding holidays as illness (a fifth of the varied
 * LAs' schools) or a few families cannot move it. The test then places each absence with those start
 * rates. Each rise is floored at 1: the fitted null is never less cautious than the uniform one, and
 * with fewer than `MIN_SCHOOLS` schools holding enough absence there is no fit (the uniform null).
 *
 * Cost: one pass over each school's marks in pass 1 (per pupil, linear), a few numbers per school-year
 * in the digest, one median per position in the context; the per-pupil test does the same work.
 */
import type { SchoolYearAdjacency } from '../calendar.js';
import { dayNumber } from '../dates.js';
import type { SchoolRegister } from '../register.js';
import { HOLIDAY_TEST_CLASS } from './holiday-adjacent.js';

/** Fewest schools (school-years) holding enough absence for the LA's rise to be fitted. */
export const MIN_SCHOOLS = 5;
/** Fewest spells starting on days that are not holiday-adjacent for a school to take part. */
const MIN_SCHOOL_SPELLS = 50;
/** Largest rise used (a ceiling against a school calendar gone wrong). */
const MAX_RISE = 3;

/** Spell starts and the sessions where one could start, per position: 0 not adjacent, d (1..K) d school days before a break, K + d after. */
export interface AdjacencyRiseCounts {
  academicYear: number;
  urn: string;
  sessions: number[];
  starts: number[];
}

const classCache = new WeakMap<SchoolYearAdjacency, Uint8Array>();

/** Per day slot of the school-year: its position (0 not adjacent, d before, K + d after). */
export function positionOfDay(adj: SchoolYearAdjacency): Uint8Array {
  let out = classCache.get(adj);
  if (out) return out;
  out = new Uint8Array(adj.breakOfDay.length);
  const startDay = dayNumber(`${adj.academicYear}-08-01`);
  const breakStart = adj.breaks.map((b) => dayNumber(b.start));
  for (let d = 0; d < out.length; d++) {
    const b = adj.breakOfDay[d];
    if (b < 0) continue;
    out[d] = startDay + d < breakStart[b] ? adj.distanceOfDay[d] : adj.k + adj.distanceOfDay[d];
  }
  classCache.set(adj, out);
  return out;
}

/** A school-year's spell starts per position, from its register's marks up to `to` (pass 1). */
export function adjacencyRiseCounts(
  register: SchoolRegister,
  adj: SchoolYearAdjacency,
  to: string,
): AdjacencyRiseCounts {
  const positions = positionOfDay(adj);
  const sessions = new Array<number>(2 * adj.k + 1).fill(0);
  const starts = new Array<number>(2 * adj.k + 1).fill(0);
  const lastDay = Math.min(positions.length - 1, dayNumber(to) - dayNumber(`${adj.academicYear}-08-01`));
  for (const p of register.pupils.values()) {
    let previousAbsent = false;
    const end = Math.min(p.marks.length, (lastDay + 1) * 2);
    for (let s = 0; s < end; s++) {
      const cls = HOLIDAY_TEST_CLASS[p.marks.charCodeAt(s)];
      if (cls === 0) continue;
      const absent = cls === 2;
      if (!previousAbsent) {
        const pos = positions[s >> 1];
        sessions[pos]++;
        if (absent) starts[pos]++;
      }
      previousAbsent = absent;
    }
  }
  return { academicYear: adj.academicYear, urn: adj.urn, sessions, starts };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
}

/**
 * The LA's start rate per position relative to days that are not holiday-adjacent (index 0 is 1), the
 * median over school-years with at least MIN_SCHOOL_SPELLS starts on other days, each floored at 1
 * and capped at MAX_RISE; null when fewer than MIN_SCHOOLS school-years qualify (the uniform null).
 */
export function laAdjacencyRise(counts: readonly AdjacencyRiseCounts[]): number[] | null {
  const usable = counts.filter((c) => c.starts[0] >= MIN_SCHOOL_SPELLS && c.sessions.every((n) => n > 0));
  if (usable.length < MIN_SCHOOLS) return null;
  const positions = usable[0].sessions.length;
  if (usable.some((c) => c.sessions.length !== positions)) return null;
  const rise = [1];
  for (let pos = 1; pos < positions; pos++) {
    const ratios = usable.map((c) => c.starts[pos] / c.sessions[pos] / (c.starts[0] / c.sessions[0]));
    rise.push(Math.min(MAX_RISE, Math.max(1, median(ratios))));
  }
  return rise;
}
