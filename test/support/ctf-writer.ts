/**
 * Writing a Common Transfer File from daily-return rows: for tests and the bench only (the service
 * reads CTFs, it never writes one), so it lives beside them rather than in the production parser
 * (shared/formats/ctf.ts).
 */
import { CODE_OF_CHAR, UNMARKED } from '../../shared/domain/codes.js';
import { academicYearOf, dayNumber, isWeekend } from '../../shared/domain/dates.js';
import { countCtfTotals, type CtfSchool } from '../../shared/formats/ctf.js';
import type { ReturnRow } from '../../shared/formats/daily-return-csv.js';
import { escapeXmlText } from '../../shared/formats/xml.js';

export interface CtfWriteOptions {
  school: CtfSchool;
  /** Header DateTime (default: now, to the second). */
  dateTime?: string;
  /** CTFversion written (default '25.0'). */
  version?: string;
}

const UNSUPPORTED: readonly (keyof ReturnRow)[] = [
  'plac',
  'cin',
  'cpp',
  'admissionDate',
  'leavingDate',
  'registration',
  'uprn',
];
const PER_PUPIL: readonly (keyof ReturnRow)[] = ['forename', 'surname', 'dob', 'sex', 'ethnicity', 'yearGroup', 'cla'];

/**
 * Write the CTF that carries exactly these daily-return rows (one school): parseCtf of the result
 * gives the same rows back (with XML line numbers). Throws a RangeError naming the row when the
 * rows say something a CTF cannot: another URN, a characteristic that changes within a pupil
 * (other than fsm and sen, which become FSM / SEN history), fields the CTF has no place for,
 * two rows for one pupil and day, a day with both sessions `#`, or a weekend day with no code.
 */
export function writeCtf(rows: readonly ReturnRow[], options: CtfWriteOptions): string {
  const { school } = options;
  const byPupil = new Map<string, ReturnRow[]>();
  for (const row of rows) {
    const where = `row for ${row.upn} on ${row.date} (line ${row.line})`;
    if (row.urn !== school.urn) throw new RangeError(`${where}: URN ${row.urn} is not the CTF's school ${school.urn}`);
    for (const f of UNSUPPORTED)
      if (row[f] !== undefined) throw new RangeError(`${where}: a CTF has no place for ${f}`);
    if (row.am === '#' && row.pm === '#')
      throw new RangeError(`${where}: a day with both sessions '#' is not a school day and has no row in a CTF`);
    if (isWeekend(row.date) && isBlankMark(row.am) && isBlankMark(row.pm)) {
      throw new RangeError(`${where}: a weekend day with no code has no row in a CTF`);
    }
    for (const m of [row.am, row.pm]) {
      if (m !== UNMARKED && CODE_OF_CHAR[m] === undefined)
        throw new RangeError(`${where}: '${m}' is not a stored mark character`);
    }
    const list = byPupil.get(row.upn) ?? [];
    list.push(row);
    byPupil.set(row.upn, list);
  }

  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push('<CTfile>');
  out.push('  <Header>');
  out.push('    <DocumentName>Common Transfer File</DocumentName>');
  out.push(`    <CTFversion>${escapeXmlText(options.version ?? '25.0')}</CTFversion>`);
  out.push(`    <DateTime>${escapeXmlText(options.dateTime ?? new Date().toISOString().slice(0, 19))}</DateTime>`);
  out.push('    <DocumentQualifier>partial</DocumentQualifier>');
  out.push('    <SupplierID>Attendance Hub</SupplierID>');
  out.push('    <SourceSchool>');
  out.push(`      <LEA>${escapeXmlText(school.lea)}</LEA>`);
  out.push(`      <Estab>${escapeXmlText(school.estab)}</Estab>`);
  out.push(`      <URN>${escapeXmlText(school.urn)}</URN>`);
  if (school.name !== undefined) out.push(`      <SchoolName>${escapeXmlText(school.name)}</SchoolName>`);
  let latest = '';
  for (const r of rows) if (r.date > latest) latest = r.date;
  if (latest !== '') out.push(`      <AcademicYear>${academicYearOf(latest)}</AcademicYear>`);
  out.push('    </SourceSchool>');
  out.push('  </Header>');
  out.push('  <CTFpupilData>');
  for (const [upn, list] of byPupil) writePupil(out, upn, list, school);
  out.push('  </CTFpupilData>');
  out.push('</CTfile>');
  return `${out.join('\n')}\n`;
}

function isBlankMark(m: string): boolean {
  return m === '#' || m === UNMARKED;
}

