import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addDays } from '../../../shared/domain/dates.js';
import {
  MAX_CLOSURE_DAYS,
  MAX_LABEL_LENGTH,
  parseCalendarCsv,
  parseCalendarFile,
  parseIcsCalendar,
  unescapeIcsText,
  type Closure,
} from '../../../shared/formats/calendar-files.js';

const FIXTURES = new URL('../../fixtures/formats/', import.meta.url);
const ics = (...lines: string[]) =>
  Buffer.from(['BEGIN:VCALENDAR', 'VERSION:2.0', ...lines, 'END:VCALENDAR', ''].join('\r\n'));
const event = (...props: string[]) => ['BEGIN:VEVENT', ...props, 'END:VEVENT'];
const csv = (text: string) => parseCalendarCsv(Buffer.from(text, 'utf8'));

describe('ICS calendars: the real Sheffield fixture', () => {
  const parsed = parseIcsCalendar(readFileSync(new URL('sheffield_school_holidays.ics', FIXTURES)));
  const json = JSON.parse(readFileSync(new URL('sheffield_term_dates.json', FIXTURES), 'utf8')) as {
    academic_years: Array<{
      bank_holidays: string[];
      school_holidays: Array<{ start: string; end: string; label: string }>;
    }>;
  };

  it('imports every holiday with DTEND exclusive, matching the same dates published as inclusive JSON', () => {
    expect(parsed.errors).toEqual([]);
    expect(parsed.warnings).toEqual([]);
    const holidays = parsed.closures.filter((c) => !c.label.endsWith('Bank holiday'));
    const expected: Closure[] = json.academic_years.flatMap((y) =>
      y.school_holidays.map((h) => ({ start: h.start, end: h.end, label: `Sheffield: ${h.label}` })),
    );
    expect(holidays).toEqual(expected);
  });

  it('imports each bank holiday as a one-day closure', () => {
    const bank = parsed.closures.filter((c) => c.label === 'Sheffield: Bank holiday');
    expect(bank.map((c) => c.start)).toEqual(json.academic_years.flatMap((y) => y.bank_holidays));
    for (const c of bank) expect(c.end).toBe(c.start);
  });

  it('recognises the file as ICS from its content', () => {
    expect(parseCalendarFile(readFileSync(new URL('sheffield_school_holidays.ics', FIXTURES))).closures).toHaveLength(
      45,
    );
  });
});

