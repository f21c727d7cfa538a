/**
 * The DfE Common Transfer File (CTF) as a school return (docs/design.md §6). (The writer the tests and the bench use is test/support/ctf-writer.ts.)
 *
 * What is read (element names as in the DfE CTF schema and MIS exporters; see
 * docs/ctf-attendance.md for the sources and the marks layout):
 *   CTfile/Header: CTFversion, DateTime, SourceSchool/{LEA, Estab, URN, SchoolName, AcademicYear},
 *     DestSchool/{LEA, Estab, URN} (where the pupils are going: issue 20)
 *   CTfile/CTFpupilData/Pupil: UPN, Surname, Forename, DOB, Sex (CTF 25) or Gender (earlier),
 *     BasicDetails/{NCyearActual, Ethnicity}, LookedAfter/InCare,
 *     FSMhistory/FSMinstance/{FSMstartDate, FSMendDate}, SENhistory/SEN/{StartDate, SENprovision},
 *     Attendance/YearData/{Year, LEA, Estab, SchoolName, SessionsPossible, SessionsAuthorised,
 *       SessionsAttended, SessionsUnauthorised, AttendSessions/{AttendanceStartDate, AttendanceMarks}},
 *     SchoolHistory/School/{LEA, Estab, URN, EntryDate, LeavingDate, LeavingReason} (the source
 *       school's own entry only: the pupil's admission and leaving dates there, and the ground)
 *
 * Marks layout assumed (pinned by tests): the string runs from AttendanceStartDate over every
 * calendar day, weekends and holidays included, two sessions a day (AM then PM); each session is
 * one DfE code written as is; `#` marks a session that is not a school session (weekend, holiday,
 * closure) and `-` one not yet marked. The 2024 two-character codes (C1, C2, J1, Y1–Y7) take two
 * characters: no code is a lone digit, so the string splits unambiguously (a digit always belongs
 * to the letter before it). White space inside the string is ignored. An odd count leaves the
 * last day's PM unmarked.
 *
 * Rows derived (the daily-return rows the CTF implies): one per pupil per day of an own-school
 * YearData, except days with no school session for the pupil — both sessions `#`, or a weekend
 * or a day after `today` with nothing but `#`/`-`. URN = the source school's. Characteristics as
 * in the daily return: fsm true on dates inside an FSM instance (false outside when FSMhistory is
 * present), sen from the SEN entry in force on the date, cla from InCare (a current flag, applied
 * to every row of the file; SSDA903 episodes remain the dated authority). From the source school's
 * own SchoolHistory entry: admission_date (EntryDate), leaving_date (LeavingDate) and, with a
 * leaving date, deletion_ground (LeavingReason, when it is one of the daily return's ground codes)
 * and destination (the header's DestSchool: its URN, or `unknown` for the DfE's XXX/XXXX "destination
 * not known" and MMM/MMMM codes). docs/ctf-attendance.md says where each reading comes from.
 *
 * Checks: each YearData's marks are counted by docs/design.md §2.1 categories and compared with the
 * totals stated in the same YearData (possible = present + approved activity + authorised +
 * unauthorised; attended = present + approved activity). A mismatch rejects every row of that
 * pupil-year with one error per wrong total naming the pupil, the total, stated and counted.
 * YearData naming another school (LEA/Estab differ from the source school) is the pupil's
 * history elsewhere: kept in `ctf` but derives no rows. Codes are checked with checkMark (legacy
 * codes only before 2024-08-19). Row `line` = the line of the YearData element the day came from;
 * pupil-level errors use the Pupil element's line.
 */
import { LIMITS } from '../config.js';
import { CODE_CATEGORY, LEGACY_CODES, checkMark } from '../domain/codes.js';
import { addDays, dayNumber, fromDayNumber, isIsoDate, isWeekend } from '../domain/dates.js';
import { checkUpn, upnCheckLetter } from '../domain/upn.js';
import { excerpt } from './csv.js';
import { parseDeletionGround, type DeletionGround, type Destination } from '../domain/admission-register.js';
import { TEXT_LIMITS, normaliseYearGroup, type FileError, type ReturnRow, type RowError } from './daily-return-csv.js';
import { child, childText, childrenNamed, parseXmlDocument, textOf, xmlFileError, type XmlElement } from './xml.js';

