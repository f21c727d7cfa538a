/**
 * Cohorts (docs/design.md §2.4), date-effective: a session counts towards a cohort only if the pupil was in
 * the cohort on that session's date. Membership comes from the school's own statements (held from the
 * date stated until a later row says otherwise) or, for cla / cin / cpp / plac, from the LA's
 * social-care episodes covering the date.
 */
import { academicYearLength, academicYearStart, ageOn, dayNumber, DAYS_PER_YEAR_SLOT, fromDayNumber } from './dates.js';
import { type Characteristic, NOT_STATED, type RegisterPupil } from './register.js';

export const COHORTS = [
  'all',
  'fsm',
  'non_fsm',
  'sen_ehcp',
  'non_sen_ehcp',
  'sen_support',
  'non_sen_support',
  'sen_none',
  'non_sen_none',
  'cin',
  'non_cin',
  'cpp',
  'non_cpp',
  'cla',
  'non_cla',
  'plac',
  'non_plac',
  'social_worker',
  'non_social_worker',
] as const;
export type Cohort = (typeof COHORTS)[number];

export const COHORT_BIT: Readonly<Record<Cohort, number>> = Object.fromEntries(
  COHORTS.map((c, i) => [c, 1 << i]),
) as Record<Cohort, number>;

export function isCohort(s: string): s is Cohort {
  return (COHORTS as readonly string[]).includes(s);
}

/** The cohort and its complement, for "each cohort beside its complement" comparisons. */
export function complementOf(c: Cohort): Cohort | undefined {
  if (c === 'all') return undefined;
  return (c.startsWith('non_') ? c.slice(4) : `non_${c}`) as Cohort;
}

/** The cohorts a Virtual School Head works with (docs/design.md §4). */
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
 *
 * One pass over the statements with the value in force carried forward (effectiveByDay's rule,
 * without building a string per characteristic): this runs for every pupil on every ingest.
 */
export function cohortMasksByDay(
  academicYear: number,
  stated: Record<Characteristic, string>,
  care: readonly CareEpisodeSpan[] = [],
): Int32Array {
  // An ingest asks for the same pupil's masks twice (the pupil's summary, then the school's cells),
  // with the register's own statements object: the last answer for that object is kept and checked.
  const held = lastMasks.get(stated);
  if (
    held !== undefined &&
    held.academicYear === academicYear &&
    sameStatements(held.stated, stated) &&
    sameCare(held.care, care)
  )
    return held.masks.slice();
  const masks = computeMasks(academicYear, stated, care);
  lastMasks.set(stated, {
    academicYear,
    stated: { fsm: stated.fsm, sen: stated.sen, cla: stated.cla, plac: stated.plac, cin: stated.cin, cpp: stated.cpp },
    care: care.map((e) => ({ cohort: e.cohort, start: e.start, end: e.end })),
    masks,
  });
  return masks.slice();
}

const lastMasks = new WeakMap<
  object,
  { academicYear: number; stated: Record<Characteristic, string>; care: CareEpisodeSpan[]; masks: Int32Array }
>();

function sameStatements(a: Record<Characteristic, string>, b: Record<Characteristic, string>): boolean {
  return (
    a.fsm === b.fsm && a.sen === b.sen && a.cla === b.cla && a.plac === b.plac && a.cin === b.cin && a.cpp === b.cpp
  );
}

function sameCare(a: readonly CareEpisodeSpan[], b: readonly CareEpisodeSpan[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++)
    if (a[i].cohort !== b[i].cohort || a[i].start !== b[i].start || a[i].end !== b[i].end) return false;
  return true;
}

function computeMasks(
  academicYear: number,
  stated: Record<Characteristic, string>,
  care: readonly CareEpisodeSpan[],
): Int32Array {
  const careDays = care.length > 0 ? careFlagsByDay(academicYear, care) : undefined;
  const sFsm = stated.fsm;
  const sSen = stated.sen;
  const sCla = stated.cla;
  const sPlac = stated.plac;
  const sCin = stated.cin;
  const sCpp = stated.cpp;
  // The statement in force (char code; 'N' before the first), per characteristic.
  let fsm = CH_N;
  let sen = CH_N;
  let cla = CH_N;
  let plac = CH_N;
  let cin = CH_N;
  let cpp = CH_N;
  const masks = new Int32Array(DAYS_PER_YEAR_SLOT);
  for (let d = 0; d < DAYS_PER_YEAR_SLOT; d++) {
    // Beyond the end of a statement string nothing is in force (as effectiveByDay's shorter string).
    let ch: number;
    let eFsm = 0;
    if (d < sFsm.length) {
      ch = sFsm.charCodeAt(d);
      if (ch !== CH_NOT_STATED) fsm = ch;
      eFsm = fsm;
    }
    let eSen = 0;
    if (d < sSen.length) {
      ch = sSen.charCodeAt(d);
      if (ch !== CH_NOT_STATED) sen = ch;
      eSen = sen;
    }
    let flags = careDays === undefined ? 0 : careDays[d];
    if (d < sCla.length) {
      ch = sCla.charCodeAt(d);
      if (ch !== CH_NOT_STATED) cla = ch;
      if (cla === CH_Y) flags |= CARE_CLA;
    }
    if (d < sPlac.length) {
      ch = sPlac.charCodeAt(d);
      if (ch !== CH_NOT_STATED) plac = ch;
      if (plac === CH_Y) flags |= CARE_PLAC;
    }
    if (d < sCin.length) {
      ch = sCin.charCodeAt(d);
      if (ch !== CH_NOT_STATED) cin = ch;
      if (cin === CH_Y) flags |= CARE_CIN;
    }
    if (d < sCpp.length) {
      ch = sCpp.charCodeAt(d);
      if (ch !== CH_NOT_STATED) cpp = ch;
      if (cpp === CH_Y) flags |= CARE_CPP;
    }
    masks[d] = maskOf(eFsm, eSen, flags);
  }
  return masks;
}