function writePupil(out: string[], upn: string, list: ReturnRow[], school: CtfSchool): void {
  list.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  for (let k = 1; k < list.length; k++) {
    if (list[k].date === list[k - 1].date)
      throw new RangeError(`two rows for ${upn} on ${list[k].date} (lines ${list[k - 1].line} and ${list[k].line})`);
  }
  const first = list[0];
  for (const f of PER_PUPIL) {
    for (const r of list) {
      if (r[f] !== first[f])
        throw new RangeError(
          `${upn}: ${f} changes between ${first.date} and ${r.date}; a CTF holds one value per pupil`,
        );
    }
  }
  for (const f of ['fsm', 'sen'] as const) {
    const defined = list.filter((r) => r[f] !== undefined).length;
    if (defined !== 0 && defined !== list.length)
      throw new RangeError(`${upn}: ${f} is given on some rows and not others; a CTF history covers every day or none`);
  }

  out.push('    <Pupil>');
  out.push(`      <UPN>${escapeXmlText(upn)}</UPN>`);
  if (first.surname !== undefined) out.push(`      <Surname>${escapeXmlText(first.surname)}</Surname>`);
  if (first.forename !== undefined) out.push(`      <Forename>${escapeXmlText(first.forename)}</Forename>`);
  if (first.dob !== undefined) out.push(`      <DOB>${first.dob}</DOB>`);
  if (first.sex !== undefined) out.push(`      <Sex>${first.sex}</Sex>`);
  if (first.yearGroup !== undefined || first.ethnicity !== undefined) {
    out.push('      <BasicDetails>');
    if (first.yearGroup !== undefined)
      out.push(`        <NCyearActual>${escapeXmlText(first.yearGroup)}</NCyearActual>`);
    if (first.ethnicity !== undefined) out.push(`        <Ethnicity>${escapeXmlText(first.ethnicity)}</Ethnicity>`);
    out.push('      </BasicDetails>');
  }
  if (first.cla !== undefined) {
    out.push('      <LookedAfter>');
    out.push(`        <InCare>${first.cla ? 'true' : 'false'}</InCare>`);
    out.push('      </LookedAfter>');
  }
  if (first.fsm !== undefined) {
    out.push('      <FSMhistory>');
    // One instance per run of rows with fsm true; it ends at the last true row before a false one.
    for (let k = 0; k < list.length; k++) {
      if (!list[k].fsm || (k > 0 && list[k - 1].fsm)) continue;
      let j = k;
      while (j + 1 < list.length && list[j + 1].fsm) j++;
      out.push('        <FSMinstance>');
      out.push(`          <FSMstartDate>${list[k].date}</FSMstartDate>`);
      if (j + 1 < list.length) out.push(`          <FSMendDate>${list[j].date}</FSMendDate>`);
      out.push('        </FSMinstance>');
    }
    out.push('      </FSMhistory>');
  }
  if (first.sen !== undefined) {
    out.push('      <SENhistory>');
    for (let k = 0; k < list.length; k++) {
      if (k > 0 && list[k].sen === list[k - 1].sen) continue;
      out.push('        <SEN>');
      out.push(`          <StartDate>${list[k].date}</StartDate>`);
      out.push(`          <SENprovision>${list[k].sen}</SENprovision>`);
      out.push('        </SEN>');
    }
    out.push('      </SENhistory>');
  }
  out.push('      <Attendance>');
  const byYear = new Map<number, ReturnRow[]>();
  for (const r of list) {
    const y = academicYearOf(r.date);
    const yearRows = byYear.get(y) ?? [];
    yearRows.push(r);
    byYear.set(y, yearRows);
  }
  for (const [year, yearRows] of byYear) {
    const codes: string[] = [];
    const from = dayNumber(yearRows[0].date);
    const to = dayNumber(yearRows[yearRows.length - 1].date);
    let k = 0;
    for (let d = from; d <= to; d++) {
      const r = yearRows[k];
      if (r && dayNumber(r.date) === d) {
        codes.push(codeOfStored(r.am), codeOfStored(r.pm));
        k++;
      } else codes.push('#', '#');
    }
    const totals = countCtfTotals(codes);
    out.push('        <YearData>');
    out.push(`          <Year>${year}</Year>`);
    out.push(`          <LEA>${escapeXmlText(school.lea)}</LEA>`);
    out.push(`          <Estab>${escapeXmlText(school.estab)}</Estab>`);
    if (school.name !== undefined) out.push(`          <SchoolName>${escapeXmlText(school.name)}</SchoolName>`);
    out.push(`          <SessionsPossible>${totals.possible}</SessionsPossible>`);
    out.push(`          <SessionsAuthorised>${totals.authorised}</SessionsAuthorised>`);
    out.push(`          <SessionsAttended>${totals.attended}</SessionsAttended>`);
    out.push(`          <SessionsUnauthorised>${totals.unauthorised}</SessionsUnauthorised>`);
    out.push('          <AttendSessions>');
    out.push(`            <AttendanceStartDate>${yearRows[0].date}</AttendanceStartDate>`);
    out.push(`            <AttendanceMarks>${escapeXmlText(codes.join(''))}</AttendanceMarks>`);
    out.push('          </AttendSessions>');
    out.push('        </YearData>');
  }
  out.push('      </Attendance>');
  out.push('    </Pupil>');
}

/** Stored mark character → the DfE code written in a marks string ('-' stays '-'). */
function codeOfStored(mark: string): string {
  return mark === UNMARKED ? '-' : CODE_OF_CHAR[mark];
}