describe('ICS calendars: events', () => {
  it('treats DTEND as exclusive: a DTEND one day after DTSTART is a one-day closure', () => {
    const r = parseIcsCalendar(
      ics(...event('DTSTART;VALUE=DATE:20251027', 'DTEND;VALUE=DATE:20251101', 'SUMMARY:Half term')),
    );
    expect(r.closures).toEqual([{ start: '2025-10-27', end: '2025-10-31', label: 'Half term' }]);
  });

  it('reads DTEND equal to DTSTART as one day (some producers write it so)', () => {
    const r = parseIcsCalendar(
      ics(...event('DTSTART;VALUE=DATE:20251027', 'DTEND;VALUE=DATE:20251027', 'SUMMARY:INSET day')),
    );
    expect(r.closures).toEqual([{ start: '2025-10-27', end: '2025-10-27', label: 'INSET day' }]);
  });

  it('reads an event without DTEND as one day, or as long as its DURATION in days or weeks', () => {
    const r = parseIcsCalendar(
      ics(
        ...event('DTSTART:20251027', 'SUMMARY:Closure A'),
        ...event('DTSTART;VALUE=DATE:20251027', 'DURATION:P3D', 'SUMMARY:Closure B'),
        ...event('DTSTART;VALUE=DATE:20251222', 'DURATION:P2W', 'SUMMARY:Christmas holiday'),
      ),
    );
    expect(r.closures.map((c) => [c.start, c.end])).toEqual([
      ['2025-10-27', '2025-10-27'],
      ['2025-10-27', '2025-10-29'],
      ['2025-12-22', '2026-01-04'],
    ]);
  });

  it('unfolds continuation lines and undoes SUMMARY escapes', () => {
    const r = parseIcsCalendar(
      ics(...event('DTSTART;VALUE=DATE:20251027', 'SUMMARY:Half term\\, autumn\\; ', ' week\\nbreak')),
    );
    expect(r.closures[0].label).toBe('Half term, autumn; week break');
    expect(unescapeIcsText('a\\\\b\\Nc')).toBe('a\\b c');
  });

  it('labels an event without SUMMARY "Closure" and applies a school\'s URN', () => {
    const r = parseIcsCalendar(ics(...event('DTSTART;VALUE=DATE:20251027')), { urn: '100001' });
    expect(r.closures).toEqual([{ start: '2025-10-27', end: '2025-10-27', label: 'Closure', urn: '100001' }]);
  });

  it('ignores properties of components nested in an event (VALARM)', () => {
    const r = parseIcsCalendar(
      ics(
        ...event(
          'DTSTART;VALUE=DATE:20251027',
          'BEGIN:VALARM',
          'DTSTART:20200101T000000Z',
          'END:VALARM',
          'SUMMARY:Holiday',
        ),
      ),
    );
    expect(r.closures).toEqual([{ start: '2025-10-27', end: '2025-10-27', label: 'Holiday' }]);
  });

  it('skips timed, cancelled and term events with a warning, never as closures', () => {
    const r = parseIcsCalendar(
      ics(
        ...event('DTSTART:20251027T090000Z', 'DTEND:20251027T100000Z', 'SUMMARY:Parents evening'),
        ...event('DTSTART;VALUE=DATE:20251027', 'STATUS:CANCELLED', 'SUMMARY:Holiday'),
        ...event('DTSTART;VALUE=DATE:20250903', 'DTEND;VALUE=DATE:20251025', 'SUMMARY:Autumn term'),
        ...event('DTSTART;VALUE=DATE:20251027', 'DTEND;VALUE=DATE:20251101', 'SUMMARY:Autumn half term'),
      ),
    );
    expect(r.warnings.map((w) => w.code)).toEqual(['timed_event', 'cancelled_event', 'term_event']);
    expect(r.closures.map((c) => c.label)).toEqual(['Autumn half term']);
  });

  it('imports only the first occurrence of a recurring event, with a warning', () => {
    const r = parseIcsCalendar(ics(...event('DTSTART;VALUE=DATE:20251027', 'RRULE:FREQ=YEARLY', 'SUMMARY:Holiday')));
    expect(r.closures).toHaveLength(1);
    expect(r.warnings).toEqual([
      {
        line: 3,
        field: 'RRULE',
        code: 'recurring_event',
        message: "event 'Holiday' repeats; only its first occurrence (2025-10-27) was imported",
      },
    ]);
  });

  it('rejects bad events with line, field and a precise message, keeping the rest', () => {
    const r = parseIcsCalendar(
      ics(
        ...event('SUMMARY:No start'), // line 3
        ...event('DTSTART;VALUE=DATE:20251332', 'SUMMARY:Bad date'), // line 6
        ...event('DTSTART;VALUE=DATE:20251027', 'DTEND;VALUE=DATE:20251020', 'SUMMARY:Backwards'), // line 10
        ...event('DTSTART;VALUE=DATE:20251027', 'DURATION:PT3H', 'SUMMARY:Hours'), // line 15
        ...event('DTSTART;VALUE=DATE:20250101', 'DTEND;VALUE=DATE:20260101', 'SUMMARY:Whole year'), // line 20
        ...event('DTSTART;VALUE=DATE:20251027', 'SUMMARY:Good'),
      ),
    );
    expect(r.errors).toEqual([
      { line: 3, field: 'DTSTART', code: 'dtstart_missing', message: "event 'No start' has no DTSTART" },
      {
        line: 7,
        field: 'DTSTART',
        code: 'dtstart_format',
        message: "DTSTART must be a date (YYYYMMDD), got '20251332'",
      },
      {
        line: 12,
        field: 'DTEND',
        code: 'end_before_start',
        message: "event 'Backwards' ends (2025-10-20) before it starts (2025-10-27)",
      },
      {
        line: 17,
        field: 'DURATION',
        code: 'duration_format',
        message: "DURATION must be whole days or weeks (e.g. P3D), got 'PT3H'",
      },
      {
        line: 20,
        field: 'DTEND',
        code: 'closure_too_long',
        message: `event 'Whole year' spans 365 days (2025-01-01 to 2025-12-31); at most ${MAX_CLOSURE_DAYS} are accepted`,
      },
    ]);
    expect(r.closures.map((c) => c.label)).toEqual(['Good']);
  });

  it('reports an event that never ends', () => {
    const r = parseIcsCalendar(ics('BEGIN:VEVENT', 'DTSTART;VALUE=DATE:20251027'));
    expect(r.errors).toEqual([
      {
        line: 3,
        field: 'VEVENT',
        code: 'unterminated_event',
        message: 'the event starting on line 3 has no END:VEVENT',
      },
    ]);
  });

  it('rejects a file with no VCALENDAR as not iCalendar, and binary as not a calendar', () => {
    expect(parseIcsCalendar(Buffer.from('BEGIN:VEVENT\nEND:VEVENT\n')).fileError).toMatchObject({
      status: 415,
      code: 'not_icalendar',
    });
    expect(parseIcsCalendar(Buffer.from([0x50, 0x4b, 0x03, 0x04])).fileError).toMatchObject({
      status: 415,
      code: 'not_csv',
    });
  });

  it('never throws on arbitrary text inside a VCALENDAR', () => {
    const line = fc.oneof(
      fc.constantFrom(
        'BEGIN:VEVENT',
        'END:VEVENT',
        'BEGIN:VALARM',
        'END:VALARM',
        'DTSTART;VALUE=DATE:20251027',
        'DTEND:20251101',
        'DURATION:P2D',
        'SUMMARY:term',
        ' folded',
        'RRULE:x',
        'DTSTART:2025',
      ),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 15 }), (ls) => {
        const r = parseIcsCalendar(ics(...ls));
        return (
          r.fileError === undefined &&
          r.closures.every((c) => c.start <= c.end) &&
          [...r.errors, ...r.warnings].every((e) => e.message.length > 0)
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('CSV calendars (start_date, end_date, label, urn; end inclusive)', () => {
  it('reads closures with the end date inclusive and an empty urn as LA-wide', () => {
    const r = csv(
      'start_date,end_date,label,urn\n2025-10-27,2025-10-31,Half term,\n2025-11-14,2025-11-14,INSET,100001\n',
    );
    expect(r).toEqual({
      closures: [
        { start: '2025-10-27', end: '2025-10-31', label: 'Half term' },
        { start: '2025-11-14', end: '2025-11-14', label: 'INSET', urn: '100001' },
      ],
      errors: [],
      warnings: [],
    });
  });

  it('matches header names in any case and order; label and urn are optional', () => {
    expect(csv('End Date,START_DATE\n2025-10-31,2025-10-27\n').closures).toEqual([
      { start: '2025-10-27', end: '2025-10-31', label: 'Closure' },
    ]);
  });

  it("applies a school's own URN to rows whose urn is empty", () => {
    const r = parseCalendarCsv(
      Buffer.from('start_date,end_date,urn\n2025-10-27,2025-10-27,\n2025-10-28,2025-10-28,100002\n'),
      { urn: '100001' },
    );
    expect(r.closures.map((c) => c.urn)).toEqual(['100001', '100002']);
  });

  it('cuts labels at the maximum length and collapses white space', () => {
    const r = csv(
      `start_date,end_date,label\n2025-10-27,2025-10-27,"  a\n  b  "\n2025-10-28,2025-10-28,${'x'.repeat(300)}\n`,
    );
    expect(r.closures.map((c) => c.label)).toEqual(['a b', 'x'.repeat(MAX_LABEL_LENGTH)]);
  });

  it('rejects bad rows with line, field and what was expected', () => {
    const r = csv(
      [
        'start_date,end_date,label,urn',
        '27/10/2025,2025-10-31,a,', // 2
        '2025-10-27,2025-02-30,b,', // 3
        '2025-10-31,2025-10-27,c,', // 4
        '2025-01-01,2025-12-31,d,', // 5
        '2025-10-27,2025-10-27,e,12345', // 6
        `2025-10-27,${addDays('2025-10-27', MAX_CLOSURE_DAYS - 1)},ok,`, // 7
      ].join('\n'),
    );
    expect(r.errors).toEqual([
      {
        line: 2,
        field: 'start_date',
        code: 'start_date_format',
        message: "start_date must be a real date written YYYY-MM-DD, got '27/10/2025'",
      },
      {
        line: 3,
        field: 'end_date',
        code: 'end_date_format',
        message: "end_date must be a real date written YYYY-MM-DD, got '2025-02-30'",
      },
      {
        line: 4,
        field: 'end_date',
        code: 'end_before_start',
        message: 'end_date 2025-10-27 is before start_date 2025-10-31 (end_date is inclusive)',
      },
      {
        line: 5,
        field: 'end_date',
        code: 'closure_too_long',
        message: `the closure spans 365 days (2025-01-01 to 2025-12-31); at most ${MAX_CLOSURE_DAYS} are accepted`,
      },
      { line: 6, field: 'urn', code: 'urn_format', message: "urn must be 6 digits or empty (LA-wide), got '12345'" },
    ]);
    expect(r.closures.map((c) => c.label)).toEqual(['ok']);
  });

  it('names the missing required columns', () => {
    expect(csv('label,urn\nHalf term,\n').fileError).toEqual({
      status: 422,
      code: 'missing_columns',
      title: 'Required columns missing',
      detail: 'the header row lacks start_date, end_date (expected start_date, end_date, label, urn)',
      errors: [
        { line: 1, field: 'start_date', code: 'missing_column', message: "required column 'start_date' is missing" },
        { line: 1, field: 'end_date', code: 'missing_column', message: "required column 'end_date' is missing" },
      ],
    });
  });

  it('rejects an empty or malformed file', () => {
    expect(csv('').fileError).toMatchObject({ status: 400, code: 'empty_file' });
    expect(csv('start_date,end_date\n"2025-10-27,2025-10-27\n').fileError).toMatchObject({
      status: 400,
      code: 'unterminated_quote',
    });
  });

  it('reads a Windows-1252 file saved from Excel', () => {
    const r = parseCalendarCsv(
      Buffer.concat([
        Buffer.from('start_date,end_date,label\n2025-10-27,2025-10-27,St Mary'),
        Buffer.from([0x92]),
        Buffer.from('s day\n'),
      ]),
    );
    expect(r.closures[0].label).toBe('St Mary\u2019s day');
  });

  it('is read as CSV by parseCalendarFile when it does not start with BEGIN:VCALENDAR', () => {
    expect(parseCalendarFile(Buffer.from('start_date,end_date\n2025-10-27,2025-10-27\n')).closures).toHaveLength(1);
  });
});