/** Largest CTF accepted: it is parsed into memory (a 2,000-pupil school's full CTF is ~10 MB). */
const CTF_MAX_BYTES = 64 * 1024 * 1024;

export interface CtfSchool {
  lea: string;
  estab: string;
  urn: string;
  name?: string;
}

export interface CtfHeader {
  version?: string;
  dateTime?: string;
  academicYear?: string;
  source: CtfSchool;
  /** Header/DestSchool as written, and the destination it gives the file's leavers (issue 20). */
  dest?: { lea?: string; estab?: string; urn?: string; destination?: Destination };
}

/** The pupil's entry for the source school in SchoolHistory: on its register from/to, and why they left. */
export interface CtfOwnHistory {
  line: number;
  entryDate?: string;
  leavingDate?: string;
  /** LeavingReason as written. */
  leavingReason?: string;
  /** LeavingReason read as a ground for deletion (the daily return's codes); undefined for any other value. */
  ground?: DeletionGround;
}

export interface CtfFsmInstance {
  start: string;
  end?: string;
}

export interface CtfSenEntry {
  start?: string;
  provision: 'N' | 'K' | 'E';
}

export interface CtfTotals {
  possible?: number;
  authorised?: number;
  attended?: number;
  unauthorised?: number;
}

export interface CtfYearData {
  line: number;
  year?: string;
  lea?: string;
  estab?: string;
  schoolName?: string;
  totals: CtfTotals;
  startDate?: string;
  /** The AttendanceMarks string as written. */
  marks?: string;
  /** False when LEA/Estab name another school: the pupil's history there, no rows derived. */
  ownSchool: boolean;
}

export interface CtfPupil {
  line: number;
  upn: string;
  surname?: string;
  forename?: string;
  dob?: string;
  sex?: 'M' | 'F';
  ethnicity?: string;
  yearGroup?: string;
  inCare?: boolean;
  /** Undefined when the file has no FSMhistory for the pupil. */
  fsm?: CtfFsmInstance[];
  /** Undefined when the file has no SENhistory for the pupil. */
  sen?: CtfSenEntry[];
  attendance: CtfYearData[];
  ownHistory?: CtfOwnHistory;
}

export interface Ctf {
  header: CtfHeader;
  pupils: CtfPupil[];
}

export type CtfParse =
  | {
      ok: true;
      ctf: Ctf;
      rows: ReturnRow[];
      errors: RowError[];
      /** Daily rows the file implies, loaded or not (a year whose marks cannot be placed on dates counts as one). */
      rowCount: number;
    }
  | { ok: false; error: FileError };

export interface CtfParseOptions {
  /** Today's date (ISO, Europe/London): marks after it are row errors. */
  today: string;
  /** Whether the uploader may send returns for this URN; a refusal rejects the file (403). */
  urnAllowed?: (urn: string) => boolean;
  /** Largest file in bytes (default CTF_MAX_BYTES). */
  maxBytes?: number;
  /** Most daily rows derived (default LIMITS.maxRowsPerReturn); more is a 413. */
  maxRows?: number;
}

type Category = 'present' | 'approved_activity' | 'authorised' | 'unauthorised';

// ---------------------------------------------------------------------------------------------
// Marks string

export type MarksTokens = { ok: true; codes: string[] } | { ok: false; index: number; char: string };

/**
 * Split an AttendanceMarks string into one code per session. A digit is only ever the second
 * character of C1, C2, J1 or Y1–Y7; anywhere else the layout is broken and the index is returned.
 */
export function tokenizeCtfMarks(marks: string): MarksTokens {
  const s = marks.replace(/\s+/g, '');
  const codes: string[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch >= '0' && ch <= '9') return { ok: false, index: i, char: ch };
    const next = s[i + 1];
    if (next !== undefined && next >= '0' && next <= '9') {
      const pair = (ch + next).toUpperCase();
      if (pair === 'C1' || pair === 'C2' || pair === 'J1' || /^Y[1-7]$/.test(pair)) {
        codes.push(pair);
        i++;
        continue;
      }
      return { ok: false, index: i + 1, char: next };
    }
    codes.push(ch);
  }
  return { ok: true, codes };
}

