/**
 * Planned absence: the events that make the LA realistic (term-time holidays, suspensions,
 * part-time timetables, religious festivals, study leave) and the behaviours planted for the
 * detectors of docs/design.md §2.5–2.6, each recorded in the ground truth with its dates and codes.
 *
 * Planted behaviours go to "stable" pupils (one enrolment covering the whole range, no move, no
 * dual registration), one behaviour per pupil, and are shaped so that the definitions find them and
 * ordinary noise does not blur them: pupils planted near the penalty-notice threshold have no other
 * unauthorised absence; pupils whose holiday-adjacent absence is planted (positives and controls)
 * have no background absence on holiday-adjacent days; unauthorised episodes are preceded by a day
 * of attendance so background absence cannot lengthen them.
 */
import { DEFAULT_LA_SETTINGS } from '../../shared/config.js';
import { compulsorySchoolAge } from '../../shared/domain/compulsory-school-age.js';
import { reasonPercent, MODEL, type Phase } from './calibration.js';
import { FESTIVALS } from './names.js';
import type { Enrolment, Population, Pupil } from './population.js';
import type { Random } from './random.js';
import type { Timetable } from './timetable.js';

export interface PlannedDay {
  day: number;
  /** Code for the session, or null for attendance. */
  am: string | null;
  pm: string | null;
}

export interface PupilPlan {
  days: Map<number, PlannedDay>;
  quietUnauthorised: boolean;
  adjacentPresent: boolean;
  /** Keep the pupil under 30 illness sessions (controls that must not raise the 15-day flag). */
  illnessCapped: boolean;
  /** Multiplies the pupil's background absence propensity. */
  rateScale: number;
}

export interface GroundTruthMark {
  date: string;
  am?: string;
  pm?: string;
}

/** Flag and finding types a behaviour should, may, or must never raise (docs/design.md §4 flag types; `school_coding` the school detector's finding). */
export type FlagName =
  | 'penalty_notice_threshold'
  | 'ten_day_unauthorised'
  | 'twenty_day_unauthorised'
  | 'illness_15_days'
  | 'holiday_adjacent_absence'
  | 'near_threshold_unauthorised'
  | 'family_pattern'
  | 'school_coding';

export interface Behaviour {
  id: string;
  kind: string;
  class: 'planted' | 'control';
  unit: 'pupil' | 'family' | 'school';
  expectFlags: FlagName[];
  mayFlag: FlagName[];
  mustNotFlag: FlagName[];
  upn?: string;
  urn?: string;
  uprn?: string;
  /** Pupil behaviours: the planted marks. */
  marks?: GroundTruthMark[];
  /** Family and school behaviours: each pupil with their planted marks. */
  members?: { upn: string; urn: string; marks: GroundTruthMark[] }[];
  breaks?: { start: string; end: string; label: string }[];
  detail: string;
}

export interface BackgroundEvent {
  /**
   * Realism events, plus `illness_15_days`: a pupil whose ordinary illness reached 30 sessions by
   * chance (`from` = the day it did) — a true positive of the 15-day rule that was not planted.
   */
  kind:
    'short_holiday' | 'exclusion' | 'part_time_timetable' | 'religious_observance' | 'study_leave' | 'illness_15_days';
  upn: string;
  urn: string;
  from: string;
  to: string;
  code: string;
  sessions: number;
}

export interface PlanResult {
  plans: Map<number, PupilPlan>;
  behaviours: Behaviour[];
  background: BackgroundEvent[];
  skipped: { kind: string; reason: string }[];
}

export interface PlanOptions {
  fromIdx: number;
  toIdx: number;
  academicYear: number;
  inAreaPupils: number;
  inAreaSchools: number;
}

type Side = 'before' | 'after';
type Entry = PlannedDay;

const K = DEFAULT_LA_SETTINGS.holidayAdjacentDays;

/** Planted counts: share of the LA's pupils (or schools), and the least planted when the range allows. */
export const PLANTED_COUNTS: Readonly<Record<string, { per: 'pupil' | 'school'; rate: number; min: number }>> = {
  near_threshold_holiday: { per: 'pupil', rate: 0.004, min: 5 },
  near_threshold_holiday_repeated: { per: 'pupil', rate: 0.002, min: 4 },
  split_holiday_illness: { per: 'pupil', rate: 0.003, min: 5 },
  holiday_adjacent_illness: { per: 'pupil', rate: 0.0035, min: 6 },
  family_holiday_adjacent: { per: 'pupil', rate: 0.0012, min: 4 },
  school_codes_holiday_as_illness: { per: 'school', rate: 1 / 30, min: 1 },
  ten_day_unauthorised: { per: 'pupil', rate: 0.0012, min: 4 },
  twenty_day_unauthorised: { per: 'pupil', rate: 0.0006, min: 3 },
  long_illness: { per: 'pupil', rate: 0.0025, min: 4 },
  religious_observance_adjacent: { per: 'pupil', rate: 0.0025, min: 5 },
  exclusion_adjacent: { per: 'pupil', rate: 0.0015, min: 4 },
  part_time_adjacent: { per: 'pupil', rate: 0.001, min: 3 },
  illness_spanning_break: { per: 'pupil', rate: 0.0025, min: 5 },
  ordinary_illness: { per: 'pupil', rate: 0.003, min: 5 },
  under_five_unauthorised: { per: 'pupil', rate: 0.0008, min: 3 },
  post_sixteen_unauthorised: { per: 'pupil', rate: 0.0004, min: 3 },
  unresolved_n: { per: 'pupil', rate: 0.001, min: 4 },
};

/** The statutory flags (docs/design.md §2.5), which apply only to pupils of compulsory school age. */
const STATUTORY_FLAGS: FlagName[] = [
  'penalty_notice_threshold',
  'ten_day_unauthorised',
  'twenty_day_unauthorised',
  'illness_15_days',
];

export function planBehaviours(
  pop: Population,
  timetables: ReadonlyMap<string, Timetable>,
  o: PlanOptions,
  random: Random,
): PlanResult {
  return new Planner(pop, timetables, o, random).run();
}

class Planner {
  private readonly plans = new Map<number, PupilPlan>();
  private readonly behaviours: Behaviour[] = [];
  private readonly background: BackgroundEvent[] = [];
  private readonly skipped: { kind: string; reason: string }[] = [];
  private readonly used = new Set<number>();
  private pool: Pupil[] = [];
  /**
   * For each place in the pool, the next place at or after it that may still be free (a place is
   * linked past once its pupil is used): `take` steps over the pupils already used without visiting
   * them, where a scan from the front visited them all on every call (quadratic in the LA's pupils:
   * 45 → 25 s of CPU for a 600-school LA's week).
   */
  private nextPlace = new Int32Array(1);
  private readonly codingSchools = new Set<string>();
  private readonly codingMembers = new Map<
    string,
    Map<string, { upn: string; urn: string; marks: GroundTruthMark[] }>
  >();

  constructor(
    private readonly pop: Population,
    private readonly timetables: ReadonlyMap<string, Timetable>,
    private readonly o: PlanOptions,
    private readonly random: Random,
  ) {}

