/**
 * A school's register for one academic year: every mark received for every pupil, the pupils'
 * details, and their school-reported characteristics by date. It is the canonical record from which
 * every figure is derived, so applying a return is a pure function of (register, rows).
 *
 * Rules applied here (docs/design.md §3 "Corrections", §2.3, §2.4):
 * - a later return for the same pupil, date and session replaces the earlier mark;
 * - an empty mark (not yet marked) never erases a code already received for that session;
 * - characteristics stated on a row hold from that date until a later-dated row states otherwise
 *   (kept per day, so rows may arrive in any order and the result is the same);
 * - pupil details (name, year group, registration, admission/leaving dates…) follow the latest-dated
 *   row that states them, for the same reason;
 * - a return already applied (same return id) changes nothing.
 */
import { NO_MARK, UNMARKED } from './codes.js';
import { academicYearOf, dayOfAcademicYear, DAYS_PER_YEAR_SLOT, SESSIONS_PER_YEAR_SLOT } from './dates.js';
// Type only (erased): the register's pupils are enrolments, and pupil-summary.ts reads registers.
import type { Enrolment } from './pupil-summary.js';

export type Registration = 'C' | 'M' | 'S';
export type SenStatus = 'N' | 'K' | 'E';

/** The characteristic fields a school return may state, each kept as one character per day. */
export const CHARACTERISTICS = ['fsm', 'sen', 'cla', 'plac', 'cin', 'cpp'] as const;
export type Characteristic = (typeof CHARACTERISTICS)[number];

/** A day on which nothing was stated for a characteristic. */
export const NOT_STATED = '?';

/** A pupil on a school's register for a year: the enrolment, without the school and year the register is for. */
export interface RegisterPupil extends Omit<Enrolment, 'urn' | 'academicYear'> {
  /**
   * Per detail field, the date of the row its value came from, so a row dated earlier than the one
   * held (a back-fill arriving late) cannot overwrite it. Absent on registers saved before this was kept.
   */
  detailDates?: Partial<Record<DetailField, string>>;
}

export interface SchoolRegister {
  urn: string;
  academicYear: number;
  /** Incremented on every change; derived views record the version they were computed from. */
  version: number;
  /** Returns already applied, so a re-delivered or retried return is a no-op. */
  appliedReturns: string[];
  pupils: Map<string, RegisterPupil>;
}

/** A validated row of a daily return (the shape produced by shared/formats parsers). */
export interface RegisterRow {
  urn: string;
  upn: string;
  date: string;
  am: string;
  pm: string;
  forename?: string;
  surname?: string;
  dob?: string;
  sex?: 'M' | 'F';
  ethnicity?: string;
  yearGroup?: string;
  fsm?: boolean;
  sen?: SenStatus;
  cla?: boolean;
  plac?: boolean;
  cin?: boolean;
  cpp?: boolean;
  admissionDate?: string;
  leavingDate?: string;
  registration?: Registration;
  uprn?: string;
}

export const EMPTY_MARKS = NO_MARK.repeat(SESSIONS_PER_YEAR_SLOT);

const NO_ROW = NO_MARK.charCodeAt(0);

/**
 * The slots [lo, hi] of stored marks between the runs of no-row slots at either end of the year
 * (a pupil's marks cover a few weeks of a 366-day slot string); lo > hi when there is no row at all.
 */
export function rowSpanOf(marks: string): { lo: number; hi: number } {
  let hi = marks.length - 1;
  while (hi >= 0 && marks.charCodeAt(hi) === NO_ROW) hi--;
  let lo = 0;
  while (lo <= hi && marks.charCodeAt(lo) === NO_ROW) lo++;
  return { lo, hi };
}
const EMPTY_STATED = NOT_STATED.repeat(DAYS_PER_YEAR_SLOT);

export function emptyRegister(urn: string, academicYear: number): SchoolRegister {
  return { urn, academicYear, version: 0, appliedReturns: [], pupils: new Map() };
}