function categoryOfToken(token: string): Category | undefined {
  const code = token.length <= 2 ? token.toUpperCase() : token;
  const c = Object.prototype.hasOwnProperty.call(CODE_CATEGORY, code) ? CODE_CATEGORY[code] : undefined;
  return c === 'present' || c === 'approved_activity' || c === 'authorised' || c === 'unauthorised' ? c : undefined;
}

/** Totals implied by a list of session codes (docs/design.md §2.1). */
export function countCtfTotals(codes: readonly string[]): Required<CtfTotals> {
  const t = { possible: 0, authorised: 0, attended: 0, unauthorised: 0 };
  for (const code of codes) {
    const c = categoryOfToken(code);
    if (!c) continue;
    t.possible++;
    if (c === 'present' || c === 'approved_activity') t.attended++;
    else if (c === 'authorised') t.authorised++;
    else t.unauthorised++;
  }
  return t;
}

const TOTAL_NAMES: { key: keyof CtfTotals; element: string }[] = [
  { key: 'possible', element: 'SessionsPossible' },
  { key: 'authorised', element: 'SessionsAuthorised' },
  { key: 'attended', element: 'SessionsAttended' },
  { key: 'unauthorised', element: 'SessionsUnauthorised' },
];

// ---------------------------------------------------------------------------------------------
// Parse

export function parseCtf(input: Buffer, options: CtfParseOptions): CtfParse {
  if (!isIsoDate(options.today)) throw new RangeError(`options.today must be an ISO date, got '${options.today}'`);
  const maxRows = options.maxRows ?? LIMITS.maxRowsPerReturn;
  const xml = parseXmlDocument(input, { maxBytes: options.maxBytes ?? CTF_MAX_BYTES, maxDepth: LIMITS.maxXmlDepth });
  if (!xml.ok) {
    // The line is also given as a structured error, as the CSV's file errors give theirs.
    const { line, code, message } = xml.error;
    return { ok: false, error: { ...xmlFileError(xml.error), errors: [{ line, field: 'file', code, message }] } };
  }
  const root = xml.root;
  if (root.name !== 'CTfile') {
    return fileError(
      422,
      'not_ctf',
      'Not a Common Transfer File',
      `expected a CTF document <CTfile>; found <${root.name}> on line ${root.line}`,
      { line: root.line, field: 'CTfile' },
    );
  }
  const header = readHeader(root);
  if (!header.ok) return { ok: false, error: header.error };
  const source = header.header.source;
  if (options.urnAllowed && !options.urnAllowed(source.urn)) {
    return {
      ok: false,
      error: {
        status: 403,
        code: 'urn_not_allowed',
        title: 'URN not allowed',
        detail: `this upload may not send returns for URN ${source.urn} (the CTF's source school)`,
        errors: [
          {
            line: header.line,
            field: 'SourceSchool/URN',
            code: 'urn_not_allowed',
            message: `URN ${source.urn} is not one this upload may send returns for`,
          },
        ],
      },
    };
  }

  const pupilEls = childrenNamed(child(root, 'CTFpupilData'), 'Pupil');
  const pupils = pupilEls.map((el) => readPupil(el, source));
  const errors: RowError[] = [];
  const rows: ReturnRow[] = [];
  let rowCount = 0;

  // The same UPN twice: neither record can be trusted over the other.
  const firstLine = new Map<string, number>();
  const duplicated = new Set<string>();
  for (const p of pupils) {
    const key = p.pupil.upn.toUpperCase();
    if (key === '') continue;
    const seen = firstLine.get(key);
    if (seen === undefined) firstLine.set(key, p.pupil.line);
    else duplicated.add(key);
  }

  for (const p of pupils) {
    const { pupil } = p;
    const pupilErrors = [...p.errors];
    const upn = checkUpnValue(pupil.upn);
    if (!upn.ok) pupilErrors.unshift({ line: pupil.line, field: 'upn', code: upn.code, message: upn.message });
    if (duplicated.has(pupil.upn.toUpperCase())) {
      const others = pupils
        .filter((q) => q !== p && q.pupil.upn.toUpperCase() === pupil.upn.toUpperCase())
        .map((q) => q.pupil.line);
      pupilErrors.push({
        line: pupil.line,
        field: 'upn',
        code: 'duplicate_pupil',
        message: `UPN ${pupil.upn} has more than one Pupil record (also on line ${others.join(', ')}); none of them is loaded`,
      });
    }
    if (pupil.dob !== undefined && pupil.dob > options.today) {
      pupilErrors.push({
        line: pupil.line,
        field: 'dob',
        code: 'dob_future',
        message: `DOB ${pupil.dob} is in the future (today is ${options.today})`,
      });
    }

    const derived = deriveRows(
      pupil,
      upn.ok ? upn.upn : pupil.upn.toUpperCase(),
      source.urn,
      options.today,
      header.header.dest?.destination,
    );
    rowCount += derived.candidates;
    if (pupilErrors.length > 0) {
      if (derived.candidates > 0) {
        pupilErrors[0] = {
          ...pupilErrors[0],
          message: `${pupilErrors[0].message}; the pupil's ${derived.candidates} day${derived.candidates > 1 ? 's' : ''} of marks are not loaded`,
        };
      }
      errors.push(...pupilErrors);
      continue;
    }
    errors.push(...derived.errors);
    rows.push(...derived.rows);
    if (rowCount > maxRows) {
      return fileError(
        413,
        'too_many_rows',
        'Too many rows',
        `the CTF implies more than ${maxRows} daily rows (reached at the pupil on line ${pupil.line})`,
        { line: pupil.line, field: 'Pupil' },
      );
    }
  }
  if (rowCount > maxRows) {
    return fileError(413, 'too_many_rows', 'Too many rows', `the CTF implies more than ${maxRows} daily rows`);
  }
  if (rowCount === 0 && errors.length === 0) {
    return fileError(
      422,
      'no_rows',
      'No attendance marks',
      pupilEls.length === 0
        ? 'the CTF holds no pupils'
        : `the CTF holds ${pupilEls.length} pupil${pupilEls.length > 1 ? 's' : ''} but no attendance marks (Attendance/YearData/AttendSessions) for the source school`,
    );
  }
  return { ok: true, ctf: { header: header.header, pupils: pupils.map((p) => p.pupil) }, rows, errors, rowCount };
}