  run(): PlanResult {
    this.pool = this.random.shuffle(this.pop.pupils.filter((p) => this.stable(p)));
    this.nextPlace = Int32Array.from({ length: this.pool.length + 1 }, (_, i) => i);
    this.chooseCodingSchools();
    this.plantPupilBehaviours();
    this.plantFamilies();
    this.backgroundHolidays();
    this.backgroundExclusions();
    this.backgroundPartTime();
    this.religiousFestivals();
    this.studyLeave();
    this.codingSchoolExtras();
    this.finishCodingSchools();
    // Last, from its own random stream: the LA planted before issue 22 stays exactly as it was.
    this.plantOutsideCompulsoryAge();
    this.behaviours.forEach((b, i) => {
      b.id = `B${String(i + 1).padStart(5, '0')}`;
    });
    return { plans: this.plans, behaviours: this.behaviours, background: this.background, skipped: this.skipped };
  }

  // ---- helpers -----------------------------------------------------------------------------

  private timetable(e: Enrolment): Timetable {
    return this.timetables.get(e.school.spec.calendar) as Timetable;
  }

  private stable(p: Pupil): boolean {
    if (p.complex || p.outOfArea || p.enrolments.length !== 1 || p.partTimeUntil >= this.o.fromIdx) return false;
    const e = p.enrolments[0];
    const phase = e.school.spec.phase;
    if (phase === 'pru') return false;
    const t = this.timetable(e);
    const first = t.schoolDaysIn(this.o.fromIdx, this.o.toIdx)[0];
    return first !== undefined && e.startIdx <= first && e.endIdx >= this.o.toIdx;
  }

  private plan(p: Pupil): PupilPlan {
    let plan = this.plans.get(p.index);
    if (!plan) {
      plan = { days: new Map(), quietUnauthorised: false, adjacentPresent: false, illnessCapped: false, rateScale: 1 };
      this.plans.set(p.index, plan);
    }
    return plan;
  }

  private inRange(e: Enrolment, day: number): boolean {
    return day >= Math.max(this.o.fromIdx, e.startIdx) && day <= Math.min(this.o.toIdx, e.endIdx);
  }

  /** Whether every entry is a school day within the enrolment and not yet planned. */
  private fits(p: Pupil, e: Enrolment, entries: Entry[]): boolean {
    const t = this.timetable(e);
    const plan = this.plans.get(p.index);
    return entries.every((x) => x.day >= 0 && t.isSchoolDay(x.day) && this.inRange(e, x.day) && !plan?.days.has(x.day));
  }

  /**
   * Plan the entries; with `unauthorised`, the school day before is planned as attendance so that
   * background absence cannot join the episode (and the day after, with `bufferAfter`).
   */
  private put(p: Pupil, e: Enrolment, entries: Entry[], guard: { before?: boolean; after?: boolean } = {}): boolean {
    if (entries.length === 0 || !this.fits(p, e, entries)) return false;
    const plan = this.plan(p);
    const t = this.timetable(e);
    for (const x of entries) plan.days.set(x.day, { ...x });
    const days = entries.map((x) => x.day).sort((a, b) => a - b);
    const buffer = (d: number): void => {
      if (d >= 0 && this.inRange(e, d) && !plan.days.has(d)) plan.days.set(d, { day: d, am: null, pm: null });
    };
    if (guard.before) buffer(t.previousSchoolDay(days[0]));
    if (guard.after) buffer(t.nextSchoolDay(days[days.length - 1]));
    return true;
  }

  private marks(e: Enrolment, entries: Entry[]): GroundTruthMark[] {
    const t = this.timetable(e);
    return [...entries]
      .sort((a, b) => a.day - b.day)
      .map((x) => {
        const m: GroundTruthMark = { date: t.date(x.day) };
        if (x.am !== null) m.am = x.am;
        if (x.pm !== null) m.pm = x.pm;
        return m;
      });
  }

  private breakInfo(e: Enrolment, b: Timetable['breaks'][number]): { start: string; end: string; label: string } {
    const t = this.timetable(e);
    return { start: t.date(b.from), end: t.date(b.to), label: b.label };
  }

  /** Breaks whose K adjacent days on the side lie in the range (and enrolment); main holidays first when `main`. */
  private breaksWithSide(e: Enrolment, side: Side | 'both', main = true): Timetable['breaks'] {
    const t = this.timetable(e);
    const ok = (days: number[]): boolean => days.length === K && days.every((d) => this.inRange(e, d));
    const list = t.breaks.filter((b) =>
      side === 'before' ? ok(b.before) : side === 'after' ? ok(b.after) : ok(b.before) && ok(b.after),
    );
    if (!main) return list;
    const long = list.filter((b) => b.to - b.from >= 4);
    return long.length >= 2 ? long : list;
  }

  /** The `n` school days ending at the last day before a break, or starting at the first day after it. */
  private daysBeside(e: Enrolment, b: Timetable['breaks'][number], side: Side, n: number): number[] {
    const t = this.timetable(e);
    const days: number[] = [];
    if (side === 'before') {
      let d = b.before[0];
      for (let i = 0; i < n && d >= 0; i++, d = t.shift(d, -1)) days.unshift(d);
    } else {
      let d = b.after[0];
      for (let i = 0; i < n && d >= 0; i++, d = t.shift(d, 1)) days.push(d);
    }
    return days.length === n ? days : [];
  }

  private count(kind: string): number {
    const c = PLANTED_COUNTS[kind];
    const base = c.per === 'school' ? this.o.inAreaSchools : this.o.inAreaPupils;
    return Math.max(c.min, Math.round(base * c.rate));
  }

  /** The first pupil of the pool not yet used, outside the coding schools, that `filter` accepts. */
  private take(filter: (p: Pupil) => boolean = () => true): Pupil | undefined {
    for (let i = this.free(0); i < this.pool.length; i = this.free(i + 1)) {
      const p = this.pool[i];
      if (this.used.has(p.index)) {
        // Used by a family (plantFamilies), not through here.
        this.nextPlace[i] = i + 1;
        continue;
      }
      if (this.codingSchools.has(p.enrolments[0].school.spec.urn) || !filter(p)) continue;
      this.used.add(p.index);
      this.nextPlace[i] = i + 1;
      return p;
    }
    return undefined;
  }

  /** The first place at or after `i` not yet linked past (path halving keeps the links short). */
  private free(i: number): number {
    const next = this.nextPlace;
    while (next[i] !== i) {
      next[i] = next[next[i]];
      i = next[i];
    }
    return i;
  }

  private record(b: Omit<Behaviour, 'id'>): void {
    this.behaviours.push({ id: '', ...b });
  }

  /** Plant `kind` on up to its count of pupils with `plant`; note it as skipped when none fit. */
  private plantEach(kind: string, plant: (p: Pupil, e: Enrolment) => boolean, filter?: (p: Pupil) => boolean): void {
    const wanted = this.count(kind);
    let planted = 0;
    let failures = 0;
    while (planted < wanted && failures < wanted * 3 + 10) {
      const p = this.take(filter);
      if (!p) break;
      if (plant(p, p.enrolments[0])) planted++;
      else {
        this.plans.delete(p.index);
        failures++;
      }
    }
    if (planted === 0)
      this.skipped.push({ kind, reason: 'the range holds no place for it (too short, or too few breaks or pupils)' });
    else if (planted < wanted)
      this.skipped.push({ kind, reason: `planted ${planted} of ${wanted}: the range holds no more places for it` });
  }

