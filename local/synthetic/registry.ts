/**
 * The synthetic LA's schools, written as a GIAS extract (docs/design.md §6 "School registry"). The mix
 * follows England's: about 80% primary, 16% secondary, 4–5% special, a PRU per ~60 schools
 * (DfE "Schools, pupils and their characteristics" 2024/25: 16,700 primary, 3,450 secondary,
 * 1,100 special, 340 AP schools). A few academies keep their own term dates, and a few schools in
 * other LAs hold the LA's looked-after children placed out of area.
 */
import type { Phase } from './calibration.js';
import type { CalendarVariant } from './calendar.js';
import { PLACE_ENDINGS, PLACE_STEMS, SAINTS } from './names.js';
import type { Random } from './random.js';

export interface SchoolSpec {
  urn: string;
  laCode: string;
  establishmentNumber: string;
  name: string;
  phase: Phase;
  /** GIAS PhaseOfEducation (name). */
  phaseName: string;
  /** GIAS TypeOfEstablishment (name). */
  type: string;
  status: string;
  outOfArea: boolean;
  calendar: CalendarVariant;
  /** Whether the school's own term dates are written to the calendar (urn set). */
  ownCalendar: boolean;
  /** Whether the school sends `#` rows on INSET days (otherwise it sends nothing). */
  insetHash: boolean;
  /** Year groups taught: 0 = Reception … 11. */
  yearGroups: number[];
  /** Pupils on roll at the start. */
  roll: number;
  /** Locality: families live in one, and siblings go to its schools. */
  area: number;
}

export const GIAS_HEADER = [
  'URN',
  'LA (code)',
  'LA (name)',
  'EstablishmentNumber',
  'EstablishmentName',
  'TypeOfEstablishment (name)',
  'EstablishmentStatus (name)',
  'PhaseOfEducation (name)',
  'StatutoryLowAge',
  'StatutoryHighAge',
];

/** Nominal rolls before scaling to the requested pupil count. */
const NOMINAL_ROLL: Record<Phase, number> = { primary: 260, secondary: 1000, special: 120, pru: 40 };

export interface RegistryOptions {
  schools: number;
  pupils: number;
  laCode: string;
}

export interface Registry {
  schools: SchoolSpec[]; // in-area first (URN order), then out of area (URN order)
  inArea: SchoolSpec[];
  outOfArea: SchoolSpec[];
}

function phaseCounts(n: number): Record<Phase, number> {
  if (n <= 0) throw new RangeError('at least one school is needed');
  if (n === 1) return { primary: 1, secondary: 0, special: 0, pru: 0 };
  if (n === 2) return { primary: 1, secondary: 1, special: 0, pru: 0 };
  if (n === 3) return { primary: 1, secondary: 1, special: 1, pru: 0 };
  const pru = Math.max(1, Math.round(n / 60));
  const special = Math.max(n >= 20 ? 2 : 1, Math.round(n * 0.045));
  const secondary = Math.max(1, Math.round(n * 0.16));
  return { primary: n - pru - special - secondary, secondary, special, pru };
}