function fileError(
  status: FileError['status'],
  code: string,
  title: string,
  detail: string,
  at?: { line: number; field: string },
): { ok: false; error: FileError } {
  const error: FileError = { status, code, title, detail };
  if (at) error.errors = [{ line: at.line, field: at.field, code, message: detail }];
  return { ok: false, error };
}

type HeaderRead = { ok: true; header: CtfHeader; line: number } | { ok: false; error: FileError };

function readHeader(root: XmlElement): HeaderRead {
  const headerEl = child(root, 'Header');
  const sourceEl = child(headerEl, 'SourceSchool');
  if (!headerEl || !sourceEl) {
    return fileError(
      422,
      'ctf_header',
      'CTF header incomplete',
      `the CTF has no Header/SourceSchool (line ${headerEl?.line ?? root.line}): the sending school is unknown`,
      { line: headerEl?.line ?? root.line, field: 'Header/SourceSchool' },
    );
  }
  const urn = childText(sourceEl, 'URN') ?? '';
  if (!/^\d{6}$/.test(urn)) {
    return fileError(
      422,
      'ctf_source_urn',
      'CTF header incomplete',
      urn === ''
        ? `the CTF header gives no source school URN (Header/SourceSchool/URN, line ${sourceEl.line}); the return cannot be attributed to a school`
        : `the source school URN ${excerpt(urn, 10)} (line ${child(sourceEl, 'URN')?.line}) is not 6 digits`,
      { line: child(sourceEl, 'URN')?.line ?? sourceEl.line, field: 'Header/SourceSchool/URN' },
    );
  }
  const source: CtfSchool = { lea: childText(sourceEl, 'LEA') ?? '', estab: childText(sourceEl, 'Estab') ?? '', urn };
  const name = childText(sourceEl, 'SchoolName');
  if (name) source.name = name;
  const header: CtfHeader = { source };
  const version = childText(headerEl, 'CTFversion') ?? childText(headerEl, 'CTFVersion');
  if (version) header.version = version;
  const dateTime = childText(headerEl, 'DateTime');
  if (dateTime) header.dateTime = dateTime;
  const academicYear = childText(sourceEl, 'AcademicYear');
  if (academicYear) header.academicYear = academicYear;
  const destEl = child(headerEl, 'DestSchool');
  if (destEl) {
    const dest: NonNullable<CtfHeader['dest']> = {};
    for (const [element, key] of [
      ['LEA', 'lea'],
      ['Estab', 'estab'],
      ['URN', 'urn'],
    ] as const) {
      const v = childText(destEl, element);
      if (v) dest[key] = v;
    }
    const destination = destinationOfDestSchool(dest);
    if (destination !== undefined) dest.destination = destination;
    header.dest = dest;
  }
  return { ok: true, header, line: child(sourceEl, 'URN')?.line ?? sourceEl.line };
}

