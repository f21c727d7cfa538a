/**
 * A varied synthetic LA for scoring the threshold-gaming detectors on data they were not tuned to
 * (issue 21). Written separately from local/synthetic/ on purpose: that generator fixes what this one
 * varies, and the detectors' defaults were first chosen on it.
 *
 * What is varied, per seed (every draw from a seeded stream, so a seed gives the same LA):
 * - school sizes from 30 to 2,000 pupils (log-uniform), and some schools with their own half terms
 *   (academies a week earlier or later than the LA);
 * - background absence per pupil from none to severe (0 %, ~3 %, ~7 %, ~15 %, ~40 % of sessions), in
 *   spells of a few days, mostly illness (I), some medical appointments (M, often half days), some
 *   unauthorised (O, G, N), and a little more likely in the days before a break (as it really is);
 * - planted holiday-taking pupils: at 2 to 6 of the year's breaks (October, Christmas, February,
 *   Easter, May, summer), 1 to 3 days per break, before, after or both sides, coded I, M,
 *   unauthorised (G, O, N) or a mixture, on top of any background;
 * - families of 2 or 3 children at 2 or 3 different schools taking the same days off beside breaks;
 * - schools coding holiday extensions as illness for 5 % to 30 % of their pupils at each break (a
 *   fresh draw of pupils at each break, 1 to 3 days, before or after);
 * - near-threshold holidays (8 or 9 unauthorised sessions, mostly G) and split holidays (6 or 7 G plus
 *   illness), at any time of the year;
 * - controls the detectors must never flag: R, E or C2 beside breaks, one illness spanning a break,
 *   ordinary illness spread through the year, three scattered sick days, siblings at the same school
 *   off together beside breaks (never a family flag), siblings at different schools ill together
 *   through the year (never a family flag).
 *
 * Two academic years (issue 21, second year): 2025/26, scored during the year, and 2024/25 before it,
 * for the detectors' 12-month window. Year to year: a pupil keeps their school (4 % moved school within
 * the LA) and background level (fresh spells), 12 % are new to the LA this year (no register last
 * year: Reception, movers in); a holiday-taking pupil or family keeps its habit — how likely it is to
 * take a break and how it codes it (kept 80 % of the time) — but draws its breaks, days and sides
 * afresh each year, and 70 % took holidays last year too, 15 % start this year, 15 % stopped after
 * last year; a coding school coded last year too (80 %, a share within ±30 % of this year's) or
 * started this year; near-threshold holidays are this year's only; the pupil-level controls are drawn
 * afresh each year on different pupils (chance does not repeat), while the sibling controls are
 * households and keep their habits. Last year's leavers are not generated (the detectors analyse
 * only pupils on this year's registers).
 *
 * The truth is kept as marks per planted source (day numbers, either year), so scoring can say, as of
 * any date and over any window, what a behaviour had become by then (varied-evaluation.ts).
 */
import {
  schoolCalendar,
  sessionDaysFromMarks,
  type Closure,
  type SchoolCalendar,
} from '../../shared/domain/calendar.js';
import { MARK_CHAR } from '../../shared/domain/codes.js';
import { addDays, dayNumber, fromDayNumber, isWeekend } from '../../shared/domain/dates.js';
import {
  applyRows,
  emptyRegister,
  EMPTY_MARKS,
  type RegisterRow,
  type SchoolRegister,
} from '../../shared/domain/register.js';
import { englandAndWalesBankHolidays } from '../../shared/formats/bank-holidays.js';
import { Random } from '../synthetic/random.js';

export interface VariedOptions {
  seed: string;
  schools: number;
  pupils: number;
}

/** The academic year the varied LA is scored in (2025/26: its term dates are below); 2024/25 is generated before it. */
export const VARIED_YEAR = 2025;
export const VARIED_FROM = '2025-09-01';
export const VARIED_TO = '2026-07-21';
/** Day number of 1 August 2025: planted marks before it are last year's. */
export const CURRENT_YEAR_START_DAY = dayNumber('2025-08-01');

