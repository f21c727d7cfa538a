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
 * The truth is kept as marks per planted source, so scoring can say, as of any date, what a
 * behaviour had become by then (varied-evaluation.ts).
 */
import { schoolCalendar, sessionDaysFromMarks, type Closure, type SchoolCalendar } from '../../shared/domain/calendar.js';
import { MARK_CHAR } from '../../shared/domain/codes.js';
import { addDays, dayNumber, fromDayNumber, isWeekend } from '../../shared/domain/dates.js';
import { applyRows, emptyRegister, EMPTY_MARKS, type RegisterRow, type SchoolRegister } from '../../shared/domain/register.js';
import { englandAndWalesBankHolidays } from '../../shared/formats/bank-holidays.js';
import { Random } from '../synthetic/random.js';

export interface VariedOptions {
  seed: string;
  schools: number;
  pupils: number;
}

/** The academic year the varied LA covers (2025/26: its term dates are below). */
export const VARIED_YEAR = 2025;
export const VARIED_FROM = '2025-09-01';
export const VARIED_TO = '2026-07-21';

/** The LA's breaks in 2025/26 (inclusive). Academies move the half terms by a week. */
const LA_BREAKS: ReadonlyArray<{ name: BreakName; start: string; end: string }> = [
  { name: 'october', start: '2025-10-27', end: '2025-10-31' },
  { name: 'christmas', start: '2025-12-22', end: '2026-01-02' },
  { name: 'february', start: '2026-02-16', end: '2026-02-20' },
  { name: 'easter', start: '2026-03-30', end: '2026-04-10' },
  { name: 'may', start: '2026-05-25', end: '2026-05-29' },
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
const BACKGROUND_WEIGHTS: Array<[BackgroundLevel, number]> = [['none', 10], ['low', 45], ['moderate', 28], ['high', 12], ['severe', 5]];

export interface VariedSchool {
  urn: string;
  size: number;
  /** School days in date order (ISO). */
  days: string[];
  /** Day number → index in `days`. */
  indexOf: Map<number, number>;
  breaks: Array<{ name: BreakName; start: string; end: string }>;
  ownDates: boolean;
  /** Share of pupils a coding school touches at each break (0 when it does not code). */
  codingShare: number;
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

/** K: school days either side of a break that are holiday-adjacent (the LA default). */
export const K = 2;

export interface VariedPupil {
  upn: string;
  urn: string;
  uprn: string;
  background: BackgroundLevel;
  /** Counted-absence marks of the background (for "share of absence planted"). */
  marks: Code[];
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
  /** Full-year registers (one per school). */
  registers: SchoolRegister[];
}

function laClosures(): Closure[] {
  return [
    { start: '2025-08-01', end: '2025-09-02', label: 'Summer holiday' },
    ...LA_BREAKS.map((b) => ({ start: b.start, end: b.end, label: `${b.name} holiday` })),
    { start: '2026-07-22', end: '2026-08-31', label: 'Summer holiday' },
  ];
}

function schoolDays(breaks: ReadonlyArray<{ start: string; end: string }>, inset: string[]): string[] {
  const bank = englandAndWalesBankHolidays();
  const out: string[] = [];
  for (let d = dayNumber('2025-09-03'); d <= dayNumber(VARIED_TO); d++) {
    const iso = fromDayNumber(d);
    if (isWeekend(iso) || bank.has(iso) || inset.includes(iso)) continue;
    if (breaks.some((b) => iso >= b.start && iso <= b.end)) continue;
    out.push(iso);
  }
  return out;
}

/** The K school days before a break (nearest last) and after it (nearest first), and further days for longer plants. */
function daysBeside(s: VariedSchool, breakName: BreakName, side: 'before' | 'after', n: number): string[] {
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
  const raw = Array.from({ length: options.schools }, () => Math.exp(Math.log(30) + rSchools.next() * (Math.log(2000) - Math.log(30))));
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
    const breaks: VariedSchool['breaks'] = LA_BREAKS.map((b) =>
      b.name === 'october' || b.name === 'february' || b.name === 'may'
        ? { name: b.name, start: addDays(b.start, shift), end: addDays(b.end, shift) }
        : { ...b },
    );
    breaks.push({ name: 'summer', start: '2026-07-22', end: '2026-08-31' });
    // An academy's own half terms; its register shows it open in the LA's, which the calendar trusts.
    if (ownDates) for (const b of breaks) if (b.name === 'october' || b.name === 'february' || b.name === 'may') closures.push({ start: b.start, end: b.end, label: `${b.name} holiday`, urn });
    const inset = rSchools.chance(0.5) ? [rSchools.pick(['2025-11-14', '2026-01-05', '2026-06-08'])] : [];
    const days = schoolDays(breaks.filter((b) => b.name !== 'summer'), inset);
    const indexOf = new Map(days.map((d, j) => [dayNumber(d), j]));
    return { urn, size, days, indexOf, breaks, ownDates, codingShare: 0 };
  });
  // Coding schools: about one in five (at least one), any size, any share 5–30 %.
  const order = rPlant.shuffle(schools.map((_, i) => i));
  const nCoding = Math.max(1, Math.round(schools.length / 5));
  for (const i of order.slice(0, nCoding)) schools[i].codingShare = 0.05 + rPlant.next() * 0.25;

  // ---- Pupils and background absence.
  const pupils = new Map<string, VariedPupil>();
  const bySchool = new Map<string, VariedPupil[]>();
  let serial = 0;
  for (const s of schools) {
    const list: VariedPupil[] = [];
    for (let i = 0; i < s.size; i++) {
      const upn = `V${String(++serial).padStart(8, '0')}${options.seed.length % 10}`;
      const background = BACKGROUND_WEIGHTS[rBackground.weighted(BACKGROUND_WEIGHTS.map(([, w]) => w))][0];
      const p: VariedPupil = { upn, urn: s.urn, uprn: `U${serial}`, background, marks: new Array(s.days.length * 2).fill('/'), plants: [] };
      backgroundAbsence(p, s, rBackground);
      pupils.set(upn, p);
      list.push(p);
    }
    bySchool.set(s.urn, list);
  }

  const behaviours: VariedBehaviour[] = [];
  const taken = new Set<string>();
  const schoolOf = new Map(schools.map((s) => [s.urn, s]));
  const set = (p: VariedPupil, day: string, session: 0 | 1, code: Code): PlantedMark | null => {
    const s = schoolOf.get(p.urn) as VariedSchool;
    const j = s.indexOf.get(dayNumber(day));
    if (j === undefined) return null;
    p.marks[j * 2 + session] = code;
    return { day: dayNumber(day), session, code };
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
  const codeStyle = () => rPlant.pick(['I', 'M', 'unauthorised', 'mixture'] as const);
  const codeFor = (style: ReturnType<typeof codeStyle>): Code =>
    style === 'I' ? 'I' : style === 'M' ? 'M' : style === 'unauthorised' ? rPlant.pick(['G', 'G', 'O', 'N'] as Code[]) : rPlant.pick(['I', 'I', 'M', 'G', 'O', 'N'] as Code[]);
  /** A holiday plan: which breaks, how many days, which side, which codes. */
  const holidayPlan = () => {
    // Each break taken with a probability of its own for the family (40 % to 100 %), at least two.
    const q = 0.4 + rPlant.next() * 0.6;
    let names = BREAK_NAMES.filter(() => rPlant.chance(q));
    if (names.length < 2) names = rPlant.shuffle([...BREAK_NAMES]).slice(0, 2);
    const style = codeStyle();
    return names.map((name) => ({
      name,
      days: rPlant.between(1, 3),
      side: name === 'summer' ? ('before' as const) : rPlant.pick(['before', 'after', 'both'] as const),
      style,
    }));
  };
  const applyPlan = (p: VariedPupil, plan: ReturnType<typeof holidayPlan>, codes?: Map<string, Code>): PlantedMark[] => {
    const out: PlantedMark[] = [];
    const s = schoolOf.get(p.urn) as VariedSchool;
    for (const b of plan) {
      const sides: Array<'before' | 'after'> = b.side === 'both' ? ['before', 'after'] : [b.side];
      for (const side of sides) {
        const days = daysBeside(s, b.name, side, b.days);
        for (const [idx, day] of days.entries()) {
          const distance = side === 'before' ? days.length - idx : idx + 1;
          for (const session of [0, 1] as const) {
            const key = `${b.name}:${day}:${session}`;
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

  // Holiday-taking pupils.
  for (let i = 0; i < count(40, 20); i++) {
    const p = anyPupil();
    if (!p) continue;
    const plan = holidayPlan();
    const planted = applyPlan(p, plan);
    add({ kind: 'holiday_pupil', unit: 'pupil', upns: [p.upn], planted: new Map([[p.upn, planted]]), control: false, detail: plan.map((b) => `${b.name} ${b.days}d ${b.side} ${b.style}`).join(', ') });
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
    const plan = holidayPlan();
    const codes = new Map<string, Code>();
    const planted = new Map(kids.map((k) => [k.upn, applyPlan(k, plan, codes)]));
    add({ kind: 'family', unit: 'family', upns: kids.map((k) => k.upn), planted, control: false, detail: `${kids.length} children at ${new Set(kids.map((k) => k.urn)).size} schools; ${plan.map((b) => `${b.name} ${b.days}d ${b.side} ${b.style}`).join(', ')}` });
  }

  // Coding schools: at each break, a fresh share of pupils with a 1–3 day extension coded I.
  for (const s of schools.filter((x) => x.codingShare > 0)) {
    const planted = new Map<string, PlantedMark[]>();
    for (const b of s.breaks) {
      for (const p of bySchool.get(s.urn) as VariedPupil[]) {
        if (!rPlant.chance(s.codingShare)) continue;
        const side = b.name === 'summer' ? 'before' : rPlant.pick(['before', 'after'] as const);
        const marks = applyPlan(p, [{ name: b.name, days: rPlant.between(1, 3), side, style: 'I' }]);
        planted.set(p.upn, [...(planted.get(p.upn) ?? []), ...marks]);
      }
    }
    add({ kind: 'coding_extension', unit: 'school', upns: [...planted.keys()], urn: s.urn, planted, control: false, detail: `size ${s.size}, ${Math.round(s.codingShare * 100)} % of pupils at each break` });
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
    add({ kind: split ? 'split_holiday' : 'near_threshold', unit: 'pupil', upns: [p.upn], planted: new Map([[p.upn, planted]]), control: false, detail: `${sessions} unauthorised sessions from ${s.days[start >> 1]}` });
  }

  // Controls.
  for (const [kind, code] of [['control_r', 'R'], ['control_e', 'E'], ['control_c2', 'C2']] as const) {
    for (let i = 0; i < count(4, 4); i++) {
      const p = anyPupil();
      if (!p) continue;
      const plan = holidayPlan().map((b) => ({ ...b, style: 'I' as const }));
      const marks = applyPlan(p, plan);
      // Re-code the planted days with the control's code (never counted absence).
      for (const m of marks) {
        set(p, fromDayNumber(m.day), m.session, code);
        m.code = code;
      }
      add({ kind, unit: 'pupil', upns: [p.upn], planted: new Map([[p.upn, marks]]), control: true, detail: `${code} beside ${plan.map((b) => b.name).join(', ')}` });
    }
  }
  for (let i = 0; i < count(4, 4); i++) {
    const p = anyPupil();
    if (!p) continue;
    const name = rPlant.pick(BREAK_NAMES.filter((b) => b !== 'summer'));
    const plan = [{ name, days: rPlant.between(2, 3), side: 'both' as const, style: 'I' as const }];
    const planted = applyPlan(p, plan);
    add({ kind: 'control_spanning_illness', unit: 'pupil', upns: [p.upn], planted: new Map([[p.upn, planted]]), control: true, detail: `one illness spanning ${name}` });
  }
  for (let i = 0; i < count(6, 5); i++) {
    const p = anyPupil();
    if (!p) continue;
    const s = schoolOf.get(p.urn) as VariedSchool;
    const scattered = rPlant.chance(0.5);
    const spells = scattered ? 3 : rPlant.between(6, 10);
    for (let k = 0; k < spells; k++) {
      const j = rPlant.int(s.days.length);
      const len = scattered ? 1 : rPlant.between(1, 3);
      for (let d = j; d < Math.min(s.days.length, j + len); d++) { set(p, s.days[d], 0, 'I'); set(p, s.days[d], 1, 'I'); }
    }
    add({ kind: scattered ? 'control_scattered_days' : 'control_spread_illness', unit: 'pupil', upns: [p.upn], planted: new Map(), control: true, detail: scattered ? 'three scattered sick days' : `${spells} illnesses through the year` });
  }
  // Siblings at the same school off together beside breaks: never a family flag.
  for (let i = 0; i < count(4, 3); i++) {
    const s = rPlant.pick(schools.filter((x) => x.size >= 60));
    if (!s) break;
    const a = free(bySchool.get(s.urn) as VariedPupil[]);
    const b = free(bySchool.get(s.urn) as VariedPupil[]);
    if (!a || !b) continue;
    a.uprn = b.uprn = `S${i}`;
    const plan = holidayPlan();
    const codes = new Map<string, Code>();
    const planted = new Map([[a.upn, applyPlan(a, plan, codes)], [b.upn, applyPlan(b, plan, codes)]]);
    add({ kind: 'control_same_school_siblings', unit: 'family', upns: [a.upn, b.upn], urn: s.urn, planted, control: true, detail: `same school ${s.urn}` });
  }
  // Siblings at different schools ill together through the year: never a family flag.
  for (let i = 0; i < count(4, 3); i++) {
    if (laSchools.length < 2) break;
    const [sa, sb] = rPlant.shuffle([...laSchools]).slice(0, 2);
    const a = free(bySchool.get(sa.urn) as VariedPupil[]);
    const b = free(bySchool.get(sb.urn) as VariedPupil[]);
    if (!a || !b) continue;
    a.uprn = b.uprn = `T${i}`;
    const spells = rPlant.between(5, 9);
    for (let k = 0; k < spells; k++) {
      const j = rPlant.int(sa.days.length);
      const len = rPlant.between(1, 4);
      for (let d = j; d < Math.min(sa.days.length, j + len); d++) {
        for (const p of [a, b]) { set(p, sa.days[d], 0, 'I'); set(p, sa.days[d], 1, 'I'); }
      }
    }
    add({ kind: 'control_siblings_ill_together', unit: 'family', upns: [a.upn, b.upn], planted: new Map(), control: true, detail: `${spells} shared illnesses` });
  }

  // ---- Registers, with the service's own register code.
  const registers: SchoolRegister[] = [];
  for (const s of schools) {
    const register = emptyRegister(s.urn, VARIED_YEAR);
    const rows: RegisterRow[] = [];
    for (const p of bySchool.get(s.urn) as VariedPupil[]) {
      for (let j = 0; j < s.days.length; j++) {
        rows.push({ urn: s.urn, upn: p.upn, date: s.days[j], am: MARK_CHAR[p.marks[j * 2]], pm: MARK_CHAR[p.marks[j * 2 + 1]], uprn: p.uprn });
      }
    }
    applyRows(register, rows, `varied-${s.urn}`);
    registers.push(register);
  }
  return { seed: options.seed, schools, pupils, behaviours, closures, registers };
}

/** Background absence in spells: a rate drawn for the pupil's level, spells of a few days, more likely just before breaks. */
function backgroundAbsence(p: VariedPupil, s: VariedSchool, r: Random): void {
  const [lo, hi] = BACKGROUND_RATE[p.background];
  const rate = lo + r.next() * (hi - lo);
  if (rate === 0) return;
  const meanLength = p.background === 'severe' ? 4 : 1.8;
  const startP = rate / meanLength;
  const beforeBreak = new Set<number>();
  for (const b of s.breaks) for (const d of daysBeside(s, b.name, 'before', 2)) beforeBreak.add(s.indexOf.get(dayNumber(d)) as number);
  for (let j = 0; j < s.days.length; j++) {
    if (!r.chance(beforeBreak.has(j) ? startP * 1.4 : startP)) continue;
    const kind = r.next();
    if (kind < 0.12) {
      // A medical appointment: a half day.
      p.marks[j * 2 + r.int(2)] = 'M';
      continue;
    }
    const code: Code = kind < 0.85 ? 'I' : r.pick(['O', 'O', 'G', 'N'] as Code[]);
    // Background unauthorised holidays (G) are single days: a planted near-threshold holiday is the only long G run.
    const len = code === 'G' ? 1 : Math.min(10, r.geometric(meanLength));
    for (let d = j; d < Math.min(s.days.length, j + len); d++) {
      p.marks[d * 2] = code;
      p.marks[d * 2 + 1] = code;
    }
    j += len;
  }
  // Occasional late marks (present).
  for (let j = 0; j < s.days.length; j++) if (r.chance(0.01)) p.marks[j * 2] = 'L';
}

/** A school's register as it stood at the end of `date` (later sessions not yet received). */
export function registerAsOf(register: SchoolRegister, date: string): SchoolRegister {
  const cut = (dayNumber(date) - dayNumber(`${register.academicYear}-08-01`) + 1) * 2;
  const pupils = new Map<string, SchoolRegister['pupils'] extends Map<string, infer P> ? P : never>();
  for (const [upn, p] of register.pupils) {
    if (p.firstListed > date) continue;
    pupils.set(upn, { ...p, marks: p.marks.slice(0, cut) + EMPTY_MARKS.slice(cut), lastListed: p.lastListed > date ? date : p.lastListed });
  }
  return { ...register, pupils };
}

/** The school's calendar as the service builds it: its register's sessions, the LA's and its own closures, bank holidays. */
export function variedCalendar(urn: string, register: SchoolRegister, closures: readonly Closure[]): SchoolCalendar {
  return schoolCalendar({
    urn,
    registers: [sessionDaysFromMarks(register.academicYear, [...register.pupils.values()].map((p) => p.marks))],
    closures,
    bankHolidays: englandAndWalesBankHolidays(),
  });
}

export { COUNTED };
