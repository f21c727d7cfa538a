/**
 * New entries to and deletions from a school's admission register, and whether the school told
 * the LA in time (issue 20; the School Attendance (Pupil Registration) (England) Regulations 2024;
 * docs/duties.md has the decisions).
 *
 * - A **new entry** is a pupil the school's register lists with an admission date (or, when none
 *   is given, a first listed date) inside the academic year and after the first date the service
 *   holds a register for the school (so the pupils on the first return ever received are not all
 *   "new"), and not continuing from the school's register of the year before.
 * - A **deletion** is a pupil with a leaving date (stated), or a pupil the school's returns stop
 *   listing while they go on listing others on at least two later days (derived: the leaving date is
 *   the last date listed).
 * - **Notified**: the date (Europe/London) the LA received the first return that listed the new
 *   pupil, or that first stated the leaving date (for a derived deletion: the first return for a
 *   later date that no longer listed the pupil).
 * - **On time**: a new entry notified within five school days after the admission date (the
 *   admission day itself is day 0; the fifth school day after it is on time, the sixth late); a
 *   deletion notified no later than the leaving date (notified on a later date is "after the pupil
 *   left the register").
 * - **Standard transition** (exempt): the pupil is in the school's top year group (the highest the
 *   register lists, e.g. Year 6 at a primary) or in Year 11, and the leaving date is from the school
 *   leaving date (the last Friday in June) of the academic year to the 31 August after it.
 *
 * Pure: the calendar is passed in (school days come from it).
 */
import { schoolLeavingDate } from './compulsory-school-age.js';
import { NO_MARK } from './codes.js';
import { academicYearEnd, academicYearStart, dayOfAcademicYear, DAYS_PER_YEAR_SLOT } from './dates.js';
import { rowSpanOf, type RegisterPupil, type SchoolRegister } from './register.js';

/**
 * Grounds for deleting a pupil from the admission register (regulation 9 of the 2024 regulations),
 * as codes a return may carry in `deletion_ground`, each with its plain description.
 */
export const DELETION_GROUNDS = {
  school_attendance_order:
    'registered under a school attendance order that the LA has revoked or amended to name another school',
  registered_at_another_school: 'registered at another school (not dual registration)',
  dual_registration_ended:
    'dual registration: no longer to attend this school, or the other school ended the arrangement',
  elective_home_education:
    'the parent has told the school in writing that the child is being educated otherwise than at school',
  moved_away: 'has ceased to attend and no longer lives within a reasonable distance of the school',
  leave_not_returned:
    'did not return within 10 school days of the end of a leave of absence, and enquiries have failed',
  medically_unfit: 'certified as unlikely to be fit to attend before ceasing to be of compulsory school age',
  continuous_absence:
    'continuously absent for 20 school days or more, and the school and LA jointly cannot find where the child is',
  died: 'has died',
  ceased_compulsory_school_age:
    'will cease to be of compulsory school age before the school next meets and will not continue at the school',
  permanently_excluded: 'permanently excluded',
  nursery_not_continuing: 'admitted to the nursery class and not continuing into reception',
  custody: 'in custody for more than four months and not expected to return',
  not_compulsory_age_ceased: 'not of compulsory school age and has ceased to attend',
  other: 'another ground (the officer asks the school)',
} as const;
export type DeletionGround = keyof typeof DELETION_GROUNDS;

function isDeletionGround(s: string): s is DeletionGround {
  return Object.prototype.hasOwnProperty.call(DELETION_GROUNDS, s);
}

/** Where a deleted pupil went: a school's URN, or one of these. */
export const DESTINATION_KINDS = ['elective_home_education', 'another_country', 'unknown'] as const;
type DestinationKind = (typeof DESTINATION_KINDS)[number];
/** A destination as stored: a 6-digit URN or one of DESTINATION_KINDS. */
export type Destination = string;

const DESTINATION_WORDS: Readonly<Record<string, DestinationKind>> = {
  EHE: 'elective_home_education',
  ELECTIVE_HOME_EDUCATION: 'elective_home_education',
  HOME_EDUCATION: 'elective_home_education',
  ABROAD: 'another_country',
  ANOTHER_COUNTRY: 'another_country',
  OVERSEAS: 'another_country',
  UNKNOWN: 'unknown',
  NOT_KNOWN: 'unknown',
};