/**
 * Where a CTF's DestSchool says its leavers went. A URN names the school. The DfE's school-to-school
 * guidance has a pupil whose destination is not known sent with XXX as the destination LA and XXXX as
 * the establishment (a "lost pupil" CTF); MMM/MMMM are read the same way: neither names a school the LA
 * can see the child on, so the child is `unknown` and, at compulsory school age, for the CME officer
 * to check (docs/ctf-attendance.md). A DestSchool with only an LA and establishment number gives no
 * destination: the registry is keyed by URN.
 */
export function destinationOfDestSchool(dest: { lea?: string; estab?: string; urn?: string }): Destination | undefined {
  if (dest.urn !== undefined && /^\d{6}$/.test(dest.urn)) return dest.urn;
  const lea = dest.lea?.toUpperCase();
  const estab = dest.estab?.toUpperCase();
  if (lea === 'XXX' || estab === 'XXXX' || lea === 'MMM' || estab === 'MMMM') return 'unknown';
  return undefined;
}

function checkUpnValue(raw: string): { ok: true; upn: string } | { ok: false; code: string; message: string } {
  if (raw === '') return { ok: false, code: 'upn_missing', message: 'UPN is required' };
  const result = checkUpn(raw);
  if (result.ok) return { ok: true, upn: result.upn };
  const upper = raw.toUpperCase();
  const wrongLetter = /^[A-Z]\d{11}[0-9A-Z]$/.test(upper) && upnCheckLetter(upper.slice(1)) !== undefined;
  return {
    ok: false,
    code: wrongLetter ? 'upn_check_letter' : 'upn_format',
    message: `UPN ${excerpt(raw, 15)}: ${result.message}`,
  };
}