  private full(days: number[], code: string): Entry[] {
    return days.map((day) => ({ day, am: code, pm: code }));
  }

  // ---- planted behaviours ------------------------------------------------------------------

  private plantPupilBehaviours(): void {
    const mainstream = (p: Pupil): boolean => p.enrolments[0].school.spec.phase !== 'special';

    // A family keeps a term-time holiday to 8 or 9 unauthorised sessions, next to a break.
    this.plantEach(
      'near_threshold_holiday',
      (p, e) => {
        const entries = this.nearThresholdEpisode(p, e, this.random.pick(['before', 'after'] as const));
        if (!entries) return false;
        this.plan(p).quietUnauthorised = true;
        const g = sessions(entries.entries, 'G');
        this.record({
          kind: 'near_threshold_holiday',
          class: 'planted',
          unit: 'pupil',
          expectFlags: ['near_threshold_unauthorised'],
          mayFlag: [],
          mustNotFlag: ['penalty_notice_threshold'],
          upn: p.upn,
          urn: e.school.spec.urn,
          marks: this.marks(e, entries.entries),
          breaks: [this.breakInfo(e, entries.break)],
          detail: `${g} unauthorised holiday sessions (G) ${entries.side} the ${entries.break.label}: a rolling 10-school-week window peaks at ${g}, just under the threshold of 10; no other unauthorised absence`,
        });
        return true;
      },
      mainstream,
    );

    // The same, twice, more than 10 school weeks apart (so no window holds both).
    this.plantEach(
      'near_threshold_holiday_repeated',
      (p, e) => {
        const t = this.timetable(e);
        const first = this.nearThresholdEpisode(p, e, 'before');
        if (!first) return false;
        const firstWeek = t.week[first.entries[0].day];
        const lastWeek = t.week[first.entries[first.entries.length - 1].day];
        const candidates = this.breaksWithSide(e, 'after').filter(
          (b) => t.week[b.after[0]] - lastWeek >= 11 || firstWeek - t.week[b.after[0]] >= 11,
        );
        if (candidates.length === 0) return false;
        const second = this.nearThresholdEpisode(p, e, 'after', this.random.pick(candidates));
        if (!second) return false;
        this.plan(p).quietUnauthorised = true;
        const all = [...first.entries, ...second.entries];
        this.record({
          kind: 'near_threshold_holiday_repeated',
          class: 'planted',
          unit: 'pupil',
          expectFlags: ['near_threshold_unauthorised'],
          mayFlag: [],
          mustNotFlag: ['penalty_notice_threshold'],
          upn: p.upn,
          urn: e.school.spec.urn,
          marks: this.marks(e, all),
          breaks: [this.breakInfo(e, first.break), this.breakInfo(e, second.break)],
          detail: `two holidays of ${sessions(first.entries, 'G')} and ${sessions(second.entries, 'G')} unauthorised sessions, next to the ${first.break.label} and the ${second.break.label}, more than 10 school weeks apart: each window peaks just under the threshold`,
        });
        return true;
      },
      mainstream,
    );

    // A holiday split into unauthorised + illness next to a break: G alone ≤ 9, with the illness ≥ 10.
    this.plantEach('split_holiday_illness', (p, e) => {
      const side = this.random.pick(['before', 'after'] as const);
      const list = this.breaksWithSide(e, side);
      if (list.length === 0) return false;
      const b = this.random.pick(list);
      // (holiday days, illness days): G = 8, 6 or 8 sessions; with the illness 10, 10 or 12.
      const [holidayDays, illnessDays] = this.random.pick([
        [4, 1],
        [3, 2],
        [4, 2],
      ] as const);
      const days = this.daysBeside(e, b, side, holidayDays + illnessDays);
      if (days.length === 0) return false;
      // The illness is reported at the break's edge: the last days before it or the first days after.
      const ill = side === 'before' ? days.slice(holidayDays) : days.slice(0, illnessDays);
      const entries = days.map((day) => (ill.includes(day) ? { day, am: 'I', pm: 'I' } : { day, am: 'G', pm: 'G' }));
      if (!this.put(p, e, entries, { before: true, after: true })) return false;
      this.plan(p).quietUnauthorised = true;
      const g = sessions(entries, 'G');
      const i = sessions(entries, 'I');
      this.record({
        kind: 'split_holiday_illness',
        class: 'planted',
        unit: 'pupil',
        expectFlags: ['near_threshold_unauthorised'],
        mayFlag: [],
        mustNotFlag: ['penalty_notice_threshold'],
        upn: p.upn,
        urn: e.school.spec.urn,
        marks: this.marks(e, entries),
        breaks: [this.breakInfo(e, b)],
        detail: `${g} unauthorised holiday sessions and ${i} illness sessions contiguous with them, ${side} the ${b.label}: ${g} alone is under the threshold, ${g + i} with the illness meets it`,
      });
      return true;
    });

    // Illness concentrated on holiday-adjacent days: an otherwise good attender "ill" next to most
    // breaks (4–6 of them, at least 3), so that it is significant even against a strict test.
    this.plantEach('holiday_adjacent_illness', (p, e) => {
      const picked = this.adjacentDaysAtBreaks(e, 4 + this.random.int(3), 3);
      if (!picked) return false;
      const code = this.random.chance(0.85) ? 'I' : 'M';
      const entries = picked.days.map((day) => ({ day, am: code === 'M' ? 'M' : 'I', pm: 'I' }));
      if (!this.put(p, e, entries)) return false;
      const plan = this.plan(p);
      plan.adjacentPresent = true;
      plan.illnessCapped = true;
      plan.rateScale = 0.2;
      this.record({
        kind: 'holiday_adjacent_illness',
        class: 'planted',
        unit: 'pupil',
        expectFlags: ['holiday_adjacent_absence'],
        mayFlag: [],
        mustNotFlag: ['illness_15_days'],
        upn: p.upn,
        urn: e.school.spec.urn,
        marks: this.marks(e, entries),
        breaks: picked.breaks.map((b) => this.breakInfo(e, b)),
        detail: `${entries.length * 2} absence sessions (mostly illness) on holiday-adjacent days next to ${picked.breaks.length} different breaks; little other absence, none on holiday-adjacent days`,
      });
      return true;
    });

    // 10 school days (20 sessions) of continuous unauthorised absence; some span a half term.
    this.plantEach('ten_day_unauthorised', (p, e) => this.unauthorisedRun(p, e, 10), mainstream);
    this.plantEach('twenty_day_unauthorised', (p, e) => this.unauthorisedRun(p, e, 20), mainstream);

    // 15 days of illness: one long illness or several episodes, away from breaks.
    this.plantEach('long_illness', (p, e) => {
      const t = this.timetable(e);
      const days = t.schoolDaysIn(this.o.fromIdx, this.o.toIdx).filter((d) => !t.adjacent[d]);
      let chosen: number[] = [];
      let shape: string;
      if (this.random.chance(0.6)) {
        // One long illness clear of holiday-adjacent days (so it never looks like a holiday pattern).
        const n = 15 + this.random.int(8);
        for (let tries = 0; tries < 20 && chosen.length < n; tries++) {
          chosen = [];
          for (
            let d = this.random.pick(days);
            d >= 0 && chosen.length < n && !t.adjacent[d] && this.inRange(e, d);
            d = t.shift(d, 1)
          )
            chosen.push(d);
        }
        if (chosen.length < n) return false;
        shape = `one illness of ${n} school days`;
      } else {
        const episodes = 4 + this.random.int(3);
        const per = Math.ceil(16 / episodes) + 1;
        for (let k = 0; k < episodes; k++) {
          const start = this.random.pick(days);
          for (let d = start, n = 0; n < per && d >= 0; n++, d = t.shift(d, 1))
            if (!t.adjacent[d] && this.inRange(e, d)) chosen.push(d);
        }
        chosen = [...new Set(chosen)].sort((a, b) => a - b);
        if (chosen.length < 15) return false;
        shape = `${episodes} illnesses adding up to ${chosen.length} school days`;
      }
      const entries = this.full(chosen, 'I');
      if (!this.put(p, e, entries)) return false;
      const plan = this.plan(p);
      plan.adjacentPresent = true;
      // Only illness of compulsory school age counts towards 15 days (docs/design.md §2.5): background illness
      // may make up a Reception child's shortfall, so that is allowed rather than expected.
      const ill = this.inCompulsoryAge(p, e, entries).length * 2;
      this.record({
        kind: 'long_illness',
        class: 'planted',
        unit: 'pupil',
        expectFlags: ill >= 30 ? ['illness_15_days'] : [],
        mayFlag: ill >= 30 ? [] : ['illness_15_days'],
        mustNotFlag: ['holiday_adjacent_absence'],
        upn: p.upn,
        urn: e.school.spec.urn,
        marks: this.marks(e, entries),
        detail: `${shape}: ${entries.length * 2} illness sessions (I) in the year, at least 30`,
      });
      return true;
    });

    // Controls: absence next to breaks that is not a pattern (must never be flagged as one).
    this.plantEach('religious_observance_adjacent', (p, e) =>
      this.adjacentControl(
        p,
        e,
        'R',
        'religious_observance_adjacent',
        'religious observance (R) on holiday-adjacent days of two breaks: authorised for a festival, never a holiday pattern',
      ),
    );
    this.plantEach(
      'exclusion_adjacent',
      (p, e) =>
        this.adjacentControl(
          p,
          e,
          'E',
          'exclusion_adjacent',
          "suspensions (E) on holiday-adjacent days of two breaks: an exclusion is the school's decision, never a family pattern",
        ),
      mainstream,
    );
    this.plantEach('part_time_adjacent', (p, e) => {
      const picked = this.adjacentDaysAtBreaks(e, 2, 2);
      if (!picked) return false;
      const t = this.timetable(e);
      // Afternoons on a part-time timetable (C2) for a few weeks around each break.
      const days = new Set<number>();
      for (const b of picked.breaks) {
        const lo = b.before[b.before.length - 1];
        for (let d = t.shift(lo, -8); d >= 0 && d <= b.after[b.after.length - 1] + 9; d = t.shift(d, 1))
          if (this.inRange(e, d)) days.add(d);
      }
      const entries = [...days].map((day) => ({ day, am: null, pm: 'C2' }));
      if (!this.put(p, e, entries)) return false;
      const plan = this.plan(p);
      plan.adjacentPresent = true;
      this.record({
        kind: 'part_time_adjacent',
        class: 'control',
        unit: 'pupil',
        expectFlags: [],
        mayFlag: [],
        mustNotFlag: ['holiday_adjacent_absence'],
        upn: p.upn,
        urn: e.school.spec.urn,
        marks: this.marks(e, entries),
        breaks: picked.breaks.map((b) => this.breakInfo(e, b)),
        detail:
          'a part-time timetable (C2 every afternoon) for a few weeks around two breaks: agreed with the school, never a holiday pattern',
      });
      return true;
    });
    this.plantEach('illness_spanning_break', (p, e) => {
      const list = this.breaksWithSide(e, 'both');
      if (list.length === 0) return false;
      const b = this.random.pick(list);
      const entries = this.full([...b.before, ...b.after], 'I');
      if (!this.put(p, e, entries)) return false;
      const plan = this.plan(p);
      plan.adjacentPresent = true;
      plan.rateScale = 0.6;
      this.record({
        kind: 'illness_spanning_break',
        class: 'control',
        unit: 'pupil',
        expectFlags: [],
        mayFlag: [],
        mustNotFlag: ['holiday_adjacent_absence'],
        upn: p.upn,
        urn: e.school.spec.urn,
        marks: this.marks(e, entries),
        breaks: [this.breakInfo(e, b)],
        detail: `one illness spanning the ${b.label} (the ${K} school days before and after it): one break is not a pattern`,
      });
      return true;
    });
    this.plantEach('ordinary_illness', (p, e) => {
      const t = this.timetable(e);
      const days = t.schoolDaysIn(this.o.fromIdx, this.o.toIdx).filter((d) => !t.adjacent[d] && this.inRange(e, d));
      if (days.length < 20) return false;
      const chosen = new Set<number>();
      const episodes = 3 + this.random.int(3);
      for (let k = 0; k < episodes; k++) {
        let d = this.random.pick(days);
        for (
          let n = 1 + this.random.int(3);
          n > 0 && d >= 0 && !t.adjacent[d] && this.inRange(e, d);
          n--, d = t.shift(d, 1)
        )
          chosen.add(d);
      }
      const entries = this.full(
        [...chosen].sort((a, b) => a - b),
        'I',
      );
      if (!this.put(p, e, entries)) return false;
      const plan = this.plan(p);
      plan.adjacentPresent = true;
      plan.illnessCapped = true;
      plan.rateScale = 0.6;
      this.record({
        kind: 'ordinary_illness',
        class: 'control',
        unit: 'pupil',
        expectFlags: [],
        mayFlag: [],
        mustNotFlag: ['holiday_adjacent_absence', 'illness_15_days'],
        upn: p.upn,
        urn: e.school.spec.urn,
        marks: this.marks(e, entries),
        detail: `${episodes} ordinary illnesses in term time, none on a holiday-adjacent day`,
      });
      return true;
    });
  }