function newPupil(upn: string, date: string): RegisterPupil {
  return {
    upn,
    registration: 'C',
    firstListed: date,
    lastListed: date,
    marks: EMPTY_MARKS,
    stated: {
      fsm: EMPTY_STATED,
      sen: EMPTY_STATED,
      cla: EMPTY_STATED,
      plac: EMPTY_STATED,
      cin: EMPTY_STATED,
      cpp: EMPTY_STATED,
    },
  };
}

/** Merge an incoming mark with the one held: a code always wins; "not yet marked" only fills a gap. */
function mergeMark(held: string, incoming: string): string {
  if (incoming === UNMARKED) return held === NO_MARK ? UNMARKED : held;
  return incoming;
}

export interface ApplyResult {
  /** Whether the register changed (false for an already-applied return or a return that repeats what is held). */
  changed: boolean;
  /** Pupils whose marks, details or characteristics changed. */
  changedUpns: Set<string>;
  alreadyApplied: boolean;
}

/**
 * Apply rows (all for this register's school and academic year, in file order) as return `returnId`.
 * Mutates `register` in place. Rows are assumed already validated.
 */
export function applyRows(register: SchoolRegister, rows: readonly RegisterRow[], returnId: string): ApplyResult {
  if (register.appliedReturns.includes(returnId)) {
    return { changed: false, changedUpns: new Set(), alreadyApplied: true };
  }
  const changedUpns = new Set<string>();
  // Marks and statements are edited as byte arrays for the whole batch and turned back into strings
  // once per pupil: rebuilding a 732-character string per row made a year's back-fill quadratic-ish.
  const editing = new Map<RegisterPupil, EditBuffers>();
  const buffersOf = (p: RegisterPupil): EditBuffers => {
    let b = editing.get(p);
    if (!b) {
      b = {
        marks: Buffer.from(p.marks, 'latin1'),
        stated: Object.fromEntries(CHARACTERISTICS.map((c) => [c, Buffer.from(p.stated[c], 'latin1')])) as Record<
          Characteristic,
          Buffer
        >,
      };
      editing.set(p, b);
    }
    return b;
  };
  // The marks merged by character code: a code always wins, "not yet marked" only fills a gap (mergeMark).
  const unmarked = UNMARKED.charCodeAt(0);
  const merge = (held: number, incoming: string): number => {
    if (incoming === UNMARKED) return held === NO_ROW ? unmarked : held;
    return incoming.length === 1 ? incoming.charCodeAt(0) : -1;
  };
  // Consecutive rows are mostly one pupil's days (a back-fill) or one day's pupils (a daily file).
  let lastDate = '';
  let lastDay = 0;
  for (const row of rows) {
    if (row.date !== lastDate) {
      if (row.urn !== register.urn || academicYearOf(row.date) !== register.academicYear)
        throw notThisRegister(register, row);
      lastDate = row.date;
      lastDay = dayOfAcademicYear(row.date);
    } else if (row.urn !== register.urn) throw notThisRegister(register, row);
    let pupil = register.pupils.get(row.upn);
    let changed = false;
    if (!pupil) {
      pupil = newPupil(row.upn, row.date);
      register.pupils.set(row.upn, pupil);
      changed = true;
    }
    const p = pupil;
    const buffers = buffersOf(p);
    const day = lastDay;
    const marks = buffers.marks;
    for (let session = 0; session < 2; session++) {
      const slot = day * 2 + session;
      const incoming = session === 0 ? row.am : row.pm;
      const held = marks[slot];
      const merged = merge(held, incoming);
      if (merged === -1) {
        // Not a single character: kept as mergeMark would, as the string's first character.
        const code = mergeMark(String.fromCharCode(held), incoming).charCodeAt(0);
        if (code !== held) {
          marks[slot] = code;
          changed = true;
        }
      } else if (merged !== held) {
        marks[slot] = merged;
        changed = true;
      }
    }
    if (row.date < p.firstListed) {
      p.firstListed = row.date;
      changed = true;
    }
    if (row.date > p.lastListed) {
      p.lastListed = row.date;
      changed = true;
    }
    // Details follow the latest-dated row that states them (a later return wins for the same date),
    // so days applied out of order give the same register as days applied in order.
    for (const field of DETAIL_FIELDS) {
      const v = row[field];
      if (v === undefined) continue;
      const dates = (p.detailDates ??= {});
      const heldDate = dates[field];
      if (heldDate !== undefined && row.date < heldDate) continue;
      if (heldDate !== row.date) {
        dates[field] = row.date;
        changed = true;
      }
      if (p[field] !== v) {
        (p as unknown as Record<string, unknown>)[field] = v;
        changed = true;
      }
    }
    const stated = buffers.stated;
    changed = state(stated.fsm, day, flagCode(row.fsm)) || changed;
    changed = state(stated.sen, day, row.sen === undefined ? -1 : row.sen.charCodeAt(0)) || changed;
    changed = state(stated.cla, day, flagCode(row.cla)) || changed;
    changed = state(stated.plac, day, flagCode(row.plac)) || changed;
    changed = state(stated.cin, day, flagCode(row.cin)) || changed;
    changed = state(stated.cpp, day, flagCode(row.cpp)) || changed;
    if (changed) changedUpns.add(row.upn);
  }
  for (const [p, b] of editing) {
    p.marks = b.marks.toString('latin1');
    for (const c of CHARACTERISTICS) p.stated[c] = b.stated[c].toString('latin1');
  }
  register.appliedReturns.push(returnId);
  const changed = changedUpns.size > 0;
  if (changed) register.version += 1;
  return { changed, changedUpns, alreadyApplied: false };
}