type LaBreak = { name: BreakName; start: string; end: string };
/** The LA's term dates per year (breaks inclusive). Academies move the half terms by a week. */
const LA_YEARS: ReadonlyArray<{
  academicYear: number;
  first: string;
  last: string;
  breaks: LaBreak[];
  summer: LaBreak;
  inset: string[];
}> = [
  {
    academicYear: VARIED_YEAR - 1,
    first: '2024-09-04',
    last: '2025-07-22',
    breaks: [
      { name: 'october', start: '2024-10-28', end: '2024-11-01' },
      { name: 'christmas', start: '2024-12-23', end: '2025-01-03' },
      { name: 'february', start: '2025-02-17', end: '2025-02-21' },
      { name: 'easter', start: '2025-04-07', end: '2025-04-18' },
      { name: 'may', start: '2025-05-26', end: '2025-05-30' },
    ],
    summer: { name: 'summer', start: '2025-07-23', end: '2025-09-02' },
    inset: ['2024-11-15', '2025-01-06', '2025-06-09'],
  },
  {
    academicYear: VARIED_YEAR,
    first: '2025-09-03',
    last: VARIED_TO,
    breaks: [
      { name: 'october', start: '2025-10-27', end: '2025-10-31' },
      { name: 'christmas', start: '2025-12-22', end: '2026-01-02' },
      { name: 'february', start: '2026-02-16', end: '2026-02-20' },
      { name: 'easter', start: '2026-03-30', end: '2026-04-10' },
      { name: 'may', start: '2026-05-25', end: '2026-05-29' },
    ],
    summer: { name: 'summer', start: '2026-07-22', end: '2026-08-31' },
    inset: ['2025-11-14', '2026-01-05', '2026-06-08'],
  },
];
export type BreakName = 'october' | 'christmas' | 'february' | 'easter' | 'may' | 'summer';
export const BREAK_NAMES: readonly BreakName[] = ['october', 'christmas', 'february', 'easter', 'may', 'summer'];

export type Code = 'I' | 'M' | 'G' | 'O' | 'N' | 'R' | 'E' | 'C2' | 'L' | '/' | '\\';
const COUNTED = new Set(['I', 'M', 'G', 'O', 'N']);

export type BackgroundLevel = 'none' | 'low' | 'moderate' | 'high' | 'severe';
const BACKGROUND_RATE: Record<BackgroundLevel, [number, number]> = {
  none: [0, 0],
  low: [0.015, 0.045],
  moderate: [0.05, 0.09],
  high: [0.1, 0.2],
  severe: [0.3, 0.5],
};
const BACKGROUND_WEIGHTS: Array<[BackgroundLevel, number]> = [
  ['none', 10],
  ['low', 45],
  ['moderate', 28],
  ['high', 12],
  ['severe', 5],
];

/** One school's academic year: its school days and breaks. */
export interface VariedSchoolYear {
  academicYear: number;
  /** School days in date order (ISO). */
  days: string[];
  /** Day number → index in `days`. */
  indexOf: Map<number, number>;
  breaks: Array<{ name: BreakName; start: string; end: string }>;
}

/** A school: this year's days and breaks at the top level (2025/26), last year's in `previous`. */
export interface VariedSchool extends VariedSchoolYear {
  urn: string;
  size: number;
  ownDates: boolean;
  /** Share of pupils a coding school touches at each break (0 when it does not code). */
  codingShare: number;
  previous: VariedSchoolYear;
  /** Its share last year (0: it did not code then). */
  previousCodingShare: number;
}

export type PlantKind =
  | 'holiday_pupil'
  | 'family'
  | 'coding_extension'
  | 'near_threshold'
  | 'split_holiday'
  | 'control_r'
  | 'control_e'
  | 'control_c2'
  | 'control_spanning_illness'
  | 'control_spread_illness'
  | 'control_scattered_days'
  | 'control_same_school_siblings'
  | 'control_siblings_ill_together';

/** One planted mark on a pupil, with the behaviour it belongs to. */
export interface PlantedMark {
  day: number; // day number
  session: 0 | 1;
  code: Code;
  /** The break the day is planted beside (holiday plants only), and whether it is within K days of it. */
  breakName?: BreakName;
  side?: 'before' | 'after';
  adjacent?: boolean;
}

/** This year or last year. */
export type Year = 'current' | 'previous';

/** K: school days either side of a break that are holiday-adjacent (the LA default). */
export const K = 2;

export interface VariedPupil {
  upn: string;
  urn: string;
  uprn: string;
  background: BackgroundLevel;
  /** This year's marks, per session of the school's days (background and planted). */
  marks: Code[];
  /** Last year's school (another school for a pupil who moved within the LA); undefined: new to the LA this year. */
  previousUrn?: string;
  /** Last year's marks at `previousUrn`, per session of that school's days last year. */
  previousMarks?: Code[];
  plants: Array<{ kind: PlantKind; behaviour: string }>;
}

export interface VariedBehaviour {
  id: string;
  kind: PlantKind;
  unit: 'pupil' | 'family' | 'school';
  upns: string[];
  urn?: string;
  /** Planted marks of this behaviour per UPN (holiday-type plants). */
  planted: Map<string, PlantedMark[]>;
  /** Control: the flags it must never raise. */
  control: boolean;
  detail: string;
}