/**
 * A destination as a return writes it: a 6-digit URN, EHE (elective home education), ABROAD (another
 * country) or UNKNOWN (case-insensitive; spaces and hyphens as underscores). Undefined when invalid.
 */
export function parseDestination(raw: string): Destination | undefined {
  const v = raw
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
  if (/^\d{6}$/.test(v)) return v;
  return DESTINATION_WORDS[v];
}

export function parseDeletionGround(raw: string): DeletionGround | undefined {
  const v = raw
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  return isDeletionGround(v) ? v : undefined;
}

/** What the LA was told, and when, about the pupils of one school in one academic year (kept by ingest). */
export interface RollNotices {
  urn: string;
  academicYear: number;
  pupils: Record<string, PupilNotice>;
}

export interface PupilNotice {
  /** Date the first return listing the pupil at this school was received. */
  listedOn: string;
  /** The leaving date as first stated, the date it was received, and the ground and destination stated with it. */
  leaving?: { date: string; notifiedOn: string; ground?: DeletionGround; destination?: Destination };
  /** The first return for a date after `after` (the pupil's last listed date then) that did not list them. */
  unlisted?: { after: string; notifiedOn: string };
}

/** The deletion details a return row may carry beside its register row. */
export interface DeletionDetails {
  upn: string;
  date: string;
  deletionGround?: DeletionGround;
  destination?: Destination;
}

/**
 * Record what one return told the LA (received on `receivedOn`, a date), after its rows were
 * applied to `register`. Idempotent: applying the same return again changes nothing. Mutates and
 * returns `notices`.
 */
export function noteReturn(
  notices: RollNotices,
  register: SchoolRegister,
  rows: readonly DeletionDetails[],
  receivedOn: string,
): RollNotices {
  const listed = new Set<string>();
  let latestRowDate = '';
  const stated = new Map<string, DeletionDetails>();
  for (const row of rows) {
    listed.add(row.upn);
    if (row.date > latestRowDate) latestRowDate = row.date;
    if (row.deletionGround !== undefined || row.destination !== undefined) {
      const held = stated.get(row.upn);
      if (!held || row.date >= held.date) stated.set(row.upn, { ...held, ...row });
    }
  }
  for (const upn of listed) {
    const p = register.pupils.get(upn);
    if (!p) continue;
    const notice = (notices.pupils[upn] ??= { listedOn: receivedOn });
    if (receivedOn < notice.listedOn) notice.listedOn = receivedOn;
    if (p.leavingDate !== undefined) {
      // The first time any leaving date was stated is when the LA was told of the deletion; a later
      // correction of the date keeps that notification.
      if (!notice.leaving) notice.leaving = { date: p.leavingDate, notifiedOn: receivedOn };
      else notice.leaving.date = p.leavingDate;
    }
    const s = stated.get(upn);
    if (s && notice.leaving) {
      if (s.deletionGround !== undefined) notice.leaving.ground = s.deletionGround;
      if (s.destination !== undefined) notice.leaving.destination = s.destination;
    }
  }
  if (latestRowDate !== '') {
    for (const [upn, p] of register.pupils) {
      if (listed.has(upn) || p.leavingDate !== undefined || p.lastListed >= latestRowDate) continue;
      const notice = (notices.pupils[upn] ??= { listedOn: receivedOn });
      if (notice.unlisted?.after !== p.lastListed) notice.unlisted = { after: p.lastListed, notifiedOn: receivedOn };
    }
  }
  return notices;
}

/** School days strictly after `from` up to and including `to` (0 when `to` is not after `from`). */
export type SchoolDayCounter = (from: string, to: string) => number;

export type Timeliness = 'on_time' | 'late' | 'exempt' | 'unknown';

/**
 * Days the school's returns must go on listing others without the pupil before the pupil counts as
 * deleted (derived): one return that leaves a child off is more often a slip than a deletion, and a
 * deletion raises a CME flag.
 */