const YES = 'Y'.charCodeAt(0);
const NO = 'N'.charCodeAt(0);

/** A characteristic flag as the character stored for the day; -1 when the row does not state it. */
function flagCode(v: boolean | undefined): number {
  return v === undefined ? -1 : v ? YES : NO;
}

/** Store a statement for the day (code -1: nothing stated); whether it changed. */
function state(days: Buffer, day: number, code: number): boolean {
  if (code === -1 || days[day] === code) return false;
  days[day] = code;
  return true;
}

function notThisRegister(register: SchoolRegister, row: RegisterRow): RangeError {
  return new RangeError(
    `row for ${row.urn} on ${row.date} does not belong to register ${register.urn}/${register.academicYear}`,
  );
}

interface EditBuffers {
  marks: Buffer;
  stated: Record<Characteristic, Buffer>;
}

/** Pupil details a row may restate; the latest-dated row stating each wins (ties: the latest return). */
const DETAIL_FIELDS = [
  'forename',
  'surname',
  'dob',
  'sex',
  'ethnicity',
  'yearGroup',
  'uprn',
  'registration',
  'admissionDate',
  'leavingDate',
] as const;
type DetailField = (typeof DETAIL_FIELDS)[number];

/**
 * The value of a characteristic in force on each day of the year: the latest statement on or before
 * that day (docs/design.md §2.4). Days before the first statement take `fallback`.
 */
export function effectiveByDay(stated: string, fallback: string): string {
  let out = '';
  let current = fallback;
  for (let d = 0; d < stated.length; d++) {
    const ch = stated[d];
    if (ch !== NOT_STATED) current = ch;
    out += current;
  }
  return out;
}

/** Day slots (0..365) on which this register holds any mark other than '#' for any pupil (docs/design.md §2.3). */
export function sessionDays(register: SchoolRegister): Uint8Array {
  const days = new Uint8Array(DAYS_PER_YEAR_SLOT);
  for (const pupil of register.pupils.values()) {
    const m = pupil.marks;
    // Only the slots between the pupil's first row and last, and none of a day already known to count.
    const { lo, hi } = rowSpanOf(m);
    for (let i = lo; i <= hi; i++) {
      if (days[i >> 1] === 1) {
        i |= 1;
        continue;
      }
      const ch = m.charCodeAt(i);
      if (ch !== NO_ROW && ch !== UNMARKED_CODE && ch !== HASH_CODE) days[i >> 1] = 1;
    }
  }
  return days;
}