export interface VariedLa {
  seed: string;
  schools: VariedSchool[];
  pupils: Map<string, VariedPupil>;
  behaviours: VariedBehaviour[];
  closures: Closure[];
  /** This year's full-year registers (one per school). */
  registers: SchoolRegister[];
  /** Last year's registers (2024/25; one per school with pupils then). */
  previousRegisters: SchoolRegister[];
}

function laClosures(): Closure[] {
  return [
    { start: '2024-08-01', end: '2024-09-03', label: 'Summer holiday' },
    ...LA_YEARS.flatMap((y) => [
      ...y.breaks.map((b) => ({ start: b.start, end: b.end, label: `${b.name} holiday` })),
      { start: y.summer.start, end: y.summer.end, label: 'Summer holiday' },
    ]),
  ];
}

function schoolDays(
  first: string,
  last: string,
  breaks: ReadonlyArray<{ start: string; end: string }>,
  inset: string[],
): string[] {
  const bank = englandAndWalesBankHolidays();
  const out: string[] = [];
  for (let d = dayNumber(first); d <= dayNumber(last); d++) {
    const iso = fromDayNumber(d);
    if (isWeekend(iso) || bank.has(iso) || inset.includes(iso)) continue;
    if (breaks.some((b) => iso >= b.start && iso <= b.end)) continue;
    out.push(iso);
  }
  return out;
}

/** The K school days before a break (nearest last) and after it (nearest first), and further days for longer plants. */
function daysBeside(s: VariedSchoolYear, breakName: BreakName, side: 'before' | 'after', n: number): string[] {
  const b = s.breaks.find((x) => x.name === breakName);
  if (!b) return [];
  if (side === 'before') {
    const before = s.days.filter((d) => d < b.start);
    return before.slice(Math.max(0, before.length - n));
  }
  return s.days.filter((d) => d > b.end).slice(0, n);
}