const NO_ROW = NO_MARK.charCodeAt(0);
const DERIVED_DELETION_DAYS = 2;

/** School days after the admission date within which a new entry must be notified. */
const NEW_ENTRY_NOTICE_SCHOOL_DAYS = 5;

export interface RollPupil {
  upn: string;
  forename?: string;
  surname?: string;
  dob?: string;
  yearGroup?: string;
}

export interface NewEntry extends RollPupil {
  urn: string;
  /** The admission date, or the first date listed when the school gave none. */
  entryDate: string;
  source: 'stated' | 'derived';
  notifiedOn?: string;
  /** School days after the entry date on which the notification arrived. */
  schoolDaysToNotice?: number;
  timeliness: Timeliness;
}

export interface Deletion extends RollPupil {
  urn: string;
  /** The leaving date (the last day on the register), or the last date listed when derived. */
  leavingDate: string;
  source: 'stated' | 'derived';
  ground?: DeletionGround;
  destination?: Destination;
  notifiedOn?: string;
  standardTransition: boolean;
  timeliness: Timeliness;
}

export interface RollChangesInput {
  register: SchoolRegister;
  /** Pupils on the school's register of the year before with no leaving date (continuing, not new). */
  continuing?: ReadonlySet<string>;
  notices: RollNotices;
  /** The first date any register the service holds lists a pupil at this school. */
  heldFrom: string;
  schoolDays: SchoolDayCounter;
}

export interface RollChanges {
  entries: NewEntry[];
  deletions: Deletion[];
}

function pupilOf(p: RegisterPupil): RollPupil {
  return {
    upn: p.upn,
    ...(p.forename !== undefined ? { forename: p.forename } : {}),
    ...(p.surname !== undefined ? { surname: p.surname } : {}),
    ...(p.dob !== undefined ? { dob: p.dob } : {}),
    ...(p.yearGroup !== undefined ? { yearGroup: p.yearGroup } : {}),
  };
}

/** The highest numbered year group the register lists (e.g. 6 at a primary), if any. */
function topYearGroup(register: SchoolRegister): number | undefined {
  let top: number | undefined;
  for (const p of register.pupils.values()) {
    const n = Number(p.yearGroup);
    if (p.yearGroup !== undefined && Number.isInteger(n) && (top === undefined || n > top)) top = n;
  }
  return top;
}

/** Whether a deletion is at a standard transition point (exempt from the notification duty). */
export function isStandardTransition(
  yearGroup: string | undefined,
  leavingDate: string,
  academicYear: number,
  top: number | undefined,
): boolean {
  if (yearGroup === undefined) return false;
  const n = Number(yearGroup);
  if (!Number.isInteger(n) || (n !== top && n !== 11)) return false;
  return leavingDate >= schoolLeavingDate(academicYear + 1) && leavingDate <= `${academicYear + 1}-08-31`;
}

