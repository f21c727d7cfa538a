/**
 * The day-by-day absence model of one pupil. Each pupil has a propensity to be absent, split over
 * the reasons (illness, appointments, unauthorised other, …) so that the LA's phase totals match
 * the DfE's published reason mix; absence comes in episodes (illness lasts days, an appointment a
 * session) started at a rate that rises before breaks and at the end of term. Planned days (term-
 * time holidays, exclusions, part-time timetables, the planted behaviours) override the model.
 *
 * State is a few numbers per pupil, never the marks themselves, so memory stays flat whatever the
 * length of the range. A guard keeps ordinary noise from making the continuous runs the ground
 * truth plants deliberately: no background run of unauthorised absence reaches 20 consecutive
 * sessions. Illness is not capped (pupils reaching 15 days of it by chance are recorded as
 * incidental in the ground truth), except for the planted controls that must stay under it.
 */
import type { Random } from './random.js';

/**
 * Caps under the statutory figures (docs/design.md §2.5): background unauthorised runs stay under 20
 * consecutive sessions (10 school days); capped pupils stay under 30 illness sessions (15 days).
 */
const BACKGROUND_CAP = { unauthorisedRun: 18, illness: 29 } as const;
const ILLNESS_DAYS_SESSIONS = 30;

/** Reasons drawn by the model (the rest come from planned events). */
export const HAZARD_CODES = ['I', 'M', 'O', 'C', 'N', 'C1', 'J1', 'T'] as const;
export type HazardCode = (typeof HAZARD_CODES)[number];
const UNAUTHORISED = new Set(['G', 'N', 'O', 'U']);
const NOT_POSSIBLE = new Set(['D', 'X', 'Q', '#', 'Y1', 'Y2', 'Y3', 'Y4', 'Y5', 'Y6', 'Y7', 'Z']);

/** Episode shapes: expected sessions and days occupied per episode (see `startEpisode`). */
const EPISODE_SHAPE: Readonly<Record<HazardCode, { sessions: number; days: number }>> = {
  I: { sessions: 0.15 * 1 + 0.85 * 2 * 1.8, days: 0.15 + 0.85 * 1.8 },
  M: { sessions: 1, days: 1 },
  O: { sessions: 0.45 + 0.55 * 2 * 1.3, days: 0.45 + 0.55 * 1.3 },
  C: { sessions: 0.3 + 0.7 * 2, days: 1 },
  N: { sessions: 0.6 + 0.4 * 2, days: 1 },
  C1: { sessions: 1, days: 1 },
  J1: { sessions: 1, days: 1 },
  T: { sessions: 6, days: 3 },
};

export interface DayMarks {
  am: string;
  pm: string;
  /** What the school sends first when different (`N` for a reason not yet known); corrected later. */
  firstAm: string;
  firstPm: string;
}

export interface ModelParams {
  /** Per-reason session rates (fraction of possible sessions), in HAZARD_CODES order. */
  rates: number[];
  /** Per AM present session: late before (L) and after (U) registers closed. */
  lateL: number;
  lateU: number;
  /** Per present day: approved educational activity. */
  approved: number;
  /** Chance a background absence episode is first sent as `N`. */
  initialN: number;
}

export class PupilModel {
  /** Cumulative start probabilities per school day, HAZARD_CODES order. */
  private readonly cumulative: Float64Array;
  private readonly lateL: number;
  private readonly lateU: number;
  private readonly approved: number;
  private readonly initialN: number;

  // Planned days, sorted by day index, consumed with a cursor as days advance.
  planDays: number[] = [];
  planAm: (string | null)[] = [];
  planPm: (string | null)[] = [];
  private planCursor = 0;

  /** No background unauthorised absence at all (pupils whose planted unauthorised count must be exact). */
  quietUnauthorised = false;
  /** No background absence on holiday-adjacent days (pupils whose adjacent-day absence is planted exactly). */
  adjacentPresent = false;
  /** Illness stays under 30 sessions (controls that must never raise the 15-day flag). */
  illnessCapped = false;
  /** Day index on which illness of compulsory school age reached 30 sessions, or −1. */
  illnessReachedOn = -1;
  /**
   * Day indexes of the pupil's compulsory school age (docs/design.md §2.5): illness counts towards the
   * 15-day rule only inside it, as the service counts it (a Reception child before the prescribed
   * day after their fifth birthday, a student past the school leaving date).
   */
  statutoryFromDay = Number.NEGATIVE_INFINITY;
  statutoryToDay = Number.POSITIVE_INFINITY;
  /** Approved-activity codes allowed (W only for Years 10–11). */
  workExperience = false;