export function generateVariedLa(options: VariedOptions): VariedLa {
  const root = new Random(`varied:${options.seed}`);
  const rSchools = root.stream('schools');
  const rBackground = root.stream('background');
  const rPlant = root.stream('plant');
  const closures = laClosures();

  // ---- Schools: sizes log-uniform in [30, 2000], scaled towards the pupils asked for.
  const raw = Array.from({ length: options.schools }, () =>
    Math.exp(Math.log(30) + rSchools.next() * (Math.log(2000) - Math.log(30))),
  );
  const scale = options.pupils / raw.reduce((a, b) => a + b, 0);
  const sizes = raw.map((x) => Math.max(30, Math.min(2000, Math.round(x * Math.min(Math.max(scale, 0.3), 3)))));
  // Make sure the extremes are there whenever the LA is big enough to hold them.
  if (options.schools >= 4) {
    sizes[0] = 30;
    if (options.pupils >= 4000) sizes[1] = 2000;
  }
  const schools: VariedSchool[] = sizes.map((size, i) => {
    const urn = String(700001 + i);
    const ownDates = i >= 2 && rSchools.chance(0.25);
    const shift = ownDates ? (rSchools.chance(0.5) ? -7 : 7) : 0;
    const insetThisYear = rSchools.chance(0.5);
    const [previous, current] = LA_YEARS.map((y): VariedSchoolYear => {
      const breaks: VariedSchoolYear['breaks'] = y.breaks.map((b) =>
        b.name === 'october' || b.name === 'february' || b.name === 'may'
          ? { name: b.name, start: addDays(b.start, shift), end: addDays(b.end, shift) }
          : { ...b },
      );
      breaks.push({ ...y.summer });
      // An academy's own term dates: every holiday of its year, its half terms shifted (its register
      // shows it open in the LA's, which the calendar trusts). They replace the LA calendar for the year
      // (calendar.ts), so they must hold the summer too: published in advance, it is what tells the
      // detectors that the last school days of July are beside a break before the register reaches it.
      if (ownDates)
        for (const b of breaks)
          closures.push({
            start: b.start,
            end: b.end,
            label: b.name === 'summer' ? 'Summer holiday' : `${b.name} holiday`,
            urn,
          });
      const inset = insetThisYear ? [y.inset[rSchools.int(y.inset.length)]] : [];
      const days = schoolDays(
        y.first,
        y.last,
        breaks.filter((b) => b.name !== 'summer'),
        inset,
      );
      return { academicYear: y.academicYear, days, indexOf: new Map(days.map((d, j) => [dayNumber(d), j])), breaks };
    });
    return { urn, size, ...current, ownDates, codingShare: 0, previous, previousCodingShare: 0 };
  });
  // Coding schools: about one in five (at least one), any size, any share 5–30 %.
  const order = rPlant.shuffle(schools.map((_, i) => i));
  const nCoding = Math.max(1, Math.round(schools.length / 5));
  for (const i of order.slice(0, nCoding)) {
    const share = 0.05 + rPlant.next() * 0.25;
    schools[i].codingShare = share;
    // Last year: the same habit, within ±30 % of this year's share (80 %), or it started this year.
    schools[i].previousCodingShare = rPlant.chance(0.8)
      ? Math.min(0.3, Math.max(0.05, share * (0.7 + 0.6 * rPlant.next())))
      : 0;
  }

  // ---- Pupils and background absence.
  const pupils = new Map<string, VariedPupil>();
  const bySchool = new Map<string, VariedPupil[]>();
  let serial = 0;
  for (const s of schools) {
    const list: VariedPupil[] = [];
    for (let i = 0; i < s.size; i++) {
      const upn = `V${String(++serial).padStart(8, '0')}${options.seed.length % 10}`;
      const background = BACKGROUND_WEIGHTS[rBackground.weighted(BACKGROUND_WEIGHTS.map(([, w]) => w))][0];
      const p: VariedPupil = {
        upn,
        urn: s.urn,
        uprn: `U${serial}`,
        background,
        marks: new Array(s.days.length * 2).fill('/'),
        plants: [],
      };
      backgroundAbsence(p.marks, s, background, rBackground);
      // Last year: 12 % new to the LA this year, 4 % at another school, the rest here (fresh spells, same level).
      const history = rBackground.next();
      if (history >= 0.12) {
        p.previousUrn = history < 0.16 ? schools[rBackground.int(schools.length)].urn : s.urn;
        const prev = (schools.find((x) => x.urn === p.previousUrn) as VariedSchool).previous;
        p.previousMarks = new Array(prev.days.length * 2).fill('/');
        backgroundAbsence(p.previousMarks, prev, background, rBackground);
      }
      pupils.set(upn, p);
      list.push(p);
    }
    bySchool.set(s.urn, list);
  }

  const behaviours: VariedBehaviour[] = [];
  const taken = new Set<string>();
  const schoolOf = new Map(schools.map((s) => [s.urn, s]));
  /** The pupil's school-year and marks for a year (null: not on a register that year). */
  const yearOf = (p: VariedPupil, year: Year): { y: VariedSchoolYear; marks: Code[] } | null => {
    if (year === 'current') return { y: schoolOf.get(p.urn) as VariedSchool, marks: p.marks };
    if (!p.previousUrn || !p.previousMarks) return null;
    return { y: (schoolOf.get(p.previousUrn) as VariedSchool).previous, marks: p.previousMarks };
  };
  const set = (p: VariedPupil, day: string, session: 0 | 1, code: Code): PlantedMark | null => {
    const n = dayNumber(day);
    const at = yearOf(p, n < CURRENT_YEAR_START_DAY ? 'previous' : 'current');
    const j = at?.y.indexOf.get(n);
    if (!at || j === undefined) return null;
    at.marks[j * 2 + session] = code;
    return { day: n, session, code };
  };
  const free = (list: VariedPupil[]) => {
    for (let tries = 0; tries < 50; tries++) {
      const p = rPlant.pick(list);
      if (!taken.has(p.upn)) {
        taken.add(p.upn);
        return p;
      }
    }
    return null;
  };
  const allPupils = [...pupils.values()];
  const anyPupil = () => free(allPupils);
  const returning = allPupils.filter((p) => p.previousMarks);
  const returningPupil = () => free(returning);
  const codeStyle = () => rPlant.pick(['I', 'M', 'unauthorised', 'mixture'] as const);
  const codeFor = (style: ReturnType<typeof codeStyle>): Code =>
    style === 'I'
      ? 'I'
      : style === 'M'
        ? 'M'
        : style === 'unauthorised'
          ? rPlant.pick(['G', 'G', 'O', 'N'] as Code[])
          : rPlant.pick(['I', 'I', 'M', 'G', 'O', 'N'] as Code[]);
  /** A family's habit: how likely it takes each break (40 % to 100 %), and how it codes the days. */
  const newHabit = () => ({ q: 0.4 + rPlant.next() * 0.6, style: codeStyle() });
  /** A year's holiday plan from a habit: which breaks (at least two), how many days, which side. */
  const holidayPlan = (habit = newHabit()) => {
    const { q, style } = habit;
    let names = BREAK_NAMES.filter(() => rPlant.chance(q));
    if (names.length < 2) names = rPlant.shuffle([...BREAK_NAMES]).slice(0, 2);
    return names.map((name) => ({
      name,
      days: rPlant.between(1, 3),
      side: name === 'summer' ? ('before' as const) : rPlant.pick(['before', 'after', 'both'] as const),
      style,
    }));
  };
  const applyPlan = (
    p: VariedPupil,
    plan: ReturnType<typeof holidayPlan>,
    codes?: Map<string, Code>,
    year: Year = 'current',
  ): PlantedMark[] => {
    const out: PlantedMark[] = [];
    const at = yearOf(p, year);
    if (!at) return out;
    const s = at.y;
    for (const b of plan) {
      const sides: Array<'before' | 'after'> = b.side === 'both' ? ['before', 'after'] : [b.side];
      for (const side of sides) {
        const days = daysBeside(s, b.name, side, b.days);
        for (const [idx, day] of days.entries()) {
          const distance = side === 'before' ? days.length - idx : idx + 1;
          for (const session of [0, 1] as const) {
            const key = `${year}:${b.name}:${day}:${session}`;
            const code = codes?.get(key) ?? codeFor(b.style);
            codes?.set(key, code);
            const m = set(p, day, session, code);
            if (m) out.push({ ...m, breakName: b.name, side, adjacent: distance <= K });
          }
        }
      }
    }
    return out;
  };
  const add = (b: Omit<VariedBehaviour, 'id'>) => {
    const id = `${b.kind}-${behaviours.length + 1}`;
    behaviours.push({ id, ...b });
    for (const u of b.upns) pupils.get(u)?.plants.push({ kind: b.kind, behaviour: id });
    return id;
  };
  const total = allPupils.length;
  const count = (per10k: number, min: number) => Math.max(min, Math.round((total * per10k) / 10_000));

  /**
   * Which years a holiday habit shows in: both (70 %), this year only (it starts: 15 %), last year only
   * (it stopped: 15 %). A household with no register last year can only start.
   */
  const habitYears = (onRegisterLastYear: boolean): Year[] => {
    const r = rPlant.next();
    if (!onRegisterLastYear) return ['current'];
    return r < 0.7 ? ['previous', 'current'] : r < 0.85 ? ['current'] : ['previous'];
  };
  /** The habit kept from last year to this, its code style kept 80 % of the time. */
  const nextYearHabit = (h: ReturnType<typeof newHabit>) => ({
    q: h.q,
    style: rPlant.chance(0.8) ? h.style : codeStyle(),
  });
  const describe = (plan: ReturnType<typeof holidayPlan>) =>
    plan.map((b) => `${b.name} ${b.days}d ${b.side} ${b.style}`).join(', ');

  // Holiday-taking pupils.
  for (let i = 0; i < count(40, 20); i++) {
    const p = anyPupil();
    if (!p) continue;
    const years = habitYears(p.previousMarks !== undefined);
    let habit = newHabit();
    const planted: PlantedMark[] = [];
    const details: string[] = [];
    for (const year of ['previous', 'current'] as const) {
      if (year === 'current') habit = nextYearHabit(habit);
      if (!years.includes(year)) continue;
      const plan = holidayPlan(habit);
      planted.push(...applyPlan(p, plan, undefined, year));
      details.push(`${year === 'current' ? 'this year' : 'last year'}: ${describe(plan)}`);
    }
    add({
      kind: 'holiday_pupil',
      unit: 'pupil',
      upns: [p.upn],
      planted: new Map([[p.upn, planted]]),
      control: false,
      detail: `${p.previousMarks ? '' : 'new to the LA; '}${details.join('; ')}`,
    });
  }

  // Families at 2 or 3 different schools (the LA's calendar: half terms shared).
  const laSchools = schools.filter((s) => !s.ownDates);
  for (let i = 0; i < count(12, 8); i++) {
    const nSchools = laSchools.length >= 3 && rPlant.chance(0.4) ? 3 : 2;
    if (laSchools.length < nSchools) break;
    const chosen = rPlant.shuffle([...laSchools]).slice(0, nSchools);
    const nChildren = nSchools === 3 ? 3 : rPlant.chance(0.3) ? 3 : 2;
    const kids: VariedPupil[] = [];
    for (let c = 0; c < nChildren; c++) {
      const k = free(bySchool.get(chosen[c % nSchools].urn) as VariedPupil[]);
      if (k) kids.push(k);
    }
    if (new Set(kids.map((k) => k.urn)).size < 2) continue;
    const uprn = `F${i}`;
    for (const k of kids) k.uprn = uprn;
    const years = habitYears(kids.some((k) => k.previousMarks !== undefined));
    let habit = newHabit();
    const codes = new Map<string, Code>();
    const planted = new Map<string, PlantedMark[]>(kids.map((k) => [k.upn, []]));
    const details: string[] = [];
    for (const year of ['previous', 'current'] as const) {
      if (year === 'current') habit = nextYearHabit(habit);
      if (!years.includes(year)) continue;
      const plan = holidayPlan(habit);
      for (const k of kids) (planted.get(k.upn) as PlantedMark[]).push(...applyPlan(k, plan, codes, year));
      details.push(`${year === 'current' ? 'this year' : 'last year'}: ${describe(plan)}`);
    }
    const newKids = kids.filter((k) => !k.previousMarks).length;
    add({
      kind: 'family',
      unit: 'family',
      upns: kids.map((k) => k.upn),
      planted,
      control: false,
      detail: `${kids.length} children at ${new Set(kids.map((k) => k.urn)).size} schools${newKids ? ` (${newKids} new to the LA)` : ''}; ${details.join('; ')}`,
    });
  }

  // Coding schools: at each break, a fresh share of pupils with a 1–3 day extension coded I.
  // Last year on that school's register: its pupils then (those who stayed and those who moved away since).
  const lastYearAt = new Map<string, VariedPupil[]>();
  for (const p of allPupils)
    if (p.previousUrn) lastYearAt.set(p.previousUrn, [...(lastYearAt.get(p.previousUrn) ?? []), p]);
  for (const s of schools.filter((x) => x.codingShare > 0)) {
    const planted = new Map<string, PlantedMark[]>();
    for (const [year, y, share, list] of [
      ['previous', s.previous, s.previousCodingShare, lastYearAt.get(s.urn) ?? []],
      ['current', s, s.codingShare, bySchool.get(s.urn) as VariedPupil[]],
    ] as const) {
      for (const b of y.breaks) {
        for (const p of list) {
          if (!rPlant.chance(share)) continue;
          const side = b.name === 'summer' ? 'before' : rPlant.pick(['before', 'after'] as const);
          const marks = applyPlan(p, [{ name: b.name, days: rPlant.between(1, 3), side, style: 'I' }], undefined, year);
          planted.set(p.upn, [...(planted.get(p.upn) ?? []), ...marks]);
        }
      }
    }
    const last =
      s.previousCodingShare > 0 ? `${Math.round(s.previousCodingShare * 100)} % last year` : 'started this year';
    add({
      kind: 'coding_extension',
      unit: 'school',
      upns: [...planted.keys()],
      urn: s.urn,
      planted,
      control: false,
      detail: `size ${s.size}, ${Math.round(s.codingShare * 100)} % of pupils at each break (${last})`,
    });
  }

  // Near-threshold and split holidays (any time of the year, on school days).
  for (let i = 0; i < count(15, 10); i++) {
    const p = anyPupil();
    if (!p) continue;
    const s = schoolOf.get(p.urn) as VariedSchool;
    const split = rPlant.chance(0.3);
    const sessions = split ? rPlant.between(6, 7) : rPlant.between(8, 9);
    const start = rPlant.between(5, s.days.length - 12) * 2 + rPlant.int(2);
    const planted: PlantedMark[] = [];
    for (let k = 0; k < sessions; k++) {
      const slot = start + k;
      const code: Code = k < Math.ceil(sessions / 2) || rPlant.chance(0.7) ? 'G' : rPlant.pick(['O', 'N'] as Code[]);
      const m = set(p, s.days[slot >> 1], (slot & 1) as 0 | 1, code);
      if (m) planted.push(m);
    }
    if (split) {
      // Illness right after the holiday takes it to 10 or more.
      for (let k = 0; k < 10 - sessions + rPlant.between(0, 3); k++) {
        const slot = start + sessions + k;
        const m = set(p, s.days[slot >> 1], (slot & 1) as 0 | 1, 'I');
        if (m) planted.push(m);
      }
    }
    add({
      kind: split ? 'split_holiday' : 'near_threshold',
      unit: 'pupil',
      upns: [p.upn],
      planted: new Map([[p.upn, planted]]),
      control: false,
      detail: `${sessions} unauthorised sessions from ${s.days[start >> 1]}`,
    });
  }

  // Controls: the pupil-level ones drawn afresh each year on different pupils (chance does not repeat).
  for (const year of ['current', 'previous'] as const) {
    const pick = year === 'current' ? anyPupil : returningPupil;
    const when = year === 'current' ? '' : ' (last year)';
    for (const [kind, code] of [
      ['control_r', 'R'],
      ['control_e', 'E'],
      ['control_c2', 'C2'],
    ] as const) {
      for (let i = 0; i < count(4, 4); i++) {
        const p = pick();
        if (!p) continue;
        const plan = holidayPlan().map((b) => ({ ...b, style: 'I' as const }));
        const marks = applyPlan(p, plan, undefined, year);
        // Re-code the planted days with the control's code (never counted absence).
        for (const m of marks) {
          set(p, fromDayNumber(m.day), m.session, code);
          m.code = code;
        }
        add({
          kind,
          unit: 'pupil',
          upns: [p.upn],
          planted: new Map([[p.upn, marks]]),
          control: true,
          detail: `${code} beside ${plan.map((b) => b.name).join(', ')}${when}`,
        });
      }
    }
    for (let i = 0; i < count(4, 4); i++) {
      const p = pick();
      if (!p) continue;
      const name = rPlant.pick(BREAK_NAMES.filter((b) => b !== 'summer'));
      const plan = [{ name, days: rPlant.between(2, 3), side: 'both' as const, style: 'I' as const }];
      const planted = applyPlan(p, plan, undefined, year);
      add({
        kind: 'control_spanning_illness',
        unit: 'pupil',
        upns: [p.upn],
        planted: new Map([[p.upn, planted]]),
        control: true,
        detail: `one illness spanning ${name}${when}`,
      });
    }
    for (let i = 0; i < count(6, 5); i++) {
      const p = pick();
      const at = p && yearOf(p, year);
      if (!p || !at) continue;
      const days = at.y.days;
      const scattered = rPlant.chance(0.5);
      const spells = scattered ? 3 : rPlant.between(6, 10);
      for (let k = 0; k < spells; k++) {
        const j = rPlant.int(days.length);
        const len = scattered ? 1 : rPlant.between(1, 3);
        for (let d = j; d < Math.min(days.length, j + len); d++) {
          set(p, days[d], 0, 'I');
          set(p, days[d], 1, 'I');
        }
      }
      add({
        kind: scattered ? 'control_scattered_days' : 'control_spread_illness',
        unit: 'pupil',
        upns: [p.upn],
        planted: new Map(),
        control: true,
        detail: (scattered ? 'three scattered sick days' : `${spells} illnesses through the year`) + when,
      });
    }
  }
  // Siblings at the same school off together beside breaks: never a family flag (a household: its habit shows in both years, as a family's).
  for (let i = 0; i < count(4, 3); i++) {
    const s = rPlant.pick(schools.filter((x) => x.size >= 60));
    if (!s) break;
    const a = free(bySchool.get(s.urn) as VariedPupil[]);
    const b = free(bySchool.get(s.urn) as VariedPupil[]);
    if (!a || !b) continue;
    a.uprn = b.uprn = `S${i}`;
    // Last year only when both were at this school then (siblings at two schools would be a real family pattern).
    const years = habitYears(a.previousUrn === s.urn && b.previousUrn === s.urn);
    let habit = newHabit();
    const codes = new Map<string, Code>();
    const planted = new Map<string, PlantedMark[]>([
      [a.upn, []],
      [b.upn, []],
    ]);
    for (const year of ['previous', 'current'] as const) {
      if (year === 'current') habit = nextYearHabit(habit);
      if (!years.includes(year)) continue;
      const plan = holidayPlan(habit);
      for (const k of [a, b]) (planted.get(k.upn) as PlantedMark[]).push(...applyPlan(k, plan, codes, year));
    }
    add({
      kind: 'control_same_school_siblings',
      unit: 'family',
      upns: [a.upn, b.upn],
      urn: s.urn,
      planted,
      control: true,
      detail: `same school ${s.urn}`,
    });
  }
  // Siblings at different schools ill together through the year (both years when both were on a register): never a family flag.
  for (let i = 0; i < count(4, 3); i++) {
    if (laSchools.length < 2) break;
    const [sa, sb] = rPlant.shuffle([...laSchools]).slice(0, 2);
    const a = free(bySchool.get(sa.urn) as VariedPupil[]);
    const b = free(bySchool.get(sb.urn) as VariedPupil[]);
    if (!a || !b) continue;
    a.uprn = b.uprn = `T${i}`;
    let total = 0;
    for (const year of ['current', 'previous'] as const) {
      const at = yearOf(a, year);
      if (!at || !yearOf(b, year)) continue;
      const days = at.y.days;
      const spells = rPlant.between(5, 9);
      total += spells;
      for (let k = 0; k < spells; k++) {
        const j = rPlant.int(days.length);
        const len = rPlant.between(1, 4);
        for (let d = j; d < Math.min(days.length, j + len); d++) {
          for (const p of [a, b]) {
            set(p, days[d], 0, 'I');
            set(p, days[d], 1, 'I');
          }
        }
      }
    }
    add({
      kind: 'control_siblings_ill_together',
      unit: 'family',
      upns: [a.upn, b.upn],
      planted: new Map(),
      control: true,
      detail: `${total} shared illnesses`,
    });
  }

  // ---- Registers, with the service's own register code.
  const registers: SchoolRegister[] = [];
  for (const s of schools) {
    const register = emptyRegister(s.urn, VARIED_YEAR);
    const rows: RegisterRow[] = [];
    for (const p of bySchool.get(s.urn) as VariedPupil[]) {
      for (let j = 0; j < s.days.length; j++) {
        rows.push({
          urn: s.urn,
          upn: p.upn,
          date: s.days[j],
          am: MARK_CHAR[p.marks[j * 2]],
          pm: MARK_CHAR[p.marks[j * 2 + 1]],
          uprn: p.uprn,
        });
      }
    }
    applyRows(register, rows, `varied-${s.urn}`);
    registers.push(register);
  }
  const previousRegisters: SchoolRegister[] = [];
  for (const s of schools) {
    const list = lastYearAt.get(s.urn) ?? [];
    if (list.length === 0) continue;
    const register = emptyRegister(s.urn, VARIED_YEAR - 1);
    const rows: RegisterRow[] = [];
    for (const p of list) {
      const marks = p.previousMarks as Code[];
      for (let j = 0; j < s.previous.days.length; j++) {
        rows.push({
          urn: s.urn,
          upn: p.upn,
          date: s.previous.days[j],
          am: MARK_CHAR[marks[j * 2]],
          pm: MARK_CHAR[marks[j * 2 + 1]],
          uprn: p.uprn,
        });
      }
    }
    applyRows(register, rows, `varied-${s.urn}-previous`);
    previousRegisters.push(register);
  }
  return { seed: options.seed, schools, pupils, behaviours, closures, registers, previousRegisters };
}

