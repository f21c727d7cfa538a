/**
 * Pupils, households, enrolments and social-care histories of the synthetic LA.
 *
 * - Pupils are created school by school, year group by year group, with dates of birth that fit
 *   their year group and valid UPNs (LA code, the allocating school's establishment number, the
 *   year of allocation, a serial: shared/domain/upn.ts makes the check letter).
 * - Households (shared `uprn`) group siblings within a locality, often at different schools; FSM
 *   eligibility, surname, ethnicity, religious observance and part of the absence propensity are
 *   the household's.
 * - Mid-year moves (leaving_date at one school, admission_date at the next), leavers, joiners,
 *   Year 11 leaving at the end of June, dual registration (main school `M`, PRU `S`, each marking
 *   `D` when the pupil is at the other) and part-time Reception (`X`) follow.
 * - Social care: children in need, on protection plans, looked after (some entering or leaving care
 *   during the range) and previously looked after, with the SSDA903 episodes and CIN census
 *   referrals that describe them; looked-after children placed out of area attend schools in
 *   other LAs.
 */
import { academicYearStart, addDays, dayNumber, fromDayNumber, weekdayIndex } from '../../shared/domain/dates.js';
import { makeUpn } from '../../shared/domain/upn.js';
import { PREVALENCE } from './calibration.js';
import { DAY_SCHOOL, type TermCalendar } from './calendar.js';
import { BOYS, ETHNICITIES, GIRLS, SURNAMES, type Observance } from './names.js';
import type { Random } from './random.js';
import type { Registry, SchoolSpec } from './registry.js';

export type Sen = 'N' | 'K' | 'E';
export type Registration = 'C' | 'M' | 'S';

export interface Household {
  id: number;
  uprn: string;
  area: number;
  fsm: boolean;
  /** Shared part of the children's absence propensity (log-normal, mean 1). */
  risk: number;
  surname: string;
  ethnicity: string;
  observance: Observance;
  children: Pupil[];
}

export interface SchoolRuntime {
  spec: SchoolSpec;
  index: number;
  calendar: TermCalendar;
  enrolments: Enrolment[];
}

export interface Enrolment {
  pupil: Pupil;
  school: SchoolRuntime;
  registration: Registration;
  admission: string;
  leaving?: string;
  /** First and last academic-day index on roll within the range. */
  startIdx: number;
  endIdx: number;
  /** From this day index the leaving date is known and written on the rows. */
  leavingShownFrom: number;
  /** Dual registration: weekdays (bit 0 = Monday) on which the pupil is expected at THIS school… */
  expectedWeekdays?: number;
  /** …from this day index (before it the main school expects the pupil every day, as single registration `C`). */
  dualFrom?: number;
  /** The row's optional columns, cached while `tailKey` (flags, registration, leaving shown) holds. */
  tailKey: number;
  tail: string;
  /** `tailKey` of the last row written (for characteristics written only on change). */
  writtenKey: number;
}

export interface CareEpisodeRow {
  decom: string;
  dec?: string;
  rne: string;
  ls: string;
  cin: string;
  place: string;
  provider: string;
  rec: string;
  reasonChange: string;
  homePost: string;
  placePost: string;
  urn: string;
}

export interface CinReferral {
  referral: string;
  closure?: string;
  nfa: boolean;
  primaryNeed: string;
  plans: { start: string; end?: string }[];
}

export interface CareHistory {
  child: string;
  laChildId: string;
  episodes: CareEpisodeRow[];
  referrals: CinReferral[];
  /** Day-index intervals (inclusive) in the academic year, for row flags. */
  cla: [number, number][];
  plac: [number, number][];
  cin: [number, number][];
  cpp: [number, number][];
  /** What the care history means for the ground truth. */
  events: { kind: string; date: string; detail: string }[];
}

export interface Pupil {
  index: number;
  upn: string;
  forename: string;
  surname: string;
  dob: string;
  sex: 'M' | 'F';
  ethnicity: string;
  yearGroup: number;
  fsm: boolean;
  sen: Sen;
  household: Household;
  enrolments: Enrolment[];
  care?: CareHistory;
  /** The school reports cin/cpp on its rows (schools know some, not all, children in need). */
  schoolKnowsCin: boolean;
  /** Status in care for the absence model: the strongest cohort held during the range. */
  socialStatus: 'none' | 'cin' | 'cpp' | 'cla' | 'plac';
  /** Reception: PM sessions are `X` up to this day index (part-time, not of compulsory age). */
  partTimeUntil: number;
  outOfArea: boolean;
  /** Set when something (move, dual registration, …) makes the pupil unsuitable for planted behaviours. */
  complex: boolean;
}