  /** 8 or 9 G sessions beside a break (4 days, plus the half day further from the break for 9). */
  private nearThresholdEpisode(
    p: Pupil,
    e: Enrolment,
    side: Side,
    fixed?: Timetable['breaks'][number],
  ): { entries: Entry[]; break: Timetable['breaks'][number]; side: Side } | undefined {
    const list = fixed ? [fixed] : this.breaksWithSide(e, side);
    if (list.length === 0) return undefined;
    const b = fixed ?? this.random.pick(list);
    const nine = this.random.chance(0.5);
    const days = this.daysBeside(e, b, side, nine ? 5 : 4);
    if (days.length === 0) return undefined;
    const entries = this.full(days, 'G');
    if (nine) {
      // The extra half day is the one furthest from the break: leaving at lunchtime, or back after it.
      if (side === 'before') entries[0] = { day: days[0], am: null, pm: 'G' };
      else entries[entries.length - 1] = { day: days[days.length - 1], am: 'G', pm: null };
    }
    if (!this.put(p, e, entries, { before: true, after: true })) return undefined;
    return { entries, break: b, side };
  }

  /**
   * 1–2 adjacent days (one side) at each of `want` breaks (at least `least`), from the breaks with at
   * least one side wholly in the range (main holidays first), and at least 4 days in all.
   */
  private adjacentDaysAtBreaks(
    e: Enrolment,
    want: number,
    least: number,
  ): { days: number[]; breaks: Timetable['breaks'] } | undefined {
    const inRange = (days: number[]): boolean => days.length === K && days.every((d) => this.inRange(e, d));
    const t = this.timetable(e);
    const usable = t.breaks.filter((b) => inRange(b.before) || inRange(b.after));
    const long = this.random.shuffle(usable.filter((b) => b.to - b.from >= 4));
    const short = this.random.shuffle(usable.filter((b) => b.to - b.from < 4));
    const chosen = [...long, ...short].slice(0, want).sort((a, b) => a.from - b.from);
    if (chosen.length < least) return undefined;
    const days: number[] = [];
    for (const b of chosen) {
      const sides = [b.before, b.after].filter(inRange);
      const side = this.random.pick(sides);
      days.push(...side.slice(0, this.random.chance(0.6) ? 2 : 1));
    }
    // At least four days (8 sessions): enough that one sick day is never the pattern.
    for (const b of chosen)
      for (const d of [...b.before, ...b.after])
        if (days.length < 4 && !days.includes(d) && this.inRange(e, d)) days.push(d);
    return { days: [...new Set(days)].sort((a, b) => a - b), breaks: chosen };
  }

