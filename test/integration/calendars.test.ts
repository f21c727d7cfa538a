/**
 * Calendars through the API (docs/design.md §2.3, §4 POST /v1/calendars, §6): a real LA's published
 * holidays (Sheffield's ICS) imported LA-wide; a school with no register then has exactly those
 * breaks; a school's own register (for the dates it covers) and a school's own calendar win over
 * the LA's; every upload is kept and answered record by record.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_NAMES } from '../../shared/config.js';
import { addDays, isWeekend } from '../../shared/domain/dates.js';
import { englandAndWalesBankHolidays } from '../../shared/formats/bank-holidays.js';
import { getBlob } from '../../shared/store/blobs.js';
import { paths } from '../../shared/store/keys.js';
import { returnCsv, upnFor, weekdays } from '../support/returns.js';
import { startTestService, type TestService } from './harness.js';

const ICS = readFileSync(new URL('../fixtures/formats/sheffield_school_holidays.ics', import.meta.url));
const PUBLISHED = JSON.parse(
  readFileSync(new URL('../fixtures/formats/sheffield_term_dates.json', import.meta.url), 'utf8'),
) as {
  academic_years: Array<{
    name: string;
    bank_holidays: string[];
    school_holidays: Array<{ start: string; end: string; label: string }>;
  }>;
};

const NO_REGISTER = '400001'; // in the registry, no returns yet
const WITH_REGISTER = '400002'; // sends returns; its own half term and an INSET day
const ACADEMY = '400003'; // its own term dates, no returns
const INSET_ONLY = '400004'; // an own calendar holding one INSET day

let svc: TestService;
let admin: string;

beforeAll(async () => {
  svc = await startTestService();
  admin = await svc.token('admin');
  const gias = [
    'URN,LA (code),EstablishmentNumber,EstablishmentName,PhaseOfEducation (name),TypeOfEstablishment (name),EstablishmentStatus (name)',
    `${NO_REGISTER},999,2101,Brook Primary School,Primary,Community school,Open`,
    `${WITH_REGISTER},999,2102,Dale Primary School,Primary,Community school,Open`,
  ].join('\n');
  expect((await svc.request('POST', '/v1/schools', { token: admin, body: gias, contentType: 'text/csv' })).status).toBe(
    200,
  );
});
afterAll(async () => svc?.stop());

type Break = { start: string; end: string; days: number; label: string | null; labels: string[] };

async function schoolBreaks(urn: string, year: number): Promise<Break[]> {
  const res = await svc.request('GET', `/v1/schools/${urn}?academicYear=${year}`, { token: admin });
  expect(res.status, res.text).toBe(200);
  return res.json().breaks;
}

const span = (b: Break) => [b.start, b.end, b.label];

describe("the LA calendar: a real LA's ICS", () => {
  let importId: string;

  it('imports every event of the shipped Sheffield ICS, reporting the academic years it covers', async () => {
    const res = await svc.request('POST', '/v1/calendars', { token: admin, body: ICS, contentType: 'text/calendar' });
    expect(res.status, res.text).toBe(201);
    const report = res.json();
    importId = report.importId;
    expect(report).toMatchObject({
      format: 'ics',
      mode: 'replace',
      counts: { records: 45, imported: 45, rejected: 0, skipped: 0 },
      errors: [],
      warnings: [],
      calendars: [{ urn: null, imported: 45, academicYears: [2025, 2026, 2027], closures: 45 }],
    });
  });

  it('keeps the uploaded file exactly as received', async () => {
    const kept = await getBlob(DEFAULT_NAMES.registersBucket, paths.importFile(importId, 'la-calendar.ics'));
    expect(kept?.body.equals(ICS)).toBe(true);
  });

  it('gives a school with no register exactly its published 2025/26 holidays as breaks (with the early May bank-holiday weekend)', async () => {
    expect((await schoolBreaks(NO_REGISTER, 2025)).map(span)).toEqual([
      ['2025-08-01', '2025-08-31', 'Sheffield: Summer holiday'],
      ['2025-10-25', '2025-11-02', 'Sheffield: School holiday'],
      ['2025-12-20', '2026-01-04', 'Sheffield: Christmas holiday'],
      ['2026-02-14', '2026-02-22', 'Sheffield: February half-term'],
      ['2026-03-28', '2026-04-12', 'Sheffield: Easter holiday'],
      ['2026-05-02', '2026-05-04', 'Sheffield: Bank holiday'],
      ['2026-05-23', '2026-05-31', 'Sheffield: May half-term'],
      // The summer runs on into 2026/27 (the ICS splits it at 1 August; it is one break).
      ['2026-07-21', '2026-08-31', 'Sheffield: Summer holiday'],
    ]);
  });

  it('matches the published holidays of every year the file covers: each holiday lies in one break, and breaks hold only holidays, bank holidays and weekends', async () => {
    const bankHolidays = englandAndWalesBankHolidays();
    for (const published of PUBLISHED.academic_years) {
      const year = Number(published.name.slice(0, 4));
      const breaks = await schoolBreaks(NO_REGISTER, year);
      for (const h of published.school_holidays) {
        expect(
          breaks.filter((b) => b.start <= h.start && h.end <= b.end),
          `${published.name} ${h.label} ${h.start}`,
        ).toHaveLength(1);
      }
      const closed = (d: string) =>
        isWeekend(d) ||
        bankHolidays.has(d) ||
        published.bank_holidays.includes(d) ||
        PUBLISHED.academic_years.some((y) => y.school_holidays.some((h) => h.start <= d && d <= h.end));
      for (const b of breaks) {
        for (let d = b.start; d <= b.end; d = addDays(d, 1))
          expect(closed(d), `${published.name}: ${d} in break ${b.start}..${b.end}`).toBe(true);
      }
    }
  });

  it('re-uploading the same file changes nothing (replace mode replaces the years it covers)', async () => {
    const before = await schoolBreaks(NO_REGISTER, 2026);
    const res = await svc.request('POST', '/v1/calendars', { token: admin, body: ICS, contentType: 'text/calendar' });
    expect(res.status).toBe(201);
    expect(res.json().calendars).toEqual([
      { urn: null, imported: 45, academicYears: [2025, 2026, 2027], closures: 45 },
    ]);
    expect(await schoolBreaks(NO_REGISTER, 2026)).toEqual(before);
  });
});

describe('a school with registers: its own closures win for the dates its register covers', () => {
  beforeAll(async () => {
    const token = await svc.token('school', { urn: WITH_REGISTER });
    // Term from 1 September to 19 December 2025; its own half term is 20–24 October (it is open
    // during the LA's, 27–31 October), and 14 November is an INSET day ('#' for every pupil).
    const days = weekdays('2025-09-01', '2025-12-19').filter((d) => d < '2025-10-20' || d > '2025-10-24');
    const rows = days.flatMap((date) =>
      [1, 2, 3].map((n) => {
        const mark = date === '2025-11-14' ? '#' : '/';
        return { urn: WITH_REGISTER, upn: upnFor(n, '999', '2102'), date, am: mark, pm: mark === '/' ? '\\' : '#' };
      }),
    );
    const res = await svc.request('POST', '/v1/returns', { token, body: returnCsv(rows), contentType: 'text/csv' });
    expect(res.status).toBe(202);
    await svc.settle();
  });

  it("shows its own half term and INSET day, not the LA's half term, and the LA's dates after its register ends", async () => {
    const res = await svc.request('GET', `/v1/schools/${WITH_REGISTER}?academicYear=2025`, { token: admin });
    const school = res.json();
    expect(school.calendar).toMatchObject({ registerCoversTo: '2025-12-19', ownCalendar: false, laCalendar: true });
    expect(school.breaks.map(span)).toEqual([
      ['2025-08-01', '2025-08-31', 'Sheffield: Summer holiday'],
      ['2025-10-18', '2025-10-26', 'Sheffield: School holiday'], // own dates; the LA label names its weekend
      ['2025-11-14', '2025-11-16', null], // the INSET day and its weekend: a break of 3 days
      ['2025-12-20', '2026-01-04', 'Sheffield: Christmas holiday'],
      ['2026-02-14', '2026-02-22', 'Sheffield: February half-term'],
      ['2026-03-28', '2026-04-12', 'Sheffield: Easter holiday'],
      ['2026-05-02', '2026-05-04', 'Sheffield: Bank holiday'],
      ['2026-05-23', '2026-05-31', 'Sheffield: May half-term'],
      ['2026-07-21', '2026-08-31', 'Sheffield: Summer holiday'],
    ]);
  });

  it("lets the school itself read its breaks, but not another school's", async () => {
    const token = await svc.token('school', { urn: WITH_REGISTER });
    expect(
      (await svc.request('GET', `/v1/schools/${WITH_REGISTER}?academicYear=2025`, { token })).json().breaks,
    ).toHaveLength(9);
    expect((await svc.request('GET', `/v1/schools/${NO_REGISTER}?academicYear=2025`, { token })).status).toBe(404);
  });
});

describe("a school's own calendar", () => {
  it("replaces the LA's dates for a year in which it holds holidays (an academy's own term dates, CSV)", async () => {
    const csv = [
      'start_date,end_date,label,urn',
      '2025-10-18,2025-10-26,Autumn half term,',
      '2025-12-13,2026-01-04,Christmas,',
      '2026-02-07,2026-02-15,February half term,',
    ].join('\n');
    const res = await svc.request('POST', `/v1/calendars?urn=${ACADEMY}`, {
      token: admin,
      body: csv,
      contentType: 'text/csv',
    });
    expect(res.status, res.text).toBe(201);
    expect(res.json()).toMatchObject({
      format: 'csv',
      counts: { records: 3, imported: 3, rejected: 0, skipped: 0 },
      calendars: [{ urn: ACADEMY, imported: 3, academicYears: [2025], closures: 3 }],
    });
    const school = (await svc.request('GET', `/v1/schools/${ACADEMY}?academicYear=2025`, { token: admin })).json();
    expect(school).toMatchObject({
      urn: ACADEMY,
      inRegistry: false,
      calendar: { ownCalendar: true, laCalendar: true, registerCoversTo: null },
    });
    // Its own three holidays in 2025/26; the summer and bank-holiday weekends still come from the bank holidays alone.
    expect(school.breaks.map(span)).toEqual([
      ['2025-08-23', '2025-08-25', 'Summer bank holiday'],
      ['2025-10-18', '2025-10-26', 'Autumn half term'],
      ['2025-12-13', '2026-01-04', 'Christmas'],
      ['2026-02-07', '2026-02-15', 'February half term'],
      ['2026-04-03', '2026-04-06', 'Good Friday'],
      ['2026-05-02', '2026-05-04', 'Early May bank holiday'],
      ['2026-05-23', '2026-05-25', 'Spring bank holiday'],
    ]);
    // In 2026/27 it has no dates of its own: the LA's apply.
    const next = await schoolBreaks(ACADEMY, 2026);
    expect(next.map(span)).toContainEqual(['2026-10-24', '2026-11-01', 'Sheffield: School holiday']);
  });

  it("adds an INSET day to the LA's dates when it holds no holiday for the year", async () => {
    const csv = 'start_date,end_date,label\n2025-11-28,2025-11-28,INSET day\n';
    const res = await svc.request('POST', `/v1/calendars?urn=${INSET_ONLY}`, {
      token: admin,
      body: csv,
      contentType: 'text/csv',
    });
    expect(res.status).toBe(201);
    const breaks = await schoolBreaks(INSET_ONLY, 2025);
    expect(breaks.map(span)).toContainEqual(['2025-11-28', '2025-11-30', 'INSET day']);
    expect(breaks.map(span)).toContainEqual(['2025-10-25', '2025-11-02', 'Sheffield: School holiday']);
  });

  it("rejects a row naming another school when the upload is one school's calendar, by line", async () => {
    const csv = 'start_date,end_date,label,urn\n2026-10-19,2026-10-23,Half term,\n2026-11-06,2026-11-06,INSET,400009\n';
    const res = await svc.request('POST', `/v1/calendars?urn=${INSET_ONLY}&mode=add`, {
      token: admin,
      body: csv,
      contentType: 'text/csv',
    });
    expect(res.status).toBe(201);
    expect(res.json().counts).toEqual({ records: 2, imported: 1, rejected: 1, skipped: 0 });
    expect(res.json().errors).toEqual([
      {
        line: 3,
        field: 'urn',
        code: 'urn_mismatch',
        message: expect.stringMatching(/400009 is another school.*400004/),
      },
    ]);
  });
});

describe('calendar uploads: records, modes, bad input', () => {
  it('imports an LA-wide CSV with a school row, reporting each bad record by line and field', async () => {
    const csv = [
      'start_date,end_date,label,urn',
      '2028-10-23,2028-10-27,Autumn half term,',
      '2028-13-01,2028-12-02,Typo,',
      '2028-12-22,2028-12-20,Backwards,',
      '2028-11-03,2028-11-03,INSET day,400002',
      '2028-11-10,2028-11-10,Closure,4000',
    ].join('\n');
    const res = await svc.request('POST', '/v1/calendars', { token: admin, body: csv, contentType: 'text/csv' });
    expect(res.status).toBe(201);
    const report = res.json();
    expect(report.counts).toEqual({ records: 5, imported: 2, rejected: 3, skipped: 0 });
    expect(report.errors.map((e: { line: number; field: string; code: string }) => [e.line, e.field, e.code])).toEqual([
      [3, 'start_date', 'start_date_format'],
      [4, 'end_date', 'end_before_start'],
      [6, 'urn', 'urn_format'],
    ]);
    expect(report.calendars).toEqual([
      { urn: null, imported: 1, academicYears: [2028], closures: 46 },
      { urn: WITH_REGISTER, imported: 1, academicYears: [2028], closures: 1 },
    ]);
  });

  it('replaces only the academic years a new file covers, and adds in mode=add', async () => {
    const replace = 'start_date,end_date,label\n2028-10-30,2028-11-03,Autumn half term (corrected)\n';
    const res = await svc.request('POST', '/v1/calendars', { token: admin, body: replace, contentType: 'text/csv' });
    expect(res.json().calendars).toEqual([{ urn: null, imported: 1, academicYears: [2028], closures: 46 }]);
    const add = 'start_date,end_date,label\n2028-11-17,2028-11-17,Polling day\n';
    const added = await svc.request('POST', '/v1/calendars?mode=add', {
      token: admin,
      body: add,
      contentType: 'text/csv',
    });
    expect(added.json().calendars).toEqual([{ urn: null, imported: 1, academicYears: [2028], closures: 47 }]);
    const list = (await svc.request('GET', '/v1/calendars?academicYear=2028', { token: admin })).json();
    const la = list.items.find((c: { urn: string | null }) => c.urn === null);
    expect(la.closures).toEqual([
      { start: '2028-10-30', end: '2028-11-03', label: 'Autumn half term (corrected)' },
      { start: '2028-11-17', end: '2028-11-17', label: 'Polling day' },
    ]);
    // 2025/26 is untouched.
    expect((await schoolBreaks(NO_REGISTER, 2025))[1].label).toBe('Sheffield: School holiday');
  });

  it('lists the calendars held: the LA first, then schools by URN, with their recent uploads', async () => {
    const res = await svc.request('GET', '/v1/calendars', { token: admin });
    expect(res.status).toBe(200);
    const items = res.json().items;
    expect(items.map((c: { urn: string | null }) => c.urn)).toEqual([null, WITH_REGISTER, ACADEMY, INSET_ONLY]);
    expect(items[0].academicYears).toEqual([2025, 2026, 2027, 2028]);
    expect(items[0].imports[0]).toMatchObject({ format: 'csv', mode: 'add', closures: 1, academicYears: [2028] });
    const one = (await svc.request('GET', `/v1/calendars?urn=${ACADEMY}`, { token: admin })).json();
    expect(one.items).toHaveLength(1);
    expect(one.items[0].closures).toHaveLength(3);
  });

  it('refuses a file that is not a calendar with 415, keeping it and naming the import', async () => {
    const body = 'BEGIN:VEVENT\nDTSTART:20251027\nEND:VEVENT\n';
    const res = await svc.request('POST', '/v1/calendars', { token: admin, body, contentType: 'text/calendar' });
    expect(res.status).toBe(415);
    const p = res.json();
    expect(p.detail).toMatch(/BEGIN:VCALENDAR/);
    const kept = await getBlob(DEFAULT_NAMES.registersBucket, paths.importFile(p.importId, 'la-calendar.ics'));
    expect(kept?.body.toString('utf8')).toBe(body);
  });

  it('refuses a CSV without end_date (422, naming the column) and one whose every record is bad (422, by line)', async () => {
    const missing = await svc.request('POST', '/v1/calendars', {
      token: admin,
      body: 'start_date,label\n2025-10-27,Half term\n',
      contentType: 'text/csv',
    });
    expect(missing.status).toBe(422);
    expect(missing.json().errors).toEqual([
      { line: 1, field: 'end_date', code: 'missing_column', message: expect.any(String) },
    ]);
    const allBad = await svc.request('POST', '/v1/calendars', {
      token: admin,
      body: 'start_date,end_date\n27/10/2025,31/10/2025\n',
      contentType: 'text/csv',
    });
    expect(allBad.status).toBe(422);
    expect(allBad.json().errors.map((e: { line: number; field: string }) => [e.line, e.field])).toEqual([
      [2, 'start_date'],
      [2, 'end_date'],
    ]);
    expect(allBad.json().detail).toMatch(/Nothing held was changed/);
  });

  it('skips timed and term events with a warning, by line', async () => {
    const ics = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'BEGIN:VEVENT',
      'DTSTART;VALUE=DATE:20290101',
      'DTEND;VALUE=DATE:20290102',
      'SUMMARY:New Year closure',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'DTSTART:20290105T090000Z',
      'DTEND:20290105T100000Z',
      'SUMMARY:Parents evening',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'DTSTART;VALUE=DATE:20290107',
      'DTEND;VALUE=DATE:20290108',
      'SUMMARY:Spring term starts',
      'END:VEVENT',
      'END:VCALENDAR',
    ].join('\r\n');
    const res = await svc.request('POST', `/v1/calendars?urn=${INSET_ONLY}&mode=add`, {
      token: admin,
      body: ics,
      contentType: 'text/calendar',
    });
    expect(res.status).toBe(201);
    expect(res.json().counts).toEqual({ records: 3, imported: 1, rejected: 0, skipped: 2 });
    expect(res.json().warnings.map((w: { line: number; code: string }) => [w.line, w.code])).toEqual([
      [8, 'timed_event'],
      [13, 'term_event'],
    ]);
  });

  it('recognises the format from the content when sent as application/octet-stream', async () => {
    const res = await svc.request('POST', `/v1/calendars?urn=${INSET_ONLY}&mode=add`, {
      token: admin,
      body: Buffer.from('start_date,end_date,label\n2029-02-01,2029-02-01,INSET\n'),
      contentType: 'application/octet-stream',
    });
    expect(res.status).toBe(201);
    expect(res.json().format).toBe('csv');
  });

  it('refuses JSON (415), an empty body (400), and any role but admin (403)', async () => {
    expect((await svc.request('POST', '/v1/calendars', { token: admin, body: { start: '2025-10-27' } })).status).toBe(
      415,
    );
    expect(
      (await svc.request('POST', '/v1/calendars', { token: admin, body: '', contentType: 'text/csv' })).status,
    ).toBe(400);
    const officer = await svc.token('la_officer');
    expect(
      (await svc.request('POST', '/v1/calendars', { token: officer, body: ICS, contentType: 'text/calendar' })).status,
    ).toBe(403);
    expect((await svc.request('GET', '/v1/calendars', { token: officer })).status).toBe(403);
  });

  it('answers 404 for a school known neither by the registry, its returns nor its own calendar', async () => {
    expect((await svc.request('GET', '/v1/schools/499999?academicYear=2025', { token: admin })).status).toBe(404);
  });
});
