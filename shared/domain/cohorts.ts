/**
 * Cohorts (DESIGN §2.4), date-effective: a session counts towards a cohort only if the pupil was in
 * the cohort on that session's date. Membership comes from the school's own statements (held from the
 * date stated until a later row says otherwise) or, for cla / cin / cpp / plac, from the LA's
 * social-care episodes covering the date.
 */
import { academicYearLength, academicYearStart, ageOn, dayNumber, DAYS_PER_YEAR_SLOT, fromDayNumber } from './dates.js';
import { type Characteristic, effectiveByDay, type RegisterPupil } from './register.js';

export const COHORTS = [
  'all',
  'fsm', 'non_fsm',
  'sen_ehcp', 'non_sen_ehcp',
  'sen_support', 'non_sen_support',
  'sen_none', 'non_sen_none',
  'cin', 'non_cin',
  'cpp', 'non_cpp',
  'cla', 'non_cla',
  'plac', 'non_plac',
  'social_worker', 'non_social_worker',
] as const;
export type Cohort = (typeof COHORTS)[number];

export const COHORT_BIT: Readonly<Record<Cohort, number>> = Object.fromEntries(COHORTS.map((c, i) => [c, 1 << i])) as Record<Cohort, number>;

export function isCohort(s: string): s is Cohort {
  return (COHORTS as readonly string[]).includes(s);
}

/** The cohort and its complement, for "each cohort beside its complement" comparisons. */
export function complementOf(c: Cohort): Cohort | undefined {
  if (c === 'all') return undefined;
  return (c.startsWith('non_') ? c.slice(4) : `non_${c}`) as Cohort;
}

/** The cohorts a Virtual School Head works with (DESIGN §4). */
export const VIRTUAL_SCHOOL_COHORTS: readonly Cohort[] = ['cla', 'plac', 'cin', 'cpp', 'social_worker'];

export type CareCohort = 'cla' | 'cin' | 'cpp' | 'plac';

/** An LA social-care episode: the child is in the cohort from `start` to `end` inclusive (open when no end). */
export interface CareEpisodeSpan {
  cohort: CareCohort;
  start: string;
  end?: string;
}

/**
 * Cohort bitmask (COHORT_BIT) for each day slot of an academic year, for one pupil at one school.
 * A characteristic never stated counts as "no" (not FSM, no SEN, no flag).
 */
export function cohortMasksByDay(
  academicYear: number,
  stated: Record<Characteristic, string>,
  care: readonly CareEpisodeSpan[] = [],
): Int32Array {
  const fsm = effectiveByDay(stated.fsm, 'N');
  const sen = effectiveByDay(stated.sen, 'N');
  const flags: Record<CareCohort, Uint8Array> = {
    cla: dayFlags(effectiveByDay(stated.cla, 'N')),
    cin: dayFlags(effectiveByDay(stated.cin, 'N')),
    cpp: dayFlags(effectiveByDay(stated.cpp, 'N')),
    plac: dayFlags(effectiveByDay(stated.plac, 'N')),
  };
  const yearStart = dayNumber(academicYearStart(academicYear));
  // Clip to the year's real days: in a 365-day year slot 365 is the next 1 August, and an episode
  // starting then must not make the pupil "ever" in the cohort this year.
  const lastDay = academicYearLength(academicYear) - 1;
  for (const ep of care) {
    const from = Math.max(0, dayNumber(ep.start) - yearStart);
    const to = Math.min(lastDay, ep.end ? dayNumber(ep.end) - yearStart : lastDay);
    for (let d = from; d <= to; d++) flags[ep.cohort][d] = 1;
  }
  const masks = new Int32Array(DAYS_PER_YEAR_SLOT);
  for (let d = 0; d < DAYS_PER_YEAR_SLOT; d++) {
    let m = COHORT_BIT.all;
    m |= fsm[d] === 'Y' ? COHORT_BIT.fsm : COHORT_BIT.non_fsm;
    m |= sen[d] === 'E' ? COHORT_BIT.sen_ehcp : COHORT_BIT.non_sen_ehcp;
    m |= sen[d] === 'K' ? COHORT_BIT.sen_support : COHORT_BIT.non_sen_support;
    m |= sen[d] !== 'E' && sen[d] !== 'K' ? COHORT_BIT.sen_none : COHORT_BIT.non_sen_none;
    m |= flags.cin[d] ? COHORT_BIT.cin : COHORT_BIT.non_cin;
    m |= flags.cpp[d] ? COHORT_BIT.cpp : COHORT_BIT.non_cpp;
    m |= flags.cla[d] ? COHORT_BIT.cla : COHORT_BIT.non_cla;
    m |= flags.plac[d] ? COHORT_BIT.plac : COHORT_BIT.non_plac;
    m |= flags.cin[d] || flags.cpp[d] || flags.cla[d] ? COHORT_BIT.social_worker : COHORT_BIT.non_social_worker;
    masks[d] = m;
  }
  return masks;
}

function dayFlags(effective: string): Uint8Array {
  const out = new Uint8Array(DAYS_PER_YEAR_SLOT);
  for (let d = 0; d < DAYS_PER_YEAR_SLOT; d++) out[d] = effective[d] === 'Y' ? 1 : 0;
  return out;
}

/** Cohorts (excluding complements and `all`) a mask contains, for display. */
export function positiveCohortsOf(mask: number): Cohort[] {
  return COHORTS.filter((c) => c !== 'all' && !c.startsWith('non_') && (mask & COHORT_BIT[c]) !== 0);
}

/** Union of the masks over day slots [fromDay, toDay]. */
export function cohortsEver(masks: Int32Array, fromDay = 0, toDay = DAYS_PER_YEAR_SLOT - 1): number {
  let m = 0;
  for (let d = Math.max(0, fromDay); d <= Math.min(toDay, masks.length - 1); d++) m |= masks[d];
  return m;
}

/** Care episodes of one cohort that touch [from, to]. */
export function episodesOverlapping(care: readonly CareEpisodeSpan[], from: string, to: string): CareEpisodeSpan[] {
  return care.filter((e) => e.start <= to && (e.end === undefined || e.end >= from));
}

// ---- Statistical population ---------------------------------------------------------------------

const COMPULSORY_YEAR_GROUPS = new Set(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);

/**
 * The official statistics' population (`compulsory`): aged 5–15 on 31 August before the academic
 * year. Without a date of birth we fall back on the year group (Y1–Y11), which matches for pupils in
 * their normal cohort.
 */
export function isCompulsorySchoolAge(pupil: Pick<RegisterPupil, 'dob' | 'yearGroup'>, academicYear: number): boolean {
  if (pupil.dob) {
    const age = ageOn(pupil.dob, fromDayNumber(dayNumber(academicYearStart(academicYear)) + 30)); // 31 August
    return age >= 5 && age <= 15;
  }
  return pupil.yearGroup !== undefined && COMPULSORY_YEAR_GROUPS.has(pupil.yearGroup);
}