  private adjacentControl(p: Pupil, e: Enrolment, code: string, kind: string, detail: string): boolean {
    const picked = this.adjacentDaysAtBreaks(e, 2, 2);
    if (!picked) return false;
    const entries = this.full(picked.days, code);
    if (!this.put(p, e, entries)) return false;
    const plan = this.plan(p);
    plan.adjacentPresent = true;
    plan.rateScale = 0.6;
    this.record({
      kind,
      class: 'control',
      unit: 'pupil',
      expectFlags: [],
      mayFlag: [],
      mustNotFlag: ['holiday_adjacent_absence', 'family_pattern'],
      upn: p.upn,
      urn: e.school.spec.urn,
      marks: this.marks(e, entries),
      breaks: picked.breaks.map((b) => this.breakInfo(e, b)),
      detail,
    });
    return true;
  }

  /**
   * Issue 22's controls: twelve unauthorised sessions in two weeks that must raise no statutory flag —
   * a Reception child before compulsory school age (O), a post-16 student (O; a special school's
   * pupil aged 16 at the start of the year, taught with Year 10), and a pupil of compulsory school age
   * whose twelve sessions are all N (reason not yet provided), never resolved: the school's unresolved
   * N (data quality, not an offence). No other unauthorised absence for any of them.
   */
  private plantOutsideCompulsoryAge(): void {
    const random = this.random.stream('compulsory-school-age');
    // Years 1–10 are of compulsory school age on every day of the year (Year 11 leave in June).
    const compulsoryThroughout = (p: Pupil): boolean => p.yearGroup >= 1 && p.yearGroup <= 10;
    const unplanned = (p: Pupil): boolean => !this.plans.has(p.index);
    const twelve = (p: Pupil, e: Enrolment, code: string, before: number): Entry[] | undefined => {
      const t = this.timetable(e);
      const last = Math.min(this.o.toIdx, before - 1);
      const starts = t.schoolDaysIn(Math.max(this.o.fromIdx, e.startIdx) + 1, last).filter((d) => {
        const end = t.shift(d, 5);
        return end >= 0 && end <= last;
      });
      if (starts.length === 0) return undefined;
      const days: number[] = [];
      for (let d = random.pick(starts); d >= 0 && days.length < 6; d = t.shift(d, 1)) days.push(d);
      const entries = this.full(days, code);
      if (!this.put(p, e, entries, { before: true, after: true })) return undefined;
      this.plan(p).quietUnauthorised = true;
      return entries;
    };
    const yearStart = (e: Enrolment): number => this.timetable(e).dayOf(`${this.o.academicYear}-08-01`);
    const compulsoryFrom = (p: Pupil, e: Enrolment): number => {
      const span = compulsorySchoolAge(p.dob);
      return span ? this.timetable(e).dayOf(span.from) : yearStart(e);
    };

    this.plantEach(
      'under_five_unauthorised',
      (p, e) => {
        const from = compulsoryFrom(p, e);
        const entries = twelve(p, e, 'O', from);
        if (!entries) return false;
        this.record({
          kind: 'under_five_unauthorised',
          class: 'control',
          unit: 'pupil',
          expectFlags: [],
          mayFlag: [],
          mustNotFlag: STATUTORY_FLAGS,
          upn: p.upn,
          urn: e.school.spec.urn,
          marks: this.marks(e, entries),
          detail: `a Reception child (born ${p.dob}) not of compulsory school age until ${this.timetable(e).date(from)}: 12 unauthorised sessions (O) in two weeks before it, never a statutory flag`,
        });
        return true;
      },
      (p) => unplanned(p) && p.yearGroup === 0 && p.enrolments[0].school.spec.phase === 'primary',
    );

    this.plantEach(
      'post_sixteen_unauthorised',
      (p, e) => {
        // Sixteen in the school year before this one: past the school leaving date all year.
        const dob = `${Number(p.dob.slice(0, 4)) - 2}${p.dob.slice(4)}`.replace(/-02-29$/, '-02-28');
        const span = compulsorySchoolAge(dob);
        if (!span || span.to >= `${this.o.academicYear}-08-01`) return false;
        const entries = twelve(p, e, 'O', this.o.toIdx + 1);
        if (!entries) return false;
        p.dob = dob;
        this.record({
          kind: 'post_sixteen_unauthorised',
          class: 'control',
          unit: 'pupil',
          expectFlags: [],
          mayFlag: [],
          mustNotFlag: STATUTORY_FLAGS,
          upn: p.upn,
          urn: e.school.spec.urn,
          marks: this.marks(e, entries),
          detail: `a post-16 student (born ${dob}; compulsory school age ended ${span.to}) on a special school's roll: 12 unauthorised sessions (O) in two weeks, never a statutory flag`,
        });
        return true;
      },
      (p) => unplanned(p) && p.enrolments[0].school.spec.phase === 'special' && p.yearGroup === 10,
    );

    this.plantEach(
      'unresolved_n',
      (p, e) => {
        const entries = twelve(p, e, 'N', this.o.toIdx + 1);
        if (!entries) return false;
        this.record({
          kind: 'unresolved_n',
          class: 'control',
          unit: 'pupil',
          expectFlags: [],
          mayFlag: [],
          mustNotFlag: ['penalty_notice_threshold'],
          upn: p.upn,
          urn: e.school.spec.urn,
          marks: this.marks(e, entries),
          detail:
            "12 sessions coded N (reason not yet provided) in two weeks, never resolved: the school's unresolved N (data quality), not an offence — never the penalty-notice threshold",
        });
        return true;
      },
      (p) => unplanned(p) && compulsoryThroughout(p),
    );
  }