const UNMARKED_CODE = UNMARKED.charCodeAt(0);
const HASH_CODE = '#'.charCodeAt(0);

/** Sessions listed but not yet marked, per day slot — the school's data-quality gap. */
export function unmarkedSessions(register: SchoolRegister): number {
  let n = 0;
  for (const pupil of register.pupils.values()) {
    const m = pupil.marks;
    for (let i = 0; i < m.length; i++) if (m[i] === UNMARKED) n++;
  }
  return n;
}

// ---- Compact serialisation ---------------------------------------------------------------------
// Characteristic strings are mostly long runs, so they are stored run-length encoded ("?31Y335").

/** Encodings by statement string, for the same reason as `decoded` below (most pupils share a few). */
const encoded = new Map<string, string>();

export function encodeRuns(s: string): string {
  const held = encoded.get(s);
  if (held !== undefined) return held;
  const out = encodeRunsOnce(s);
  if (encoded.size >= DECODED_MAX) encoded.clear();
  encoded.set(s, out);
  return out;
}

function encodeRunsOnce(s: string): string {
  let out = '';
  const n = s.length;
  let i = 0;
  while (i < n) {
    const ch = s.charCodeAt(i);
    let j = i + 1;
    while (j < n && s.charCodeAt(j) === ch) j++;
    out += s[i] + String(j - i);
    i = j;
  }
  return out;
}

/**
 * Decoded statements by their encoding. A school's pupils mostly share a handful of encodings (the
 * care flags never stated, the same days listed), so a register or a batch of pupil records decodes
 * each once and its pupils share the one string. Bounded: cleared when full.
 */
const decoded = new Map<string, string>();
const DECODED_MAX = 4096;

export function decodeRuns(encoded: string): string {
  const held = decoded.get(encoded);
  if (held !== undefined) return held;
  const out = decodeRunsOnce(encoded);
  if (decoded.size >= DECODED_MAX) decoded.clear();
  decoded.set(encoded, out);
  return out;
}

function decodeRunsOnce(encoded: string): string {
  // The shape encodeRuns writes: one non-digit, then its count in decimal, repeated.
  const pieces: string[] = [];
  const n = encoded.length;
  let i = 0;
  while (i < n) {
    const ch = encoded.charCodeAt(i);
    let j = i + 1;
    let count = 0;
    for (; j < n; j++) {
      const d = encoded.charCodeAt(j) - 48;
      if (d < 0 || d > 9) break;
      count = count * 10 + d;
    }
    if ((ch >= 48 && ch <= 57) || j === i + 1 || j - i > 16) return decodeRunsLoosely(encoded);
    pieces.push(encoded[i].repeat(count));
    i = j;
  }
  return pieces.join('');
}

/** Anything else: every (non-digit, digits) pair found, as the first stored registers were read. */
function decodeRunsLoosely(encoded: string): string {
  let out = '';
  const re = /(\D)(\d+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(encoded)) !== null) out += m[1].repeat(Number(m[2]));
  return out;
}

/**
 * A register as stored (docs/decisions.md "Registers stored without what repeats"). Written now:
 * each pupil's marks from the first slot with a row to the last (`marksFrom` the first slot's index),
 * and the statements and detail dates as indexes into the register's tables of distinct run
 * encodings and detail-date sets (most pupils of a school share a few, and a statement's encoding
 * grows through the year: a run for every gap of weekends and holidays). Read as well: the earlier
 * form, with the whole 732-slot marks and each encoding in full.
 */