export function buildRegistry(options: RegistryOptions, random: Random): Registry {
  const counts = phaseCounts(options.schools);
  const names = new NameSource(random);
  const usedNumbers = new Set<string>();
  const establishmentNumber = (lo: number, hi: number): string => {
    for (;;) {
      const n = String(random.between(lo, hi));
      if (!usedNumbers.has(n)) {
        usedNumbers.add(n);
        return n;
      }
    }
  };

  const specs: SchoolSpec[] = [];
  const areas = Math.max(1, counts.secondary);
  const add = (phase: Phase, index: number): void => {
    const academy = random.chance(phase === 'secondary' ? 0.8 : phase === 'primary' ? 0.4 : 0.35);
    const place = names.place();
    let name: string;
    let type: string;
    let phaseName: string;
    let number: string;
    let yearGroups: number[];
    switch (phase) {
      case 'primary': {
        const faith = random.chance(0.25);
        name = faith
          ? `St ${random.pick(SAINTS)}'s ${random.chance(0.6) ? 'C of E' : 'Catholic'} Primary School, ${place}`
          : `${place} ${random.chance(0.7) ? 'Primary School' : 'Community Primary School'}`;
        type = academy
          ? random.pick(['Academy converter', 'Academy sponsor led'])
          : faith
            ? random.pick(['Voluntary aided school', 'Voluntary controlled school'])
            : 'Community school';
        if (academy && !faith && random.chance(0.6)) name = `${place} Primary Academy`;
        phaseName = 'Primary';
        number = establishmentNumber(2000, 3999);
        yearGroups = [0, 1, 2, 3, 4, 5, 6];
        break;
      }
      case 'secondary':
        name = academy
          ? `${place} ${random.pick(['Academy', 'High School', 'Community College'])}`
          : `${place} ${random.pick(['High School', 'School', 'Community College'])}`;
        type = academy
          ? random.pick(['Academy converter', 'Academy sponsor led', 'Free schools'])
          : random.pick(['Community school', 'Foundation school']);
        phaseName = 'Secondary';
        number = establishmentNumber(4000, 4999);
        yearGroups = [7, 8, 9, 10, 11];
        break;
      case 'special':
        name = `${place} ${random.pick(['Special School', 'School', 'Academy'])}`;
        type = academy ? 'Academy special converter' : 'Community special school';
        phaseName = 'Not applicable';
        number = establishmentNumber(7000, 7999);
        yearGroups = index % 2 === 0 ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] : [7, 8, 9, 10, 11];
        break;
      case 'pru':
        name = `${place} Pupil Referral Unit`;
        type = 'Pupil referral unit';
        phaseName = 'Not applicable';
        number = establishmentNumber(1100, 1199);
        yearGroups = [5, 6, 7, 8, 9, 10, 11];
        break;
    }
    specs.push({
      urn: '',
      laCode: options.laCode,
      establishmentNumber: number,
      name,
      phase,
      phaseName,
      type,
      status: 'Open',
      outOfArea: false,
      calendar: 'la',
      ownCalendar: false,
      insetHash: random.chance(0.5),
      yearGroups,
      roll: 0,
      area: phase === 'secondary' ? index % areas : random.int(areas),
    });
  };
  for (const phase of ['primary', 'secondary', 'special', 'pru'] as const)
    for (let i = 0; i < counts[phase]; i++) add(phase, i);

  assignRolls(specs, options.pupils, random);
  assignOwnCalendars(specs, random);
  assignUrns(specs, random, 100_000);

  const outOfArea = buildOutOfArea(options, specs.length, random, names);
  assignUrns(outOfArea, random, 150_000);
  const byUrn = (a: SchoolSpec, b: SchoolSpec): number => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0);
  specs.sort(byUrn);
  outOfArea.sort(byUrn);
  return { schools: [...specs, ...outOfArea], inArea: specs, outOfArea };
}

/** Split the pupils over schools: nominal sizes for special and PRU, the rest 7:5 primary:secondary by year groups. */
function assignRolls(specs: SchoolSpec[], pupils: number, random: Random): void {
  const small = specs.filter((s) => s.phase === 'special' || s.phase === 'pru');
  const mainstream = specs.filter((s) => s.phase === 'primary' || s.phase === 'secondary');
  const smallTotal = Math.min(
    Math.floor(pupils * 0.1),
    small.reduce((n, s) => n + NOMINAL_ROLL[s.phase], 0),
  );
  const weights = (list: SchoolSpec[]): number[] =>
    list.map((s) => NOMINAL_ROLL[s.phase] * Math.exp(0.35 * random.normal()));
  distribute(small, weights(small), smallTotal);
  const rest = pupils - small.reduce((n, s) => n + s.roll, 0);
  const primaries = mainstream.filter((s) => s.phase === 'primary');
  const secondaries = mainstream.filter((s) => s.phase === 'secondary');
  const primaryShare = secondaries.length === 0 ? 1 : primaries.length === 0 ? 0 : 7 / 12;
  const primaryPupils = Math.round(rest * primaryShare);
  distribute(primaries, weights(primaries), primaryPupils);
  distribute(secondaries, weights(secondaries), rest - primaryPupils);
  if (mainstream.length === 0)
    distribute(
      small,
      small.map(() => 1),
      pupils,
    );
}