  /** The entries on days the pupil is of compulsory school age (docs/design.md §2.5). */
  private inCompulsoryAge(p: Pupil, e: Enrolment, entries: readonly Entry[]): Entry[] {
    const span = compulsorySchoolAge(p.dob);
    if (!span) return [...entries];
    const t = this.timetable(e);
    return entries.filter((x) => t.date(x.day) >= span.from && t.date(x.day) <= span.to);
  }

  /** `days` school days of consecutive unauthorised absence: a long holiday, or a child missing (N then O). */
  private unauthorisedRun(p: Pupil, e: Enrolment, days: number): boolean {
    const t = this.timetable(e);
    let start: number;
    const spanning = days === 10 && this.random.chance(0.3) ? this.breaksWithSide(e, 'both') : [];
    const across = spanning.length > 0 ? this.random.pick(spanning) : undefined;
    if (across) start = t.shift(across.before[0], -4);
    else {
      const possible = t
        .schoolDaysIn(Math.max(this.o.fromIdx, e.startIdx) + 1, this.o.toIdx)
        .filter((d) => t.shift(d, days - 1) >= 0 && t.shift(d, days - 1) <= this.o.toIdx);
      if (possible.length === 0) return false;
      start = this.random.pick(possible);
    }
    if (start < 0) return false;
    const run: number[] = [];
    for (let d = start; d >= 0 && run.length < days; d = t.shift(d, 1)) run.push(d);
    if (run.length < days) return false;
    const style = this.random.pick(['holiday', 'missing', 'mixed'] as const);
    const entries: Entry[] = run.map((day, i) => {
      if (style === 'holiday') return { day, am: 'G', pm: 'G' };
      if (style === 'missing') return i < 2 ? { day, am: 'N', pm: 'N' } : { day, am: 'O', pm: 'O' };
      return { day, am: i % 3 === 0 ? 'N' : 'O', pm: i % 4 === 1 ? 'G' : 'O' };
    });
    if (!this.put(p, e, entries, { before: true, after: true })) return false;
    const kind = days === 10 ? 'ten_day_unauthorised' : 'twenty_day_unauthorised';
    // Only sessions of compulsory school age count (docs/design.md §2.5; a Reception child's run may begin before it).
    const inAge = this.inCompulsoryAge(p, e, entries);
    const counted = (codes: readonly string[]) =>
      inAge.reduce((n, x) => n + (codes.includes(x.am ?? '') ? 1 : 0) + (codes.includes(x.pm ?? '') ? 1 : 0), 0);
    const consecutive = counted(['G', 'N', 'O', 'U']);
    const expect: FlagName[] = [
      ...(consecutive >= 40 ? ['twenty_day_unauthorised' as const] : []),
      ...(consecutive >= 20 ? ['ten_day_unauthorised' as const] : []),
      ...(counted(DEFAULT_LA_SETTINGS.penaltyNoticeCodes) >= DEFAULT_LA_SETTINGS.penaltyNoticeSessions
        ? ['penalty_notice_threshold' as const]
        : []),
    ];
    const mustNot: FlagName[] =
      consecutive < 20
        ? ['ten_day_unauthorised', 'twenty_day_unauthorised']
        : consecutive < 40
          ? ['twenty_day_unauthorised']
          : [];
    const story =
      style === 'holiday'
        ? 'an unauthorised holiday (G)'
        : style === 'missing'
          ? 'a child missing: no reason yet (N), then unauthorised (O)'
          : 'unauthorised absence mixing N, O and G';
    this.record({
      kind,
      class: 'planted',
      unit: 'pupil',
      expectFlags: expect,
      mayFlag: expect.includes('penalty_notice_threshold') ? [] : ['penalty_notice_threshold'],
      mustNotFlag: mustNot,
      upn: p.upn,
      urn: e.school.spec.urn,
      marks: this.marks(e, entries),
      breaks: across ? [this.breakInfo(e, across)] : undefined,
      detail: `${days} school days (${days * 2} consecutive possible sessions) of ${story}${across ? `, spanning the ${across.label}` : ''}; attended the school day before and after`,
    });
    return true;
  }

  /** Siblings at different schools absent together on the same holiday-adjacent dates, at 2–3 breaks. */
  private plantFamilies(): void {
    const kind = 'family_holiday_adjacent';
    const wanted = this.count(kind);
    const households = this.random.shuffle(
      this.pop.households.filter((h) => {
        const kids = h.children.filter(
          (c) => this.stable(c) && !this.used.has(c.index) && !this.codingSchools.has(c.enrolments[0].school.spec.urn),
        );
        if (kids.length < 2) return false;
        const urns = new Set(kids.map((c) => c.enrolments[0].school.spec.urn));
        const calendars = new Set(kids.map((c) => c.enrolments[0].school.spec.calendar));
        return urns.size >= 2 && calendars.size === 1;
      }),
    );
    let planted = 0;
    for (const h of households) {
      if (planted >= wanted) break;
      const kids = h.children.filter((c) => this.stable(c) && !this.used.has(c.index));
      if (kids.length < 2) continue;
      const lead = kids[0].enrolments[0];
      const picked = this.adjacentDaysAtBreaks(lead, 2 + this.random.int(2), 2);
      if (!picked) continue;
      const holiday = this.random.chance(0.3);
      const entries = picked.days.map((day, i) =>
        holiday && i < 2 ? { day, am: 'G', pm: 'G' } : { day, am: 'I', pm: 'I' },
      );
      if (!kids.every((c) => this.fits(c, c.enrolments[0], entries))) continue;
      const members = kids.map((c) => {
        const e = c.enrolments[0];
        this.put(c, e, entries);
        this.used.add(c.index);
        const plan = this.plan(c);
        plan.adjacentPresent = true;
        plan.rateScale = 0.7;
        return { upn: c.upn, urn: e.school.spec.urn, marks: this.marks(e, entries) };
      });
      this.record({
        kind,
        class: 'planted',
        unit: 'family',
        expectFlags: ['family_pattern'],
        mayFlag: ['holiday_adjacent_absence'],
        mustNotFlag: [],
        uprn: h.uprn,
        members,
        breaks: picked.breaks.map((b) => this.breakInfo(lead, b)),
        detail: `${kids.length} children of one household (uprn ${h.uprn}) at ${new Set(members.map((m) => m.urn)).size} schools, absent on the same holiday-adjacent dates next to ${picked.breaks.length} breaks${holiday ? ' (a short holiday coded G, the rest illness)' : ' (reported as illness)'}`,
      });
      planted++;
    }
    if (planted === 0)
      this.skipped.push({ kind, reason: 'no household has children at two schools with enough breaks in the range' });
    else if (planted < wanted)
      this.skipped.push({
        kind,
        reason: `planted ${planted} of ${wanted}: not enough households with children at two schools`,
      });
  }

  // ---- the school that codes holidays as illness -------------------------------------------

  private chooseCodingSchools(): void {
    const kind = 'school_codes_holiday_as_illness';
    const candidates = this.random.shuffle(
      this.pop.schools.filter(
        (s) =>
          !s.spec.outOfArea && s.spec.calendar === 'la' && (s.spec.phase === 'primary' || s.spec.phase === 'secondary'),
      ),
    );
    const wanted = Math.min(this.count(kind), Math.max(0, candidates.length - 2));
    for (const s of candidates.slice(0, wanted)) {
      this.codingSchools.add(s.spec.urn);
      this.codingMembers.set(s.spec.urn, new Map());
    }
    if (wanted === 0) this.skipped.push({ kind, reason: 'too few schools on the LA calendar to make one an outlier' });
  }