/** Background absence in spells over one school-year's marks: a rate drawn for the pupil's level, spells of a few days, more likely just before breaks. */
function backgroundAbsence(marks: Code[], s: VariedSchoolYear, level: BackgroundLevel, r: Random): void {
  const [lo, hi] = BACKGROUND_RATE[level];
  const rate = lo + r.next() * (hi - lo);
  if (rate === 0) return;
  const meanLength = level === 'severe' ? 4 : 1.8;
  const startP = rate / meanLength;
  const beforeBreak = new Set<number>();
  for (const b of s.breaks)
    for (const d of daysBeside(s, b.name, 'before', 2)) beforeBreak.add(s.indexOf.get(dayNumber(d)) as number);
  for (let j = 0; j < s.days.length; j++) {
    if (!r.chance(beforeBreak.has(j) ? startP * 1.4 : startP)) continue;
    const kind = r.next();
    if (kind < 0.12) {
      // A medical appointment: a half day.
      marks[j * 2 + r.int(2)] = 'M';
      continue;
    }
    const code: Code = kind < 0.85 ? 'I' : r.pick(['O', 'O', 'G', 'N'] as Code[]);
    // Background unauthorised holidays (G) are single days: a planted near-threshold holiday is the only long G run.
    const len = code === 'G' ? 1 : Math.min(10, r.geometric(meanLength));
    for (let d = j; d < Math.min(s.days.length, j + len); d++) {
      marks[d * 2] = code;
      marks[d * 2 + 1] = code;
    }
    j += len;
  }
  // Occasional late marks (present).
  for (let j = 0; j < s.days.length; j++) if (r.chance(0.01)) marks[j * 2] = 'L';
}