/** Read a Pupil element; problems with its characteristics reject the pupil. */
function readPupil(el: XmlElement, source: CtfSchool): { pupil: CtfPupil; errors: RowError[] } {
  const errors: RowError[] = [];
  const bad = (field: string, code: string, message: string) => errors.push({ line: el.line, field, code, message });
  const pupil: CtfPupil = { line: el.line, upn: childText(el, 'UPN') ?? '', attendance: [] };

  for (const [element, key] of [
    ['Surname', 'surname'],
    ['Forename', 'forename'],
  ] as const) {
    const v = childText(el, element);
    if (v === undefined || v === '') continue;
    if (v.length > TEXT_LIMITS.name)
      bad(key, `${key}_length`, `${element} is longer than ${TEXT_LIMITS.name} characters`);
    else pupil[key] = v;
  }
  const dob = childText(el, 'DOB');
  if (dob) {
    if (isIsoDate(dob)) pupil.dob = dob;
    else bad('dob', 'dob_format', `DOB must be a real date written YYYY-MM-DD, got ${excerpt(dob, 12)}`);
  }
  const sex = (childText(el, 'Sex') ?? childText(el, 'Gender') ?? '').toUpperCase();
  if (sex === 'M' || sex === 'F') pupil.sex = sex;
  else if (sex !== '') bad('sex', 'sex_value', `Sex/Gender must be M or F, got ${excerpt(sex, 5)}`);

  const basic = child(el, 'BasicDetails');
  const ncYear = childText(basic, 'NCyearActual');
  if (ncYear && ncYear.toUpperCase() !== 'X') {
    const yg = normaliseYearGroup(ncYear);
    if (yg) pupil.yearGroup = yg;
    else bad('year_group', 'year_group_value', `NCyearActual must be N1, N2, R, 1–14 or X, got ${excerpt(ncYear, 8)}`);
  }
  const ethnicity = childText(basic, 'Ethnicity');
  if (ethnicity) {
    if (ethnicity.length > TEXT_LIMITS.ethnicity)
      bad('ethnicity', 'ethnicity_length', `Ethnicity is longer than ${TEXT_LIMITS.ethnicity} characters`);
    else pupil.ethnicity = ethnicity;
  }

  const inCare = childText(child(el, 'LookedAfter'), 'InCare');
  if (inCare !== undefined && inCare !== '') {
    const v = inCare.toLowerCase();
    if (v === 'true' || v === '1') pupil.inCare = true;
    else if (v === 'false' || v === '0') pupil.inCare = false;
    else bad('cla', 'cla_value', `LookedAfter/InCare must be true or false, got ${excerpt(inCare, 8)}`);
  }

  const fsmHistory = child(el, 'FSMhistory');
  if (fsmHistory) {
    pupil.fsm = [];
    for (const inst of childrenNamed(fsmHistory, 'FSMinstance')) {
      const start = childText(inst, 'FSMstartDate') ?? '';
      const end = childText(inst, 'FSMendDate') ?? '';
      if (!isIsoDate(start)) {
        bad(
          'fsm',
          'fsm_dates',
          `FSMinstance (line ${inst.line}) needs an FSMstartDate written YYYY-MM-DD, got ${excerpt(start, 12)}`,
        );
        continue;
      }
      if (end !== '' && (!isIsoDate(end) || end < start)) {
        bad(
          'fsm',
          'fsm_dates',
          `FSMinstance (line ${inst.line}) FSMendDate ${excerpt(end, 12)} is not a date on or after ${start}`,
        );
        continue;
      }
      pupil.fsm.push(end === '' ? { start } : { start, end });
    }
  }

  const senHistory = child(el, 'SENhistory');
  if (senHistory) {
    pupil.sen = [];
    for (const sen of childrenNamed(senHistory, 'SEN')) {
      const start = childText(sen, 'StartDate') ?? '';
      const provisionRaw = (childText(sen, 'SENprovision') ?? '').toUpperCase();
      // Codes before 2014: statement (S) is now an EHC plan; School Action / Action Plus are SEN support.
      const provision = provisionRaw === 'S' ? 'E' : provisionRaw === 'A' || provisionRaw === 'P' ? 'K' : provisionRaw;
      if (provision !== 'N' && provision !== 'K' && provision !== 'E') {
        bad('sen', 'sen_value', `SENprovision (line ${sen.line}) must be N, K or E, got ${excerpt(provisionRaw, 5)}`);
        continue;
      }
      if (start !== '' && !isIsoDate(start)) {
        bad(
          'sen',
          'sen_dates',
          `SEN StartDate (line ${sen.line}) must be written YYYY-MM-DD, got ${excerpt(start, 12)}`,
        );
        continue;
      }
      pupil.sen.push(start === '' ? { provision } : { start, provision });
    }
    pupil.sen.sort((a, b) => (a.start ?? '').localeCompare(b.start ?? ''));
  }

  // The source school's own SchoolHistory entry (by URN, or by LEA and Estab): admission and leaving.
  for (const school of childrenNamed(child(el, 'SchoolHistory'), 'School')) {
    const urn = childText(school, 'URN');
    const own = urn
      ? urn === source.urn
      : childText(school, 'LEA') === source.lea && childText(school, 'Estab') === source.estab && source.estab !== '';
    if (!own) continue;
    const history: CtfOwnHistory = { line: school.line };
    for (const [element, key, field] of [
      ['EntryDate', 'entryDate', 'admission_date'],
      ['LeavingDate', 'leavingDate', 'leaving_date'],
    ] as const) {
      const v = childText(school, element);
      if (!v) continue;
      if (isIsoDate(v)) history[key] = v;
      else
        bad(
          field,
          `${field}_format`,
          `SchoolHistory/School ${element} (line ${school.line}) must be a real date written YYYY-MM-DD, got ${excerpt(v, 12)}`,
        );
    }
    if (
      history.entryDate !== undefined &&
      history.leavingDate !== undefined &&
      history.leavingDate < history.entryDate
    ) {
      bad(
        'leaving_date',
        'leaving_before_admission',
        `SchoolHistory/School (line ${school.line}) LeavingDate ${history.leavingDate} is before EntryDate ${history.entryDate}`,
      );
    }
    const reason = childText(school, 'LeavingReason');
    if (reason) {
      history.leavingReason = reason;
      const ground = parseDeletionGround(reason);
      if (ground !== undefined) history.ground = ground;
    }
    pupil.ownHistory = history;
  }

  for (const yd of childrenNamed(child(el, 'Attendance'), 'YearData')) {
    const data: CtfYearData = { line: yd.line, totals: {}, ownSchool: true };
    const text = (name: string) => childText(yd, name) || undefined;
    data.year = text('Year');
    data.lea = text('LEA');
    data.estab = text('Estab');
    data.schoolName = text('SchoolName');
    for (const { key, element } of TOTAL_NAMES) {
      const v = childText(yd, element);
      if (v === undefined || v === '') continue;
      data.totals[key] = /^\d{1,6}$/.test(v) ? Number(v) : Number.NaN;
    }
    const sessions = child(yd, 'AttendSessions');
    data.startDate = childText(sessions, 'AttendanceStartDate') || undefined;
    const marksEl = child(sessions, 'AttendanceMarks');
    if (marksEl) data.marks = textOf(marksEl);
    data.ownSchool =
      (data.lea === undefined || data.lea === source.lea) && (data.estab === undefined || data.estab === source.estab);
    for (const k of Object.keys(data) as (keyof CtfYearData)[]) if (data[k] === undefined) delete data[k];
    pupil.attendance.push(data);
  }
  return { pupil, errors };
}