  private codingMark(e: Enrolment, entries: Entry[]): void {
    const members = this.codingMembers.get(e.school.spec.urn) as Map<
      string,
      { upn: string; urn: string; marks: GroundTruthMark[] }
    >;
    const p = e.pupil;
    let m = members.get(p.upn);
    if (!m) members.set(p.upn, (m = { upn: p.upn, urn: e.school.spec.urn, marks: [] }));
    m.marks.push(...this.marks(e, entries));
  }

  /** Extra illness on holiday-adjacent days at the coding schools: families' holiday extensions coded I. */
  private codingSchoolExtras(): void {
    for (const s of this.pop.schools) {
      if (!this.codingSchools.has(s.spec.urn)) continue;
      for (const e of s.enrolments) {
        if (e.pupil.enrolments.length !== 1 || e.pupil.outOfArea) continue;
        const t = this.timetable(e);
        for (const b of t.breaks) {
          if (!this.random.chance(0.06)) continue;
          const side = this.random.pick([b.before, b.after]);
          const days = side.slice(0, this.random.chance(0.5) ? 2 : 1).filter((d) => this.inRange(e, d));
          if (days.length === 0) continue;
          const entries = this.full(days, 'I');
          if (this.put(e.pupil, e, entries)) this.codingMark(e, entries);
        }
      }
    }
  }