export interface SerializedRegister {
  urn: string;
  academicYear: number;
  version: number;
  appliedReturns: string[];
  /** Distinct run encodings of statements (absent in the earlier form). */
  statedRuns?: string[];
  /** Distinct detail-date sets (absent in the earlier form). */
  detailDateSets?: Array<Partial<Record<DetailField, string>>>;
  pupils: Array<
    Omit<RegisterPupil, 'stated' | 'detailDates'> & {
      stated: Record<Characteristic, string | number>;
      detailDates?: Partial<Record<DetailField, string>> | number;
      marksFrom?: number;
    }
  >;
}

export function serializeRegister(r: SchoolRegister): SerializedRegister {
  const runs = new Map<string, number>();
  const dateSets = new Map<string, number>();
  const detailDateSets: Array<Partial<Record<DetailField, string>>> = [];
  const runIndex = (statement: string): number => {
    const e = encodeRuns(statement);
    let i = runs.get(e);
    if (i === undefined) runs.set(e, (i = runs.size));
    return i;
  };
  const pupils = [...r.pupils.values()]
    .sort((a, b) => (a.upn < b.upn ? -1 : a.upn > b.upn ? 1 : 0))
    .map((p) => {
      const out = { ...p } as unknown as SerializedRegister['pupils'][number];
      const { lo, hi } = rowSpanOf(p.marks);
      out.marks = lo > hi ? '' : lo === 0 && hi === p.marks.length - 1 ? p.marks : p.marks.slice(lo, hi + 1);
      if (lo > 0 && lo <= hi) out.marksFrom = lo;
      const st = p.stated;
      out.stated = {
        fsm: runIndex(st.fsm),
        sen: runIndex(st.sen),
        cla: runIndex(st.cla),
        plac: runIndex(st.plac),
        cin: runIndex(st.cin),
        cpp: runIndex(st.cpp),
      };
      const dd = p.detailDates;
      if (dd !== undefined) {
        let key = '';
        for (const f of DETAIL_FIELDS) key += `${dd[f] ?? ''};`;
        let i = dateSets.get(key);
        if (i === undefined) {
          dateSets.set(key, (i = detailDateSets.length));
          detailDateSets.push({ ...dd });
        }
        out.detailDates = i;
      }
      return out;
    });
  return {
    urn: r.urn,
    academicYear: r.academicYear,
    version: r.version,
    appliedReturns: r.appliedReturns,
    statedRuns: [...runs.keys()],
    detailDateSets,
    pupils,
  };
}

export function deserializeRegister(s: SerializedRegister): SchoolRegister {
  const pupils = new Map<string, RegisterPupil>();
  const runs = s.statedRuns;
  const dateSets = s.detailDateSets ?? [];
  const statement = (v: string | number) => decodeRuns(typeof v === 'number' ? (runs as string[])[v] : v);
  for (const p of s.pupils) {
    // The stored object becomes the pupil: only what is stored differently is replaced.
    const pupil = p as unknown as RegisterPupil & { marksFrom?: number };
    const from = p.marksFrom ?? 0;
    if (runs !== undefined && p.marks.length !== SESSIONS_PER_YEAR_SLOT) {
      // Stored from the first slot with a row to the last.
      pupil.marks = EMPTY_MARKS.slice(0, from) + p.marks + EMPTY_MARKS.slice(from + p.marks.length);
    }
    delete pupil.marksFrom;
    const st = p.stated;
    pupil.stated = {
      fsm: statement(st.fsm),
      sen: statement(st.sen),
      cla: statement(st.cla),
      plac: statement(st.plac),
      cin: statement(st.cin),
      cpp: statement(st.cpp),
    };
    // A copy each: applying rows changes a pupil's detail dates in place.
    if (typeof p.detailDates === 'number') pupil.detailDates = { ...dateSets[p.detailDates] };
    pupils.set(p.upn, pupil);
  }
  return {
    urn: s.urn,
    academicYear: s.academicYear,
    version: s.version,
    appliedReturns: [...s.appliedReturns],
    pupils,
  };
}