interface Derived {
  rows: ReturnRow[];
  errors: RowError[];
  /** Daily rows implied, loaded or not. */
  candidates: number;
}

/** The daily rows one pupil's own-school YearData imply, with year- and day-level errors. */
function deriveRows(
  pupil: CtfPupil,
  upn: string,
  urn: string,
  today: string,
  destination: Destination | undefined,
): Derived {
  const out: Derived = { rows: [], errors: [], candidates: 0 };
  const taken = new Map<string, number>(); // date → YearData line that supplied it
  for (const yd of pupil.attendance) {
    if (!yd.ownSchool || yd.marks === undefined) continue;
    const err = (field: string, code: string, message: string) =>
      out.errors.push({ line: yd.line, field, code, message });
    const who = `pupil ${upn} (Pupil line ${pupil.line}, YearData line ${yd.line})`;

    if (!yd.startDate || !isIsoDate(yd.startDate)) {
      err(
        'AttendanceStartDate',
        'ctf_start_date',
        `${who}: AttendanceStartDate ${excerpt(yd.startDate ?? '', 12)} is not a date written YYYY-MM-DD, so the marks cannot be placed on dates; the year is not loaded`,
      );
      out.candidates += 1;
      continue;
    }
    const tokens = tokenizeCtfMarks(yd.marks);
    if (!tokens.ok) {
      const session = Math.floor(countTokensBefore(yd.marks, tokens.index));
      const day = addDays(yd.startDate, session >> 1);
      err(
        'AttendanceMarks',
        'ctf_marks_layout',
        `${who}: the marks string has '${tokens.char}' at character ${tokens.index + 1} (near ${day} ${session & 1 ? 'PM' : 'AM'}), which is not a code: a digit may only follow C, J or Y (C1, C2, J1, Y1–Y7); the year is not loaded`,
      );
      out.candidates += 1;
      continue;
    }
    const codes = tokens.codes;
    if (codes.length % 2 === 1) codes.push('-');

    // Days that are rows, before any check, so every rejection is counted.
    const days: { date: string; am: string; pm: string }[] = [];
    const start = dayNumber(yd.startDate);
    for (let k = 0; k < codes.length; k += 2) {
      const date = fromDayNumber(start + k / 2);
      const am = codes[k];
      const pm = codes[k + 1];
      if (am === '#' && pm === '#') continue;
      const blank = (am === '#' || am === '-') && (pm === '#' || pm === '-');
      if (blank && (isWeekend(date) || date > today)) continue;
      days.push({ date, am, pm });
    }
    out.candidates += days.length;

    const notLoaded = `the year's ${days.length} day${days.length === 1 ? '' : 's'} of marks ${days.length === 1 ? 'is' : 'are'} not loaded`;
    const totalsMessages = checkTotals(yd, codes, who, notLoaded);
    if (totalsMessages.length > 0) {
      for (const m of totalsMessages) err(m.field, m.code, m.message);
      continue;
    }
    const overlap = days.find((d) => taken.has(d.date));
    if (overlap) {
      err(
        'YearData',
        'ctf_overlapping_years',
        `${who}: marks for ${overlap.date} are also given by the YearData on line ${taken.get(overlap.date)}; ${notLoaded}`,
      );
      continue;
    }
    for (const d of days) taken.set(d.date, yd.line);

    for (const d of days) {
      if (d.date > today) {
        err('date', 'date_future', `${who}: marks for ${d.date}, which is in the future (today is ${today})`);
        continue;
      }
      const am = checkMark(d.am, d.date);
      const pm = checkMark(d.pm, d.date);
      if (!am.ok || !pm.ok) {
        for (const [field, raw, result] of [
          ['am', d.am, am],
          ['pm', d.pm, pm],
        ] as const) {
          if (!result.ok)
            err(
              field,
              LEGACY_CODES.has(raw.toUpperCase()) ? 'legacy_code' : 'unknown_code',
              `${who}, ${d.date} ${field.toUpperCase()}: ${result.message}`,
            );
        }
        continue;
      }
      out.rows.push(buildRow(pupil, yd.line, urn, upn, d.date, am.mark, pm.mark, destination));
    }
  }
  return out;
}