/** A school's register as it stood at the end of `date` (later sessions not yet received). */
export function registerAsOf(register: SchoolRegister, date: string): SchoolRegister {
  const cut = (dayNumber(date) - dayNumber(`${register.academicYear}-08-01`) + 1) * 2;
  const pupils = new Map<string, SchoolRegister['pupils'] extends Map<string, infer P> ? P : never>();
  for (const [upn, p] of register.pupils) {
    if (p.firstListed > date) continue;
    pupils.set(upn, {
      ...p,
      marks: p.marks.slice(0, cut) + EMPTY_MARKS.slice(cut),
      lastListed: p.lastListed > date ? date : p.lastListed,
    });
  }
  return { ...register, pupils };
}

/** The school's calendar as the service builds it: its registers' sessions (each year held), the LA's and its own closures, bank holidays. */
export function variedCalendar(
  urn: string,
  registers: SchoolRegister | readonly SchoolRegister[],
  closures: readonly Closure[],
): SchoolCalendar {
  const list: readonly SchoolRegister[] = Array.isArray(registers) ? registers : [registers as SchoolRegister];
  return schoolCalendar({
    urn,
    registers: list.map((register) =>
      sessionDaysFromMarks(
        register.academicYear,
        [...register.pupils.values()].map((p) => p.marks),
      ),
    ),
    closures,
    bankHolidays: englandAndWalesBankHolidays(),
  });
}

export { COUNTED };