/** The new entries and deletions of one school's register for its academic year, with their timeliness. */
export function rollChanges(input: RollChangesInput): RollChanges {
  const { register, continuing, notices, heldFrom, schoolDays } = input;
  const year = register.academicYear;
  const yearStart = academicYearStart(year);
  const yearEnd = academicYearEnd(year);
  const lastLeavingDate = `${year + 1}-08-31`;
  const top = topYearGroup(register);
  let latestListed = '';
  for (const p of register.pupils.values()) if (p.lastListed > latestListed) latestListed = p.lastListed;
  // Days on which the school's register lists anyone, to tell a pupil left off one return from one who has gone.
  const listedDays = new Uint8Array(DAYS_PER_YEAR_SLOT);
  for (const p of register.pupils.values()) {
    const { lo, hi } = rowSpanOf(p.marks);
    for (let i = lo; i <= hi; i++) {
      // A day already known to be listed needs no more reading (most are, after the first pupils).
      if (listedDays[i >> 1] === 1) i |= 1;
      else if (p.marks.charCodeAt(i) !== NO_ROW) listedDays[i >> 1] = 1;
    }
  }
  const schoolDaysListedAfter = (date: string): number => {
    let n = 0;
    for (let d = dayOfAcademicYear(date) + 1; d < DAYS_PER_YEAR_SLOT && n < DERIVED_DELETION_DAYS; d++)
      n += listedDays[d];
    return n;
  };

  const entries: NewEntry[] = [];
  const deletions: Deletion[] = [];
  for (const p of register.pupils.values()) {
    const notice = notices.pupils[p.upn];
    // New entries.
    const entryDate = p.admissionDate ?? p.firstListed;
    const isNew =
      entryDate >= yearStart &&
      entryDate <= yearEnd &&
      !(p.admissionDate === undefined && continuing?.has(p.upn)) &&
      (p.admissionDate !== undefined ? entryDate >= heldFrom : entryDate > heldFrom);
    if (isNew) {
      const notifiedOn = notice?.listedOn;
      const days = notifiedOn !== undefined ? schoolDays(entryDate, notifiedOn) : undefined;
      entries.push({
        ...pupilOf(p),
        urn: register.urn,
        entryDate,
        source: p.admissionDate !== undefined ? 'stated' : 'derived',
        ...(notifiedOn !== undefined ? { notifiedOn, schoolDaysToNotice: days } : {}),
        timeliness: days === undefined ? 'unknown' : days <= NEW_ENTRY_NOTICE_SCHOOL_DAYS ? 'on_time' : 'late',
      });
    }
    // Deletions.
    let leavingDate: string | undefined;
    let source: Deletion['source'] = 'stated';
    let notifiedOn: string | undefined;
    if (p.leavingDate !== undefined) {
      leavingDate = p.leavingDate;
      notifiedOn = notice?.leaving?.notifiedOn;
    } else if (p.lastListed < latestListed && schoolDaysListedAfter(p.lastListed) >= DERIVED_DELETION_DAYS) {
      leavingDate = p.lastListed;
      source = 'derived';
      notifiedOn = notice?.unlisted?.after === p.lastListed ? notice.unlisted.notifiedOn : undefined;
    }
    // A leaving date in the August after the year (e.g. 31 August) is still this register's deletion.
    if (leavingDate === undefined || leavingDate < yearStart || leavingDate > lastLeavingDate) continue;
    const standardTransition = isStandardTransition(p.yearGroup, leavingDate, year, top);
    const leaving = source === 'stated' ? notice?.leaving : undefined;
    deletions.push({
      ...pupilOf(p),
      urn: register.urn,
      leavingDate,
      source,
      ...(leaving?.ground !== undefined ? { ground: leaving.ground } : {}),
      ...(leaving?.destination !== undefined ? { destination: leaving.destination } : {}),
      ...(notifiedOn !== undefined ? { notifiedOn } : {}),
      standardTransition,
      timeliness: standardTransition
        ? 'exempt'
        : notifiedOn === undefined
          ? 'unknown'
          : notifiedOn <= leavingDate
            ? 'on_time'
            : 'late',
    });
  }
  const byDate =
    <T extends { upn: string }>(date: (t: T) => string) =>
    (a: T, b: T) =>
      date(a) < date(b) ? -1 : date(a) > date(b) ? 1 : a.upn < b.upn ? -1 : 1;
  entries.sort(byDate((e) => e.entryDate));
  deletions.sort(byDate((d) => d.leavingDate));
  return { entries, deletions };
}

export interface TimelinessFigure {
  total: number;
  onTime: number;
  late: number;
  exempt: number;
  unknown: number;
  /** onTime / (onTime + late) × 100; null when none was judged. */
  onTimeRate: number | null;
}

export function timelinessOf(items: readonly { timeliness: Timeliness }[]): TimelinessFigure {
  const f = { total: items.length, onTime: 0, late: 0, exempt: 0, unknown: 0 };
  for (const i of items) {
    if (i.timeliness === 'on_time') f.onTime++;
    else if (i.timeliness === 'late') f.late++;
    else if (i.timeliness === 'exempt') f.exempt++;
    else f.unknown++;
  }
  const judged = f.onTime + f.late;
  return { ...f, onTimeRate: judged > 0 ? (f.onTime / judged) * 100 : null };
}