  // State.
  private episodeCode = '';
  private episodeSessions = 0;
  private unauthorisedRun = 0;
  private illness = 0;
  private statutoryIllness = 0;
  private plannedIllnessLeft = 0;
  private lastDay = -1;
  private readonly today: DayMarks = { am: '/', pm: '\\', firstAm: '/', firstPm: '\\' };

  constructor(params: ModelParams) {
    this.cumulative = startProbabilities(params.rates);
    this.lateL = params.lateL;
    this.lateU = params.lateU;
    this.approved = params.approved;
    this.initialN = params.initialN;
  }

  /** Install the planned days (any order; one entry per day). */
  setPlan(days: { day: number; am: string | null; pm: string | null }[]): void {
    days.sort((a, b) => a.day - b.day);
    this.planDays = days.map((d) => d.day);
    this.planAm = days.map((d) => d.am);
    this.planPm = days.map((d) => d.pm);
    this.plannedIllnessLeft = 0;
    for (const d of days) this.plannedIllnessLeft += (d.am === 'I' ? 1 : 0) + (d.pm === 'I' ? 1 : 0);
    this.planCursor = 0;
  }

  /**
   * The pupil's marks on a school day (called in increasing day order; repeated calls for the same
   * day, from a second school of a dual registration, return the same marks).
   */
  day(dayIdx: number, season: number, adjacent: boolean, partTimePm: boolean, random: Random): DayMarks {
    if (dayIdx === this.lastDay) return this.today;
    this.lastDay = dayIdx;
    const t = this.today;
    while (this.planCursor < this.planDays.length && this.planDays[this.planCursor] < dayIdx) this.planCursor++;
    if (this.planCursor < this.planDays.length && this.planDays[this.planCursor] === dayIdx) {
      const am = this.planAm[this.planCursor] ?? '/';
      const pm = this.planPm[this.planCursor] ?? '\\';
      this.planCursor++;
      this.episodeSessions = 0;
      if (am === 'I') this.plannedIllnessLeft--;
      if (pm === 'I') this.plannedIllnessLeft--;
      t.am = t.firstAm = am;
      t.pm = t.firstPm = partTimePm && pm === '\\' ? 'X' : pm;
      this.count(t.am);
      this.count(t.pm);
      return t;
    }
    let am = '/';
    let pm = '\\';
    let first = false;
    if (adjacent && this.adjacentPresent) {
      this.episodeSessions = 0;
    } else if (this.episodeSessions > 0) {
      am = pm = this.episodeCode;
      this.episodeSessions -= 2;
    } else {
      const u = random.next() / season;
      const c = this.cumulative;
      if (u < c[c.length - 1]) {
        let r = 0;
        while (u >= c[r]) r++;
        [am, pm] = this.startEpisode(HAZARD_CODES[r], random);
        first = true;
      }
    }
    // Guards, session by session: background absence never makes a 20-session unauthorised run, nor a
    // capped pupil's 30th illness session.
    am = this.guard(am, '/');
    if (am === '/') {
      const u = random.next();
      const lateAllowed =
        !this.quietUnauthorised &&
        !(adjacent && this.adjacentPresent) &&
        this.unauthorisedRun < BACKGROUND_CAP.unauthorisedRun;
      if (u < this.lateU && lateAllowed) am = 'U';
      else if (u < this.lateU + this.lateL) am = 'L';
    }
    this.count(am);
    pm = this.guard(pm, '\\');
    if (am === '/' && pm === '\\' && random.next() < this.approved) {
      const code = approvedCode(random, this.workExperience);
      if (random.chance(0.5)) am = pm = code;
      else pm = code;
    }
    if (partTimePm) pm = 'X';
    this.count(pm);
    t.am = t.firstAm = am;
    t.pm = t.firstPm = pm;
    // A new episode's reason is often unknown on the day: the first return says N, a later one corrects it.
    if (first && random.next() < this.initialN) {
      if (isCorrectable(am)) t.firstAm = 'N';
      if (isCorrectable(pm)) t.firstPm = 'N';
    }
    return t;
  }