  private finishCodingSchools(): void {
    for (const [urn, members] of this.codingMembers) {
      const list = [...members.values()].map((m) => ({
        ...m,
        marks: m.marks.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0)),
      }));
      const sessionsPlanted = list.reduce(
        (n, m) => n + m.marks.reduce((k, x) => k + (x.am ? 1 : 0) + (x.pm ? 1 : 0), 0),
        0,
      );
      this.record({
        kind: 'school_codes_holiday_as_illness',
        class: 'planted',
        unit: 'school',
        expectFlags: ['school_coding'],
        mayFlag: [],
        mustNotFlag: [],
        urn,
        members: list,
        detail: `the school codes holiday-adjacent absence as illness (I) instead of G: ${sessionsPlanted} illness sessions on holiday-adjacent days for ${list.length} pupils, including every term-time holiday next to a break`,
      });
    }
  }

  // ---- background events -------------------------------------------------------------------

  private eligibleForEvents(p: Pupil): boolean {
    return (
      !this.used.has(p.index) &&
      !p.outOfArea &&
      p.enrolments.length === 1 &&
      p.enrolments[0].school.spec.phase !== 'pru'
    );
  }

  /** School days in the range for the LA calendar (the basis of event counts). */
  private rangeSessions(): number {
    const la = this.timetables.get('la') as Timetable;
    return 2 * la.schoolDaysIn(this.o.fromIdx, this.o.toIdx).length;
  }

  private pupilsByPhase(filter: (p: Pupil) => boolean): Map<Phase, Pupil[]> {
    const out = new Map<Phase, Pupil[]>();
    for (const p of this.pop.pupils) {
      if (!filter(p)) continue;
      const phase = p.enrolments[0].school.spec.phase;
      let list = out.get(phase);
      if (!list) out.set(phase, (list = []));
      list.push(p);
    }
    return out;
  }

  /**
   * Term-time holidays (G): the DfE's unauthorised-holiday rate [EES-YTD], a little over half of it
   * as holidays of 10+ sessions (a week or more; each a planted `term_time_holiday` that meets the
   * penalty-notice threshold), the rest as 1–3 day extensions. Half sit next to a break.
   */
  private backgroundHolidays(): void {
    const sessionsInRange = this.rangeSessions();
    const had = new Set<number>();
    for (const [phase, pupils] of this.pupilsByPhase((p) => this.eligibleForEvents(p))) {
      if (phase === 'pru') continue;
      const rate = reasonPercent(phase).G / 100;
      const total = rate * sessionsInRange * pupils.length;
      const long = Math.round((MODEL.longHolidayShare * total) / 11.5);
      const short = Math.round(((1 - MODEL.longHolidayShare) * total) / 4);
      this.random.shuffle(pupils);
      let k = 0;
      for (let n = 0; n < long && k < pupils.length; k++)
        if (
          !had.has(pupils[k].index) &&
          this.holiday(pupils[k], 5 + (this.random.chance(0.6) ? 0 : 1 + this.random.int(4)), true)
        ) {
          had.add(pupils[k].index);
          n++;
        }
      for (let n = 0; n < short && k < pupils.length; k++)
        if (!had.has(pupils[k].index) && this.holiday(pupils[k], 1 + this.random.int(3), false)) {
          had.add(pupils[k].index);
          n++;
        }
    }
  }

  private holiday(p: Pupil, days: number, long: boolean): boolean {
    const e = p.enrolments[0];
    const t = this.timetable(e);
    let run: number[] = [];
    let side: Side | undefined;
    let b: Timetable['breaks'][number] | undefined;
    if (this.random.chance(0.5)) {
      side = this.random.pick(['before', 'after'] as const);
      const list = this.breaksWithSide(e, side);
      if (list.length > 0) {
        b = this.random.pick(list);
        run = this.daysBeside(e, b, side, days);
      }
    }
    if (run.length === 0) {
      side = undefined;
      b = undefined;
      const candidates = t.schoolDaysIn(Math.max(this.o.fromIdx, e.startIdx), Math.min(this.o.toIdx, e.endIdx));
      if (candidates.length < days + 2) return false;
      let d = candidates[this.random.int(candidates.length - days)];
      for (let n = 0; n < days && d >= 0; n++, d = t.shift(d, 1)) run.push(d);
    }
    if (run.length !== days || !run.every((d) => this.inRange(e, d))) return false;
    const coding = this.codingSchools.has(e.school.spec.urn) && run.some((d) => t.adjacent[d]);
    const code = coding ? 'I' : 'G';
    const entries = this.full(run, code);
    // Some families leave at lunchtime the day before.
    if (long && this.random.chance(0.2)) {
      const before = t.shift(run[0], -1);
      if (before >= 0 && this.inRange(e, before)) entries.unshift({ day: before, am: null, pm: code });
    }
    // Attended the school day before and after: background absence never lengthens a holiday into
    // another shape (a 3-day holiday plus an unauthorised day would look like one kept to 8).
    if (!this.put(p, e, entries, { before: !coding, after: !coding })) return false;
    if (coding) {
      this.codingMark(e, entries);
      return true;
    }
    const n = sessions(entries, 'G');
    if (long) {
      // Only sessions of compulsory school age count (docs/design.md §2.5): a Reception child's holiday before
      // the prescribed day after their fifth birthday is not an offence.
      const span = compulsorySchoolAge(p.dob);
      const counted = sessions(this.inCompulsoryAge(p, e, entries), 'G');
      const meets = counted >= DEFAULT_LA_SETTINGS.penaltyNoticeSessions;
      this.record({
        kind: 'term_time_holiday',
        class: 'planted',
        unit: 'pupil',
        expectFlags: meets ? ['penalty_notice_threshold'] : [],
        mayFlag: [
          ...(b ? ['holiday_adjacent_absence' as const] : []),
          ...(meets ? [] : ['penalty_notice_threshold' as const]),
        ],
        mustNotFlag: [],
        upn: p.upn,
        urn: e.school.spec.urn,
        marks: this.marks(e, entries),
        breaks: b ? [this.breakInfo(e, b)] : undefined,
        detail:
          `a term-time holiday of ${n} unauthorised sessions (G)${b ? ` ${side} the ${b.label}` : ''}: ` +
          (meets
            ? 'meets the penalty-notice threshold'
            : `only ${counted} of them while of compulsory school age (from ${span?.from}), so not the penalty-notice threshold`),
      });
    } else {
      this.background.push({
        kind: 'short_holiday',
        upn: p.upn,
        urn: e.school.spec.urn,
        from: t.date(entries[0].day),
        to: t.date(entries[entries.length - 1].day),
        code: 'G',
        sessions: n,
      });
    }
    return true;
  }

  /** Weighted choice with replacement by a simple risk proxy. */
  private weightedPicker(pupils: Pupil[], weight: (p: Pupil) => number): () => Pupil {
    const cumulative: number[] = [];
    let acc = 0;
    for (const p of pupils) cumulative.push((acc += weight(p)));
    return () => {
      const u = this.random.next() * acc;
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid] > u) hi = mid;
        else lo = mid + 1;
      }
      return pupils[lo];
    };
  }

  /** Suspensions (E), 1–5 days, at the DfE's rate by phase, mostly for higher-risk pupils. */
  private backgroundExclusions(): void {
    const sessionsInRange = this.rangeSessions();
    for (const [phase, pupils] of this.pupilsByPhase((p) => this.eligibleForEvents(p))) {
      const events = Math.round(((reasonPercent(phase).E / 100) * sessionsInRange * pupils.length) / 3.6);
      const pick = this.weightedPicker(pupils, riskProxy);
      for (let n = 0, tries = 0; n < events && tries < events * 3; tries++) {
        const p = pick();
        const e = p.enrolments[0];
        const t = this.timetable(e);
        const days = t.schoolDaysIn(Math.max(this.o.fromIdx, e.startIdx), Math.min(this.o.toIdx, e.endIdx));
        if (days.length < 6) continue;
        const length = [1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 5][this.random.int(11)];
        let d = days[this.random.int(days.length - length)];
        const run: number[] = [];
        for (let k = 0; k < length && d >= 0; k++, d = t.shift(d, 1)) run.push(d);
        const entries = this.full(run, 'E');
        if (!this.put(p, e, entries)) continue;
        this.background.push({
          kind: 'exclusion',
          upn: p.upn,
          urn: e.school.spec.urn,
          from: t.date(run[0]),
          to: t.date(run[run.length - 1]),
          code: 'E',
          sessions: run.length * 2,
        });
        n++;
      }
    }
  }

  /** Part-time timetables (C2 in the afternoons for 2–8 weeks), mostly for pupils with SEN. */
  private backgroundPartTime(): void {
    const sessionsInRange = this.rangeSessions();
    for (const [phase, pupils] of this.pupilsByPhase((p) => this.eligibleForEvents(p))) {
      const events = Math.round(((reasonPercent(phase).C2 / 100) * sessionsInRange * pupils.length) / 25);
      const pick = this.weightedPicker(
        pupils,
        (p) => (p.sen === 'E' ? 5 : p.sen === 'K' ? 3 : 0.3) * Math.sqrt(riskProxy(p)),
      );
      for (let n = 0, tries = 0; n < events && tries < events * 3; tries++) {
        const p = pick();
        if (this.plans.get(p.index)?.days.size) continue;
        const e = p.enrolments[0];
        const t = this.timetable(e);
        const days = t.schoolDaysIn(Math.max(this.o.fromIdx, e.startIdx), Math.min(this.o.toIdx, e.endIdx));
        const length = 10 + this.random.int(31);
        if (days.length < length + 2) continue;
        const start = this.random.int(days.length - length);
        const run = days.slice(start, start + length);
        const entries = run.map((day) => ({ day, am: null, pm: 'C2' }));
        if (!this.put(p, e, entries)) continue;
        this.background.push({
          kind: 'part_time_timetable',
          upn: p.upn,
          urn: e.school.spec.urn,
          from: t.date(run[0]),
          to: t.date(run[run.length - 1]),
          code: 'C2',
          sessions: run.length,
        });
        n++;
      }
    }
  }

  /** Religious festivals on school days: observing families' children are marked R (authorised). */
  private religiousFestivals(): void {
    for (const h of this.pop.households) {
      if (h.observance === 'none') continue;
      for (const date of FESTIVALS[h.observance]) {
        for (const c of h.children) {
          if (!this.eligibleForEvents(c) || !this.random.chance(0.75)) continue;
          const e = c.enrolments[0];
          const t = this.timetable(e);
          const day = t.dayOf(date);
          if (!t.isSchoolDay(day) || !this.inRange(e, day)) continue;
          if (!this.put(c, e, this.full([day], 'R'))) continue;
          this.background.push({
            kind: 'religious_observance',
            upn: c.upn,
            urn: e.school.spec.urn,
            from: date,
            to: date,
            code: 'R',
            sessions: 2,
          });
        }
      }
    }
  }

  /** Year 11 study leave (S) in the exam season, 2–4 days for about a third of them. */
  private studyLeave(): void {
    for (const p of this.pop.pupils) {
      if (p.yearGroup !== 11 || !this.eligibleForEvents(p) || !this.random.chance(0.3)) continue;
      const e = p.enrolments[0];
      const t = this.timetable(e);
      const lo = t.dayOf(`${this.o.academicYear + 1}-05-11`);
      const hi = t.dayOf(`${this.o.academicYear + 1}-06-19`);
      const days = t.schoolDaysIn(Math.max(lo, this.o.fromIdx, e.startIdx), Math.min(hi, this.o.toIdx, e.endIdx));
      const length = 2 + this.random.int(3);
      if (days.length < length) continue;
      const start = this.random.int(days.length - length + 1);
      const run = days.slice(start, start + length);
      if (!this.put(p, e, this.full(run, 'S'))) continue;
      this.background.push({
        kind: 'study_leave',
        upn: p.upn,
        urn: e.school.spec.urn,
        from: t.date(run[0]),
        to: t.date(run[run.length - 1]),
        code: 'S',
        sessions: run.length * 2,
      });
    }
  }
}

function sessions(entries: Entry[], code: string): number {
  return entries.reduce((n, x) => n + (x.am === code ? 1 : 0) + (x.pm === code ? 1 : 0), 0);
}

/** A rough risk for choosing who is suspended: phase, FSM, SEN, social care. */
function riskProxy(p: Pupil): number {
  const phase = p.enrolments[0].school.spec.phase;
  let r = phase === 'secondary' ? 3 : phase === 'special' ? 1.5 : phase === 'pru' ? 6 : 0.3;
  if (p.fsm) r *= 2;
  if (p.sen === 'K') r *= 1.8;
  if (p.sen === 'E') r *= 2;
  if (p.socialStatus === 'cin' || p.socialStatus === 'cpp') r *= 2.5;
  return r * p.household.risk;
}