function countTokensBefore(marks: string, index: number): number {
  const prefix = marks.replace(/\s+/g, '').slice(0, index);
  const t = tokenizeCtfMarks(prefix);
  return t.ok ? t.codes.length : 0;
}

function checkTotals(
  yd: CtfYearData,
  codes: readonly string[],
  who: string,
  notLoaded: string,
): { field: string; code: string; message: string }[] {
  const out: { field: string; code: string; message: string }[] = [];
  const stated = yd.totals;
  if (stated.possible === undefined) {
    out.push({
      field: 'SessionsPossible',
      code: 'ctf_totals_missing',
      message: `${who}: SessionsPossible is not stated, so the marks cannot be checked; ${notLoaded}`,
    });
    return out;
  }
  const counted = countCtfTotals(codes);
  for (const { key, element } of TOTAL_NAMES) {
    const s = stated[key];
    if (s === undefined) continue;
    if (Number.isNaN(s)) {
      out.push({
        field: element,
        code: 'ctf_totals_value',
        message: `${who}: ${element} is not a whole number; ${notLoaded}`,
      });
    } else if (s !== counted[key]) {
      out.push({
        field: element,
        code: 'ctf_totals_mismatch',
        message: `${who}: ${element} is stated as ${s} but the marks count ${counted[key]}; ${notLoaded}`,
      });
    }
  }
  return out;
}

function buildRow(
  pupil: CtfPupil,
  line: number,
  urn: string,
  upn: string,
  date: string,
  am: string,
  pm: string,
  destination: Destination | undefined,
): ReturnRow {
  const row: ReturnRow = { line, urn, upn, date, am, pm };
  if (pupil.forename !== undefined) row.forename = pupil.forename;
  if (pupil.surname !== undefined) row.surname = pupil.surname;
  if (pupil.dob !== undefined) row.dob = pupil.dob;
  if (pupil.sex !== undefined) row.sex = pupil.sex;
  if (pupil.ethnicity !== undefined) row.ethnicity = pupil.ethnicity;
  if (pupil.yearGroup !== undefined) row.yearGroup = pupil.yearGroup;
  if (pupil.fsm !== undefined)
    row.fsm = pupil.fsm.some((f) => f.start <= date && (f.end === undefined || date <= f.end));
  if (pupil.sen !== undefined) {
    let sen: CtfSenEntry | undefined;
    for (const entry of pupil.sen) if (entry.start === undefined || entry.start <= date) sen = entry;
    if (sen) row.sen = sen.provision;
  }
  if (pupil.inCare !== undefined) row.cla = pupil.inCare;
  // As the daily return's columns: the ground and destination belong with the leaving date they explain.
  const history = pupil.ownHistory;
  if (history?.entryDate !== undefined) row.admissionDate = history.entryDate;
  if (history?.leavingDate !== undefined) {
    row.leavingDate = history.leavingDate;
    if (history.ground !== undefined) row.deletionGround = history.ground;
    if (destination !== undefined) row.destination = destination;
  }
  return row;
}

// ---------------------------------------------------------------------------------------------
// Write