  private startEpisode(code: HazardCode, random: Random): [string, string] {
    switch (code) {
      case 'I': {
        if (random.chance(0.15)) return ['/', 'I']; // sent home ill at lunchtime
        const days = Math.min(10, random.geometric(1.8));
        this.begin('I', days);
        return ['I', 'I'];
      }
      case 'O': {
        if (random.chance(0.45)) return random.chance(0.7) ? ['/', 'O'] : ['O', '\\'];
        this.begin('O', random.geometric(1.3));
        return ['O', 'O'];
      }
      case 'C':
        return random.chance(0.3) ? ['C', '\\'] : ['C', 'C'];
      case 'N':
        return random.chance(0.6) ? (random.chance(0.5) ? ['N', '\\'] : ['/', 'N']) : ['N', 'N'];
      case 'T':
        this.begin('T', 3);
        return ['T', 'T'];
      default:
        // M, C1, J1: one session, morning or afternoon.
        return random.chance(0.5) ? [code, '\\'] : ['/', code];
    }
  }

  private begin(code: string, days: number): void {
    this.episodeCode = code;
    this.episodeSessions = (days - 1) * 2;
  }

  private guard(code: string, present: string): string {
    if (UNAUTHORISED.has(code) && (this.quietUnauthorised || this.unauthorisedRun >= BACKGROUND_CAP.unauthorisedRun)) {
      this.episodeSessions = 0;
      return present;
    }
    if (code === 'I' && this.illnessCapped && this.illness + this.plannedIllnessLeft >= BACKGROUND_CAP.illness) {
      this.episodeSessions = 0;
      return present;
    }
    return code;
  }

  private count(code: string): void {
    if (NOT_POSSIBLE.has(code)) return;
    if (UNAUTHORISED.has(code)) this.unauthorisedRun++;
    else this.unauthorisedRun = 0;
    if (code !== 'I') return;
    this.illness++;
    if (
      this.lastDay >= this.statutoryFromDay &&
      this.lastDay <= this.statutoryToDay &&
      ++this.statutoryIllness === ILLNESS_DAYS_SESSIONS
    ) {
      this.illnessReachedOn = this.lastDay;
    }
  }

  /** Illness sessions of compulsory school age (what the 15-day rule counts). */
  get illnessSessions(): number {
    return this.statutoryIllness;
  }
}

function isCorrectable(code: string): boolean {
  return code === 'I' || code === 'M' || code === 'O' || code === 'C';
}

function approvedCode(random: Random, workExperience: boolean): string {
  const u = random.next();
  if (u < 0.45) return 'V'; // educational visit
  if (u < 0.65) return 'P'; // approved sporting activity
  if (u < 0.9) return 'B'; // education off site
  if (u < 0.95 || !workExperience) return 'K'; // arranged by the LA
  return 'W';
}

/**
 * Start probability per school day for each reason, so that episodes produce the wanted session
 * rates: p_r = 2ρ_r / sessions_r, scaled for the days already taken by running episodes (renewal:
 * a day fraction f of absence with mean episode length L days needs P = f / (L(1 − f) + f)).
 */
function startProbabilities(rates: readonly number[]): Float64Array {
  const p = HAZARD_CODES.map((code, r) => (2 * rates[r]) / EPISODE_SHAPE[code].sessions);
  const total = p.reduce((a, b) => a + b, 0);
  const cumulative = new Float64Array(HAZARD_CODES.length);
  if (total <= 0) return cumulative;
  const occupied = Math.min(
    0.92,
    HAZARD_CODES.reduce((a, code, r) => a + p[r] * EPISODE_SHAPE[code].days, 0),
  );
  const meanDays = occupied / total;
  const corrected = occupied / (meanDays * (1 - occupied) + occupied);
  const scale = corrected / total;
  let acc = 0;
  for (let r = 0; r < p.length; r++) {
    acc += p[r] * scale;
    cumulative[r] = acc;
  }
  return cumulative;
}