/** Largest-remainder split of `total` by weights (deterministic). */
function distribute(list: SchoolSpec[], weights: number[], total: number): void {
  if (list.length === 0) return;
  const sum = weights.reduce((a, b) => a + b, 0);
  const raw = weights.map((w) => (w / sum) * total);
  const floors = raw.map(Math.floor);
  let left = total - floors.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => ({ i, frac: r - Math.floor(r) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    floors[i]++;
    left--;
  }
  list.forEach((s, i) => {
    s.roll = floors[i];
  });
}

/** One or two academies (more in a big LA) keep their own term dates. */
function assignOwnCalendars(specs: SchoolSpec[], random: Random): void {
  if (specs.length < 3) return;
  const wanted = specs.length >= 10 ? Math.min(6, 2 + Math.floor(specs.length / 150)) : 1;
  const academies = specs.filter(
    (s) => s.type.startsWith('Academy') && (s.phase === 'primary' || s.phase === 'secondary'),
  );
  random.shuffle(academies);
  const variants: CalendarVariant[] = ['academy-early-october', 'academy-fixed-easter'];
  academies.slice(0, wanted).forEach((s, i) => {
    s.calendar = variants[i % variants.length];
    s.ownCalendar = true;
  });
}

function assignUrns(specs: SchoolSpec[], random: Random, base: number): void {
  let urn = base + random.int(20_000);
  for (const s of specs) {
    urn += 1 + random.int(37);
    s.urn = String(urn);
  }
}

/** Neighbouring LAs' codes (fictional: the 99x block, never the LA's own). */
function neighbourCodes(laCode: string): string[] {
  const codes: string[] = [];
  for (let c = 990; c <= 998 && codes.length < 4; c++) if (String(c) !== laCode) codes.push(String(c));
  return codes;
}

function buildOutOfArea(options: RegistryOptions, inArea: number, random: Random, names: NameSource): SchoolSpec[] {
  const n = inArea < 3 ? 1 : Math.min(40, Math.max(2, Math.round(inArea / 15)));
  const codes = neighbourCodes(options.laCode);
  const out: SchoolSpec[] = [];
  for (let i = 0; i < n; i++) {
    const primary = i % 2 === 0;
    const place = names.place();
    out.push({
      urn: '',
      laCode: codes[i % codes.length],
      establishmentNumber: String(primary ? random.between(2000, 3999) : random.between(4000, 4999)),
      name: primary ? `${place} Primary School` : `${place} Academy`,
      phase: primary ? 'primary' : 'secondary',
      phaseName: primary ? 'Primary' : 'Secondary',
      type: primary ? 'Community school' : 'Academy converter',
      status: 'Open',
      outOfArea: true,
      calendar: 'neighbour-la',
      ownCalendar: false,
      insetHash: false,
      yearGroups: primary ? [0, 1, 2, 3, 4, 5, 6] : [7, 8, 9, 10, 11],
      roll: 0,
      area: -1,
    });
  }
  return out;
}

/** Unique place names from stems and endings. */
class NameSource {
  private readonly used = new Set<string>();
  constructor(private readonly random: Random) {}

  place(): string {
    for (let tries = 0; ; tries++) {
      let name = `${this.random.pick(PLACE_STEMS)}${this.random.pick(PLACE_ENDINGS)}`;
      if (tries > 50) name += ` ${this.random.pick(['Park', 'Vale', 'Green', 'Hill', 'Lane', 'Road', 'Cross'])}`;
      if (tries > 200) name += ` ${tries}`;
      if (!this.used.has(name)) {
        this.used.add(name);
        return name;
      }
    }
  }
}

function ageRange(s: SchoolSpec): [number, number] {
  return [s.yearGroups[0] + 4, s.yearGroups[s.yearGroups.length - 1] + 5];
}

function csvCell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The registry as a GIAS-style CSV (extra columns, as real extracts have, are ignored by the parser). */
export function giasCsv(registry: Registry, laName: string, neighbourName: (code: string) => string): string {
  const lines = [GIAS_HEADER.join(',')];
  for (const s of registry.schools) {
    const [low, high] = ageRange(s);
    lines.push(
      [
        s.urn,
        s.laCode,
        s.outOfArea ? neighbourName(s.laCode) : laName,
        s.establishmentNumber,
        s.name,
        s.type,
        s.status,
        s.phaseName,
        String(low),
        String(high),
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