const CH_N = 'N'.charCodeAt(0);
const CH_Y = 'Y'.charCodeAt(0);
const CH_E = 'E'.charCodeAt(0);
const CH_K = 'K'.charCodeAt(0);
const CH_NOT_STATED = NOT_STATED.charCodeAt(0);
const CARE_CLA = 1;
const CARE_CIN = 2;
const CARE_CPP = 4;
const CARE_PLAC = 8;
const CARE_BIT: Readonly<Record<CareCohort, number>> = { cla: CARE_CLA, cin: CARE_CIN, cpp: CARE_CPP, plac: CARE_PLAC };

function maskOf(fsm: number, sen: number, flags: number): number {
  let m = COHORT_BIT.all;
  m |= fsm === CH_Y ? COHORT_BIT.fsm : COHORT_BIT.non_fsm;
  m |= sen === CH_E ? COHORT_BIT.sen_ehcp : COHORT_BIT.non_sen_ehcp;
  m |= sen === CH_K ? COHORT_BIT.sen_support : COHORT_BIT.non_sen_support;
  m |= sen !== CH_E && sen !== CH_K ? COHORT_BIT.sen_none : COHORT_BIT.non_sen_none;
  m |= flags & CARE_CIN ? COHORT_BIT.cin : COHORT_BIT.non_cin;
  m |= flags & CARE_CPP ? COHORT_BIT.cpp : COHORT_BIT.non_cpp;
  m |= flags & CARE_CLA ? COHORT_BIT.cla : COHORT_BIT.non_cla;
  m |= flags & CARE_PLAC ? COHORT_BIT.plac : COHORT_BIT.non_plac;
  m |= flags & (CARE_CIN | CARE_CPP | CARE_CLA) ? COHORT_BIT.social_worker : COHORT_BIT.non_social_worker;
  return m;
}

/** CARE_* bits per day slot from the LA's episodes, clipped to the year's real days. */
function careFlagsByDay(academicYear: number, care: readonly CareEpisodeSpan[]): Uint8Array {
  const out = new Uint8Array(DAYS_PER_YEAR_SLOT);
  const yearStart = dayNumber(academicYearStart(academicYear));
  // Clip to the year's real days: in a 365-day year slot 365 is the next 1 August, and an episode
  // starting then must not make the pupil "ever" in the cohort this year.
  const lastDay = academicYearLength(academicYear) - 1;
  for (const ep of care) {
    const bit = CARE_BIT[ep.cohort];
    const from = Math.max(0, dayNumber(ep.start) - yearStart);
    const to = Math.min(lastDay, ep.end ? dayNumber(ep.end) - yearStart : lastDay);
    for (let d = from; d <= to; d++) out[d] |= bit;
  }
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

/** Answers by academic year and date of birth (a school's pupils share a few hundred birth dates). */
const compulsoryByBirthDate = new Map<string, boolean>();

/** 31 August before each academic year (asked for every pupil on every ingest, so kept). */
const censusDates = new Map<number, string>();
function censusDateOf(academicYear: number): string {
  let date = censusDates.get(academicYear);
  if (date === undefined)
    censusDates.set(academicYear, (date = fromDayNumber(dayNumber(academicYearStart(academicYear)) + 30)));
  return date;
}

const COMPULSORY_YEAR_GROUPS = new Set(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);

/**
 * The official statistics' population (`compulsory`): aged 5–15 on 31 August before the academic
 * year. Without a date of birth we fall back on the year group (Y1–Y11), which matches for pupils in
 * their normal cohort. Not compulsory school age in law, which decides the statutory triggers
 * session by session (compulsory-school-age.ts).
 */
export function inCompulsoryAgePopulation(
  pupil: Pick<RegisterPupil, 'dob' | 'yearGroup'>,
  academicYear: number,
): boolean {
  if (pupil.dob) {
    const key = `${academicYear}|${pupil.dob}`;
    let compulsory = compulsoryByBirthDate.get(key);
    if (compulsory === undefined) {
      const age = ageOn(pupil.dob, censusDateOf(academicYear));
      if (compulsoryByBirthDate.size >= 20_000) compulsoryByBirthDate.clear();
      compulsoryByBirthDate.set(key, (compulsory = age >= 5 && age <= 15));
    }
    return compulsory;
  }
  return pupil.yearGroup !== undefined && COMPULSORY_YEAR_GROUPS.has(pupil.yearGroup);
}