export interface Population {
  schools: SchoolRuntime[];
  pupils: Pupil[];
  households: Household[];
  /** Mid-range moves, for the ground truth. */
  moves: { upn: string; from: string; to?: string; leaving: string; admission?: string }[];
  dualRegistrations: { upn: string; main: string; subsidiary: string; from: string; weekdaysAtSubsidiary: string }[];
  joiners: { upn: string; urn: string; admission: string }[];
}

export interface PopulationOptions {
  laCode: string;
  academicYear: number;
  fromIdx: number;
  toIdx: number;
}

const YEAR_GROUP_NAMES = ['R', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11'];
export function yearGroupName(y: number): string {
  return YEAR_GROUP_NAMES[y];
}

export function buildPopulation(
  registry: Registry,
  calendars: Map<string, TermCalendar>,
  options: PopulationOptions,
  random: Random,
): Population {
  const ctx = new Builder(registry, calendars, options, random);
  return ctx.build();
}

class Builder {
  readonly schools: SchoolRuntime[];
  readonly pupils: Pupil[] = [];
  readonly households: Household[] = [];
  readonly moves: Population['moves'] = [];
  readonly dual: Population['dualRegistrations'] = [];
  readonly joiners: Population['joiners'] = [];
  private readonly yearStart: number;
  private readonly upnSerials = new Map<string, number>();
  private readonly primaryNumbers: string[];
  private nextChild = 0;
  private nextUprn: number;

  constructor(
    private readonly registry: Registry,
    private readonly calendars: Map<string, TermCalendar>,
    private readonly o: PopulationOptions,
    private readonly random: Random,
  ) {
    this.yearStart = dayNumber(academicYearStart(o.academicYear));
    this.schools = registry.schools.map((spec, index) => ({
      spec,
      index,
      calendar: calendars.get(spec.calendar) as TermCalendar,
      enrolments: [],
    }));
    this.primaryNumbers = registry.inArea.filter((s) => s.phase === 'primary').map((s) => s.establishmentNumber);
    if (this.primaryNumbers.length === 0)
      this.primaryNumbers.push(...registry.inArea.map((s) => s.establishmentNumber));
    this.nextUprn = 100_000_000_000 + random.int(900_000_000);
    this.nextChild = 100_000 + random.int(400_000);
  }

  build(): Population {
    const inArea = this.schools.filter((s) => !s.spec.outOfArea);
    for (const school of inArea) this.createRoll(school);
    this.formHouseholds();
    this.assignSen();
    this.assignCare();
    this.dualRegister();
    this.moveAndLeave();
    this.addJoiners();
    this.outOfAreaPlacements();
    this.yearElevenLeave();
    this.partTimeReception();
    for (const p of this.pupils) p.enrolments.sort((a, b) => a.startIdx - b.startIdx);
    for (const s of this.schools)
      s.enrolments.sort(
        (a, b) =>
          a.pupil.yearGroup - b.pupil.yearGroup ||
          (a.pupil.surname < b.pupil.surname
            ? -1
            : a.pupil.surname > b.pupil.surname
              ? 1
              : a.pupil.index - b.pupil.index),
      );
    return {
      schools: this.schools,
      pupils: this.pupils,
      households: this.households,
      moves: this.moves,
      dualRegistrations: this.dual,
      joiners: this.joiners,
    };
  }

  // ---- dates -------------------------------------------------------------------------------

  date(idx: number): string {
    return fromDayNumber(this.yearStart + idx);
  }

  idx(date: string): number {
    return dayNumber(date) - this.yearStart;
  }

  /** A school day of the calendar in [lo, hi], uniformly; -1 when there is none. */
  schoolDayBetween(cal: TermCalendar, lo: number, hi: number): number {
    const days: number[] = [];
    for (let i = Math.max(0, lo); i <= Math.min(cal.status.length - 1, hi); i++)
      if (cal.status[i] === DAY_SCHOOL) days.push(i);
    return days.length === 0 ? -1 : this.random.pick(days);
  }

  firstSchoolDayFrom(cal: TermCalendar, i: number): number {
    for (let d = Math.max(0, i); d < cal.status.length; d++) if (cal.status[d] === DAY_SCHOOL) return d;
    return -1;
  }

  lastSchoolDayUpTo(cal: TermCalendar, i: number): number {
    for (let d = Math.min(cal.status.length - 1, i); d >= 0; d--) if (cal.status[d] === DAY_SCHOOL) return d;
    return -1;
  }

  // ---- pupils ------------------------------------------------------------------------------

  upn(estab: string, entryYear: number): string {
    const yy = String(((entryYear % 100) + 100) % 100).padStart(2, '0');
    let e = estab;
    for (let attempt = 0; ; attempt++) {
      const key = `${e}${yy}`;
      const serial = this.upnSerials.get(key) ?? 0;
      if (serial <= 999) {
        this.upnSerials.set(key, serial + 1);
        return makeUpn(`${this.o.laCode}${e}${yy}${String(serial).padStart(3, '0')}`);
      }
      // Serials for this school and year are used up: the pupil came from another of the LA's schools.
      e =
        this.primaryNumbers[(this.primaryNumbers.indexOf(e) + 1 + attempt) % this.primaryNumbers.length] ??
        String(2000 + attempt);
    }
  }

  /** Date of birth for a year group in the academic year (born 1 Sep … 31 Aug). */
  dob(yearGroup: number): string {
    const first = dayNumber(`${this.o.academicYear - 5 - yearGroup}-09-01`);
    const last = dayNumber(`${this.o.academicYear - 4 - yearGroup}-08-31`);
    return fromDayNumber(first + this.random.int(last - first + 1));
  }

  /** Admission date of a pupil already on roll: the September they joined this school. */
  pastAdmission(school: SchoolSpec, yearGroup: number): string {
    const entryGroup =
      school.phase === 'primary'
        ? 0
        : school.phase === 'secondary'
          ? 7
          : Math.max(school.yearGroups[0], yearGroup - this.random.int(3));
    const years = yearGroup - entryGroup;
    if (years <= 0) return '';
    return `${this.o.academicYear - years}-09-0${3 + this.random.int(3)}`;
  }

  newPupil(school: SchoolSpec, yearGroup: number, outOfArea: boolean): Pupil {
    const sex: 'M' | 'F' = this.random.chance(school.phase === 'special' ? 0.7 : school.phase === 'pru' ? 0.72 : 0.512)
      ? 'M'
      : 'F';
    const entryYear = this.o.academicYear - yearGroup;
    const estab =
      school.phase === 'primary' && !school.outOfArea
        ? school.establishmentNumber
        : this.random.pick(this.primaryNumbers);
    const p: Pupil = {
      index: this.pupils.length,
      upn: this.upn(estab, entryYear),
      forename: this.random.pick(sex === 'M' ? BOYS : GIRLS),
      surname: '',
      dob: this.dob(yearGroup),
      sex,
      ethnicity: 'WBRI',
      yearGroup,
      fsm: false,
      sen: 'N',
      household: undefined as unknown as Household,
      enrolments: [],
      schoolKnowsCin: this.random.chance(0.8),
      socialStatus: 'none',
      partTimeUntil: -1,
      outOfArea,
      complex: outOfArea,
    };
    this.pupils.push(p);
    return p;
  }

  enrol(p: Pupil, school: SchoolRuntime, registration: Registration, admission: string, startIdx: number): Enrolment {
    const e: Enrolment = {
      pupil: p,
      school,
      registration,
      admission,
      startIdx,
      endIdx: this.o.toIdx,
      leavingShownFrom: Number.MAX_SAFE_INTEGER,
      tailKey: -1,
      tail: '',
      writtenKey: -1,
    };
    p.enrolments.push(e);
    school.enrolments.push(e);
    return e;
  }

  /** End an enrolment on a day (inclusive): the leaving date is written on rows from a week before. */
  leave(e: Enrolment, lastIdx: number): void {
    e.endIdx = Math.min(e.endIdx, lastIdx);
    e.leaving = this.date(lastIdx);
    e.leavingShownFrom = lastIdx - 7;
  }

  createRoll(school: SchoolRuntime): void {
    const spec = school.spec;
    const groups = spec.yearGroups;
    const first = this.firstSchoolDayFrom(school.calendar, 0);
    const startIdx = Math.max(this.o.fromIdx, 0);
    for (let i = 0; i < spec.roll; i++) {
      // Older year groups are fuller in special schools and PRUs; mainstream cohorts are level.
      const yg =
        spec.phase === 'pru'
          ? groups[Math.min(groups.length - 1, Math.floor(Math.sqrt(this.random.next()) * groups.length))]
          : groups[i % groups.length];
      const p = this.newPupil(spec, yg, false);
      const past = this.pastAdmission(spec, yg);
      const admission = past !== '' ? past : this.date(first);
      this.enrol(p, school, 'C', admission, Math.max(startIdx, this.idx(admission)));
    }
  }

  // ---- households --------------------------------------------------------------------------

  newHousehold(area: number): Household {
    const ethnic = ETHNICITIES[this.random.weighted(ETHNICITIES.map((e) => e.share))];
    let observance: Observance = 'none';
    const u = this.random.next();
    let acc = 0;
    for (const [kind, p] of Object.entries(ethnic.observance) as [Observance, number][]) {
      acc += p;
      if (u < acc) {
        observance = kind;
        break;
      }
    }
    this.nextUprn += 1 + this.random.int(997);
    const h: Household = {
      id: this.households.length,
      uprn: String(this.nextUprn),
      area,
      fsm: false,
      risk: Math.exp(0.35 * this.random.normal() - (0.35 * 0.35) / 2),
      surname: this.random.pick(SURNAMES),
      ethnicity: ethnic.code,
      observance,
      children: [],
    };
    this.households.push(h);
    return h;
  }

  join(h: Household, p: Pupil): void {
    h.children.push(p);
    p.household = h;
    p.surname = h.children.length === 1 || this.random.chance(0.85) ? h.surname : this.random.pick(SURNAMES);
    p.ethnicity = h.ethnicity;
  }

  formHouseholds(): void {
    // Children per household (school-age, in these schools): 1 … 4.
    const sizeWeights = [0.5, 0.33, 0.13, 0.04];
    const byArea = new Map<number, Pupil[]>();
    for (const p of this.pupils) {
      const s = p.enrolments[0].school.spec;
      const area = s.phase === 'pru' ? -2 - p.index : s.area;
      let list = byArea.get(area);
      if (!list) byArea.set(area, (list = []));
      list.push(p);
    }
    const areas = [...byArea.keys()].sort((a, b) => a - b);
    for (const area of areas) {
      const pool = this.random.shuffle(byArea.get(area) as Pupil[]);
      const taken = new Uint8Array(pool.length);
      for (let i = 0; i < pool.length; i++) {
        if (taken[i]) continue;
        taken[i] = 1;
        const head = pool[i];
        const h = this.newHousehold(area);
        this.join(h, head);
        const size = 1 + this.random.weighted(sizeWeights);
        const years = new Set([head.yearGroup]);
        const headSchool = head.enrolments[0].school;
        for (let j = i + 1, scanned = 0; j < pool.length && h.children.length < size && scanned < 60; j++) {
          if (taken[j]) continue;
          scanned++;
          const c = pool[j];
          const cSchool = c.enrolments[0].school;
          const twins = c.yearGroup === head.yearGroup && this.random.chance(0.03);
          if (years.has(c.yearGroup) && !twins) continue;
          // Primary-age siblings usually share a school.
          if (
            headSchool.spec.phase === 'primary' &&
            cSchool.spec.phase === 'primary' &&
            cSchool !== headSchool &&
            this.random.chance(0.6)
          )
            continue;
          taken[j] = 1;
          years.add(c.yearGroup);
          this.join(h, c);
        }
      }
    }
    // FSM is the household's: eligibility ~25.7% of pupils [SPC], higher in special schools and PRUs.
    for (const h of this.households) {
      const phases = h.children.map((c) => c.enrolments[0].school.spec.phase);
      const p = phases.includes('pru') ? 0.55 : phases.includes('special') ? 0.42 : PREVALENCE.fsm;
      h.fsm = this.random.chance(p);
      for (const c of h.children) c.fsm = h.fsm;
    }
  }

  assignSen(): void {
    for (const p of this.pupils) {
      const phase = p.enrolments[0]?.school.spec.phase ?? 'primary';
      if (phase === 'special') {
        p.sen = this.random.chance(PREVALENCE.ehcpInSpecial) ? 'E' : 'K';
        continue;
      }
      if (phase === 'pru') {
        p.sen = this.random.chance(0.2) ? 'E' : this.random.chance(0.55) ? 'K' : 'N';
        continue;
      }
      // Boys ~1.6×, FSM ~1.6× as likely to have SEN (DfE SEN in England 2024/25).
      const sexFactor = p.sex === 'M' ? 1.25 : 0.75;
      const fsmFactor = p.fsm ? 1.6 / (0.257 * 1.6 + 0.743) : 1 / (0.257 * 1.6 + 0.743);
      const u = this.random.next();
      if (u < PREVALENCE.ehcpMainstream * sexFactor * fsmFactor) p.sen = 'E';
      else if (u < (PREVALENCE.ehcpMainstream + PREVALENCE.senSupport) * sexFactor * fsmFactor) p.sen = 'K';
    }
  }

  // ---- social care -------------------------------------------------------------------------

  careHistory(p: Pupil): CareHistory {
    if (!p.care) {
      this.nextChild += 1 + this.random.int(50);
      p.care = {
        child: String(this.nextChild),
        laChildId: `DfE${String(this.nextChild).padStart(8, '0')}`,
        episodes: [],
        referrals: [],
        cla: [],
        plac: [],
        cin: [],
        cpp: [],
        events: [],
      };
    }
    return p.care;
  }

  /** A date `years` (fractional) before the range start. */
  before(years: number): string {
    return this.date(this.o.fromIdx - Math.max(1, Math.round(years * 365)));
  }

  midRangeDay(cal: TermCalendar): number {
    const span = this.o.toIdx - this.o.fromIdx;
    const lo = this.o.fromIdx + Math.floor(span * 0.15);
    const hi = this.o.toIdx - Math.floor(span * 0.15);
    return this.schoolDayBetween(cal, lo, hi);
  }

  assignCare(): void {
    // Status is per household (siblings are on plans and in care together), more often in FSM households.
    const fsmShare = 0.257 * 2.5 + 0.743;
    for (const h of this.households) {
      const factor = (h.fsm ? 2.5 : 1) / fsmShare;
      const u = this.random.next();
      const cla = PREVALENCE.cla * (1 - PREVALENCE.claOutOfArea) * factor;
      const cpp = PREVALENCE.cpp * factor;
      const cin = PREVALENCE.cin * factor;
      const plac = PREVALENCE.plac * factor;
      let status: Pupil['socialStatus'] = 'none';
      if (u < cla) status = 'cla';
      else if (u < cla + cpp) status = 'cpp';
      else if (u < cla + cpp + cin) status = 'cin';
      else if (u < cla + cpp + cin + plac) status = 'plac';
      if (status === 'none') continue;
      const mode = this.random.next();
      for (const c of h.children) this.applyCare(c, status, mode);
    }
  }

  applyCare(p: Pupil, status: Pupil['socialStatus'], mode: number): void {
    const cal = p.enrolments[0].school.calendar;
    const care = this.careHistory(p);
    p.socialStatus = status;
    const homePost = `ZZ${1 + (p.household.id % 9)} ${1 + (p.index % 9)}AB`;
    const need = this.random.pick(['N1', 'N2', 'N3', 'N4', 'N5', 'N6', 'N7', 'N8']);
    switch (status) {
      case 'cin': {
        const enters = mode < 0.35 ? this.midRangeDay(cal) : -1;
        const referral = enters >= 0 ? this.date(enters) : this.before(0.2 + this.random.next() * 1.5);
        const closes = mode > 0.65 ? this.midRangeDay(cal) : -1;
        const closure = closes > this.idx(referral) ? this.date(closes) : undefined;
        care.referrals.push({ referral, closure, nfa: false, primaryNeed: need, plans: [] });
        if (enters >= 0)
          care.events.push({ kind: 'cin_referral', date: referral, detail: 'became a child in need during the range' });
        if (closure) care.events.push({ kind: 'cin_closure', date: closure, detail: 'case closed during the range' });
        // An earlier referral closed with no further action: a record that yields no cin period.
        if (this.random.chance(0.15))
          care.referrals.unshift({
            referral: this.before(2.5),
            closure: this.before(2.4),
            nfa: true,
            primaryNeed: need,
            plans: [],
          });
        break;
      }
      case 'cpp': {
        const referral = this.before(0.5 + this.random.next() * 1.5);
        const starts = mode < 0.4 ? this.midRangeDay(cal) : -1;
        const start = starts >= 0 ? this.date(starts) : this.before(0.1 + this.random.next() * 0.35);
        const ends = mode > 0.6 ? this.midRangeDay(cal) : -1;
        const end = ends > this.idx(start) ? this.date(ends) : undefined;
        care.referrals.push({ referral, nfa: false, primaryNeed: 'N1', plans: [end ? { start, end } : { start }] });
        if (starts >= 0)
          care.events.push({
            kind: 'cpp_start',
            date: start,
            detail: 'child protection plan started during the range',
          });
        if (end)
          care.events.push({ kind: 'cpp_end', date: end, detail: 'child protection plan ended during the range' });
        break;
      }
      case 'cla': {
        if (mode < 0.15) {
          // Enters care during the range, after a spell as a child in need.
          const enters = this.midRangeDay(cal);
          if (enters < 0) return this.applyCare(p, 'cin', 1);
          const decom = this.date(enters);
          care.referrals.push({
            referral: this.date(enters - 60 - this.random.int(90)),
            closure: this.date(enters - 1),
            nfa: false,
            primaryNeed: need,
            plans: [],
          });
          care.episodes.push(this.episode(decom, undefined, 'S', 'V2', need, 'U3', 'PR1', '', '', homePost));
          care.events.push({
            kind: 'cla_start',
            date: decom,
            detail: 'became looked after during the range (after a child-in-need referral)',
          });
        } else {
          // In care since before the range, with placement changes (contiguous episodes) before it.
          const decomIdx = this.idx(this.before(0.5 + this.random.next() * 5));
          const changes: number[] = [];
          const room = this.o.fromIdx - 1 - (decomIdx + 30);
          for (let k = this.random.int(3); k > 0 && room > 0; k--) changes.push(decomIdx + 30 + this.random.int(room));
          const bounds = [decomIdx, ...[...new Set(changes)].sort((a, b) => a - b)];
          const leaves = mode > 0.85 ? this.midRangeDay(cal) : -1;
          bounds.forEach((startIdx, k) => {
            const last = k === bounds.length - 1;
            // Day indexes are negative before 1 August: only "no end" is undefined.
            const endIdx = last ? (leaves >= 0 ? leaves : undefined) : bounds[k + 1];
            const rec = !last ? 'X1' : leaves >= 0 ? this.random.pick(['E4A', 'E4A', 'E45', 'E11']) : '';
            care.episodes.push(
              this.episode(
                this.date(startIdx),
                endIdx !== undefined ? this.date(endIdx) : undefined,
                k === 0 ? 'S' : 'P',
                'C2',
                need,
                this.random.pick(['U1', 'U3', 'U4', 'U5', 'K2']),
                this.random.pick(['PR1', 'PR4']),
                rec,
                k === 0 ? '' : 'CARPL',
                homePost,
              ),
            );
          });
          if (leaves >= 0) {
            const rec = care.episodes[care.episodes.length - 1].rec;
            care.events.push({
              kind: 'cla_end',
              date: this.date(leaves),
              detail: `left care during the range (REC ${rec})`,
            });
          }
        }
        break;
      }
      case 'plac': {
        const decom = this.before(3 + this.random.next() * 4);
        const dec = this.before(0.3 + this.random.next() * 2.5);
        care.episodes.push(
          this.episode(
            decom,
            dec > decom ? dec : this.before(0.2),
            'S',
            'C2',
            need,
            'U3',
            'PR1',
            this.random.pick(['E11', 'E12', 'E45', 'E46', 'E41']),
            '',
            homePost,
          ),
        );
        break;
      }
      default:
        break;
    }
    this.careIntervals(care);
  }

  episode(
    decom: string,
    dec: string | undefined,
    rne: string,
    ls: string,
    need: string,
    place: string,
    provider: string,
    rec: string,
    reasonChange: string,
    homePost: string,
  ): CareEpisodeRow {
    return {
      decom,
      dec,
      rne,
      ls,
      cin: need,
      place,
      provider,
      rec,
      reasonChange,
      homePost,
      placePost: place.startsWith('U') ? `ZZ${1 + this.random.int(9)} ${1 + this.random.int(9)}CD` : '',
      urn: place.startsWith('K') ? `SC${String(100000 + this.random.int(899999))}` : 'XXXXXXX',
    };
  }

  /** Day-index intervals of each cohort within the academic year (the flags schools write). */
  careIntervals(care: CareHistory): void {
    const clamp = (a: string, b: string | undefined): [number, number] | undefined => {
      const lo = Math.max(0, this.idx(a));
      const hi = b === undefined ? 400 : this.idx(b);
      return hi < lo || hi < 0 ? undefined : [lo, hi];
    };
    care.cla = [];
    care.plac = [];
    care.cin = [];
    care.cpp = [];
    // Contiguous episodes form a period of care: looked after DECOM … DEC − 1.
    let periodStart: string | undefined;
    care.episodes.forEach((e, k) => {
      periodStart ??= e.decom;
      const next = care.episodes[k + 1];
      if (next && e.dec === next.decom) return;
      const cla = clamp(periodStart, e.dec === undefined ? undefined : addDays(e.dec, -1));
      if (cla) care.cla.push(cla);
      if (e.dec !== undefined && /^E(11|12|41|4[3-8])$/.test(e.rec)) {
        const plac = clamp(e.dec, next ? addDays(next.decom, -1) : undefined);
        if (plac) care.plac.push(plac);
      }
      periodStart = undefined;
    });
    for (const r of care.referrals) {
      if (r.nfa) continue;
      const cin = clamp(r.referral, r.closure);
      if (cin) care.cin.push(cin);
      for (const plan of r.plans) {
        const cpp = clamp(plan.start, plan.end);
        if (cpp) care.cpp.push(cpp);
      }
    }
  }

  // ---- dual registration, moves, joiners, leavers ------------------------------------------

  dualRegister(): void {
    const prus = this.schools.filter((s) => !s.spec.outOfArea && s.spec.phase === 'pru');
    for (const pru of prus) {
      const wanted = Math.max(1, Math.round(pru.spec.roll * 0.6));
      const candidates = this.pupils.filter(
        (p) =>
          !p.outOfArea &&
          p.enrolments.length === 1 &&
          p.enrolments[0].school.spec.phase === 'secondary' &&
          p.enrolments[0].school.spec.calendar === pru.spec.calendar &&
          p.yearGroup >= 8 &&
          (p.sen !== 'N' || p.fsm),
      );
      this.random.shuffle(candidates);
      for (const p of candidates.slice(0, wanted)) {
        const main = p.enrolments[0];
        const startsMid = this.random.chance(0.3);
        const startIdx = startsMid
          ? this.midRangeDay(pru.calendar)
          : Math.max(this.o.fromIdx, this.firstSchoolDayFrom(pru.calendar, 0));
        if (startIdx < 0) continue;
        const admission = startsMid ? this.date(startIdx) : this.before(0.1 + this.random.next() * 0.5);
        // Two or three days a week at the PRU.
        const pattern = this.random.pick([0b00111, 0b00011, 0b11000, 0b01010]);
        main.registration = 'M';
        const sub = this.enrol(p, pru, 'S', admission, startIdx);
        sub.expectedWeekdays = pattern;
        sub.dualFrom = startIdx;
        main.expectedWeekdays = 0b11111 & ~pattern;
        main.dualFrom = startIdx;
        p.complex = true;
        this.dual.push({
          upn: p.upn,
          main: main.school.spec.urn,
          subsidiary: pru.spec.urn,
          from: this.date(startIdx),
          weekdaysAtSubsidiary: weekdayNames(pattern),
        });
      }
    }
  }

  moveAndLeave(): void {
    const mainstream = this.schools.filter(
      (s) => !s.spec.outOfArea && (s.spec.phase === 'primary' || s.spec.phase === 'secondary'),
    );
    const candidates = this.pupils.filter(
      (p) =>
        !p.outOfArea &&
        !p.complex &&
        p.enrolments.length === 1 &&
        (p.enrolments[0].school.spec.phase === 'primary' || p.enrolments[0].school.spec.phase === 'secondary'),
    );
    this.random.shuffle(candidates);
    const movers = Math.round(candidates.length * 0.02);
    const leavers = Math.round(candidates.length * 0.008);
    let k = 0;
    for (; k < movers && k < candidates.length; k++) {
      const p = candidates[k];
      const e = p.enrolments[0];
      const last = this.midRangeDay(e.school.calendar);
      if (last < 0) continue;
      const targets = mainstream.filter(
        (s) => s !== e.school && s.spec.phase === e.school.spec.phase && s.spec.yearGroups.includes(p.yearGroup),
      );
      if (targets.length === 0) continue;
      const to = this.random.pick(targets);
      this.leave(e, last);
      const first = this.firstSchoolDayFrom(to.calendar, last + 3 + this.random.int(8));
      p.complex = true;
      if (first < 0 || first > this.o.toIdx) {
        this.moves.push({ upn: p.upn, from: e.school.spec.urn, leaving: e.leaving as string });
        continue;
      }
      const admission = this.date(first);
      this.enrol(p, to, 'C', admission, first);
      this.moves.push({
        upn: p.upn,
        from: e.school.spec.urn,
        to: to.spec.urn,
        leaving: e.leaving as string,
        admission,
      });
    }
    for (let n = 0; n < leavers && k < candidates.length; n++, k++) {
      const p = candidates[k];
      const e = p.enrolments[0];
      const last = this.midRangeDay(e.school.calendar);
      if (last < 0) continue;
      this.leave(e, last);
      p.complex = true;
      this.moves.push({ upn: p.upn, from: e.school.spec.urn, leaving: e.leaving as string });
    }
  }

  addJoiners(): void {
    const mainstream = this.schools.filter(
      (s) => !s.spec.outOfArea && (s.spec.phase === 'primary' || s.spec.phase === 'secondary'),
    );
    if (mainstream.length === 0) return;
    const n = Math.round(this.pupils.length * 0.008);
    for (let i = 0; i < n; i++) {
      const school = this.random.pick(mainstream);
      const first = this.midRangeDay(school.calendar);
      if (first < 0) continue;
      const yg = this.random.pick(school.spec.yearGroups);
      const p = this.newPupil(school.spec, yg, false);
      const h = this.newHousehold(school.spec.area);
      h.fsm = this.random.chance(PREVALENCE.fsm * 1.2);
      this.join(h, p);
      p.fsm = h.fsm;
      p.sen = this.random.chance(0.16) ? 'K' : 'N';
      p.complex = true;
      const admission = this.date(first);
      this.enrol(p, school, 'C', admission, first);
      this.joiners.push({ upn: p.upn, urn: school.spec.urn, admission });
    }
  }

  /** Looked-after children placed in schools of other LAs; a few moved there from one of ours mid-range. */
  outOfAreaPlacements(): void {
    const ooa = this.schools.filter((s) => s.spec.outOfArea);
    for (const school of ooa) {
      const n = 1 + this.random.int(5);
      for (let i = 0; i < n; i++) {
        const yg = this.random.pick(school.spec.yearGroups);
        const p = this.newPupil(school.spec, yg, true);
        const h = this.newHousehold(-1);
        h.fsm = this.random.chance(0.45);
        this.join(h, p);
        p.fsm = h.fsm;
        p.sen = this.random.chance(0.25) ? 'E' : this.random.chance(0.3) ? 'K' : 'N';
        p.socialStatus = 'cla';
        const care = this.careHistory(p);
        const need = this.random.pick(['N1', 'N2', 'N4']);
        const decom = this.before(1 + this.random.next() * 5);
        const change = this.before(0.2 + this.random.next() * 0.7);
        care.episodes.push(
          this.episode(decom, change, 'S', 'C2', need, 'U3', 'PR1', 'X1', '', `ZZ${1 + (h.id % 9)} 9EF`),
        );
        care.episodes.push(
          this.episode(
            change,
            undefined,
            'P',
            'C2',
            need,
            this.random.pick(['U1', 'U4', 'K2']),
            this.random.pick(['PR2', 'PR4']),
            '',
            'CARPL',
            `ZZ${1 + (h.id % 9)} 9EF`,
          ),
        );
        this.careIntervals(care);
        const movedMidRange = this.random.chance(0.25);
        const home = this.schools.filter(
          (s) =>
            !s.spec.outOfArea &&
            s.spec.phase === school.spec.phase &&
            s.spec.yearGroups.includes(yg) &&
            s.spec.calendar === 'la',
        );
        if (movedMidRange && home.length > 0) {
          const from = this.random.pick(home);
          const last = this.midRangeDay(from.calendar);
          const first = last < 0 ? -1 : this.firstSchoolDayFrom(school.calendar, last + 3);
          if (last >= 0 && first >= 0 && first <= this.o.toIdx) {
            const e = this.enrol(
              p,
              from,
              'C',
              this.pastAdmission(from.spec, yg) || this.date(this.firstSchoolDayFrom(from.calendar, 0)),
              this.o.fromIdx,
            );
            e.startIdx = Math.max(this.o.fromIdx, this.idx(e.admission));
            this.leave(e, last);
            const admission = this.date(first);
            this.enrol(p, school, 'C', admission, first);
            this.moves.push({
              upn: p.upn,
              from: from.spec.urn,
              to: school.spec.urn,
              leaving: e.leaving as string,
              admission,
            });
            care.events.push({
              kind: 'placement_move',
              date: admission,
              detail: `placement moved out of area: left ${from.spec.urn}, admitted to out-of-area school ${school.spec.urn}`,
            });
            continue;
          }
        }
        const admission = this.pastAdmission(school.spec, yg) || this.before(0.1 + this.random.next() * 0.6);
        this.enrol(p, school, 'C', admission, Math.max(this.o.fromIdx, this.idx(admission)));
      }
    }
  }

  /** Year 11 leave on the last Friday of June (leaving_date on their rows). */
  yearElevenLeave(): void {
    const juneEnd = dayNumber(`${this.o.academicYear + 1}-06-30`);
    const lastFriday = fromDayNumber(juneEnd - ((weekdayIndex(fromDayNumber(juneEnd)) - 4 + 7) % 7));
    const idx = this.idx(lastFriday);
    if (idx > this.o.toIdx) return;
    for (const p of this.pupils) {
      if (p.yearGroup !== 11) continue;
      for (const e of p.enrolments) {
        if (e.endIdx < idx) continue;
        const last = this.lastSchoolDayUpTo(e.school.calendar, idx);
        if (last < e.startIdx) continue;
        this.leave(e, last);
      }
    }
  }

  /** Reception: some part-time (PM `X`) through the autumn term; half the primaries phase their start. */
  partTimeReception(): void {
    const phased = new Set(
      this.schools.filter((s) => s.spec.phase === 'primary' && this.random.chance(0.5)).map((s) => s.index),
    );
    for (const p of this.pupils) {
      if (p.yearGroup !== 0) continue;
      const e = p.enrolments[0];
      const cal = e.school.calendar;
      const first = this.firstSchoolDayFrom(cal, 0);
      if (this.random.chance(0.04)) {
        p.partTimeUntil = this.lastSchoolDayUpTo(cal, this.idx(`${this.o.academicYear}-12-23`));
      } else if (phased.has(e.school.index)) {
        let d = first;
        for (let n = 0; n < 4; n++) d = this.firstSchoolDayFrom(cal, d + 1);
        p.partTimeUntil = d;
      }
    }
  }
}

function weekdayNames(mask: number): string {
  return ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'].filter((_, i) => mask & (1 << i)).join(',');
}

/** Whether a dual-registered enrolment expects the pupil on this day (others mark `D`). */
export function expectedHere(e: Enrolment, dayIdx: number, weekday: number): boolean {
  if (e.expectedWeekdays === undefined) return true;
  if (dayIdx < (e.dualFrom ?? 0)) return e.registration !== 'S';
  return (e.expectedWeekdays & (1 << weekday)) !== 0;
}

/** Registration as written on a row: the main school of a dual registration is `C` until it starts. */
export function registrationOn(e: Enrolment, dayIdx: number): Registration {
  return e.registration === 'M' && dayIdx < (e.dualFrom ?? 0) ? 'C' : e.registration;
}
