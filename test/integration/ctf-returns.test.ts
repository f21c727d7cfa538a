/**
 * CTF returns through the same ingest as the daily CSV (docs/design.md §6, issue 6):
 * - round trip: two school years of a realistic class, sent once as daily-return CSVs by one
 *   school and once as CTFs (written by shared/formats/ctf.ts) by another, give the same figures
 *   for every pupil (GET /v1/pupils/{upn}), code by code;
 * - bad CTFs (totals that disagree with the marks, a DTD, an entity, a truncated file) are each a
 *   precise rejection, and the raw file is kept where it can be fetched again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODE_OF_CHAR, MARK_CHAR, UNMARKED } from '../../shared/domain/codes.js';
import { addDays, isWeekend } from '../../shared/domain/dates.js';
import type { CtfSchool } from '../../shared/formats/ctf.js';
import { writeCtf } from '../support/ctf-writer.js';
import type { ReturnRow } from '../../shared/formats/daily-return-csv.js';
import { getBlob } from '../../shared/store/blobs.js';
import { paths } from '../../shared/store/keys.js';
import { DEFAULT_NAMES } from '../../shared/config.js';
import { returnCsv, upnFor, type ReturnRowInput } from '../support/returns.js';
import { startTestService, type TestService } from './harness.js';

// ---------------------------------------------------------------------------------------------
// A realistic class: 30 pupils over 2023/24 (legacy code set) and 2024/25 (2024 code set).

const CSV_SCHOOL = { urn: '200001', lea: '999', estab: '2001', name: 'Csv Primary' } satisfies CtfSchool;
const CTF_SCHOOL = { urn: '200002', lea: '999', estab: '3001', name: 'Ctf Primary' } satisfies CtfSchool;
const PUPILS = 30;

/** Holidays and INSET days (no rows at all), inclusive ranges. */
const CLOSED: Record<number, Array<[string, string]>> = {
  2023: [
    ['2023-08-01', '2023-09-04'],
    ['2023-10-30', '2023-11-03'],
    ['2023-12-21', '2024-01-03'],
    ['2024-02-12', '2024-02-16'],
    ['2024-03-29', '2024-04-12'],
    ['2024-05-06', '2024-05-06'],
    ['2024-05-27', '2024-05-31'],
    ['2024-07-22', '2024-07-31'],
  ],
  2024: [
    ['2024-08-01', '2024-09-02'],
    ['2024-10-28', '2024-11-01'],
    ['2024-12-23', '2025-01-06'],
    ['2025-02-17', '2025-02-21'],
    ['2025-04-07', '2025-04-21'],
    ['2025-05-05', '2025-05-05'],
    ['2025-05-26', '2025-05-30'],
    ['2025-07-23', '2025-07-31'],
  ],
};

function schoolDaysOf(year: number): string[] {
  const out: string[] = [];
  for (let d = `${year}-08-01`; d <= `${year + 1}-07-31`; d = addDays(d, 1)) {
    if (isWeekend(d)) continue;
    if (CLOSED[year].some(([a, b]) => d >= a && d <= b)) continue;
    out.push(d);
  }
  return out;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, weighted: Array<[T, number]>): T {
  const total = weighted.reduce((s, [, w]) => s + w, 0);
  let r = rand() * total;
  for (const [v, w] of weighted) if ((r -= w) < 0) return v;
  return weighted[weighted.length - 1][0];
}

const ABSENCE_2024: Array<[string, number]> = [
  ['I', 40],
  ['M', 10],
  ['C', 4],
  ['C1', 2],
  ['C2', 3],
  ['J1', 1],
  ['E', 2],
  ['R', 2],
  ['S', 1],
  ['T', 1],
  ['G', 8],
  ['N', 8],
  ['O', 8],
  ['U', 5],
];
const ABSENCE_2023: Array<[string, number]> = [
  ['I', 40],
  ['M', 10],
  ['C', 4],
  ['H', 3],
  ['F', 2],
  ['E', 2],
  ['R', 2],
  ['S', 1],
  ['T', 1],
  ['G', 8],
  ['N', 8],
  ['O', 8],
  ['U', 5],
];
const OTHER_2024: Array<[string, number]> = [
  ['K', 2],
  ['V', 2],
  ['P', 1],
  ['W', 1],
  ['B', 1],
  ['D', 1],
  ['Q', 1],
  ['X', 1],
  ['Y1', 1],
  ['Y2', 1],
  ['Y3', 1],
  ['Y4', 1],
  ['Y5', 1],
  ['Y6', 1],
  ['Y7', 1],
  ['L', 6],
];
const OTHER_2023: Array<[string, number]> = [
  ['V', 2],
  ['P', 1],
  ['W', 1],
  ['B', 1],
  ['D', 1],
  ['X', 1],
  ['J', 2],
  ['Y', 2],
  ['L', 6],
];
const YEAR_GROUPS = ['R', '1', '2', '3', '4', '5', '6'];
const PREVIOUS_YEAR_GROUP: Record<string, string> = {
  R: 'N2',
  '1': 'R',
  '2': '1',
  '3': '2',
  '4': '3',
  '5': '4',
  '6': '5',
};

/** Marks and details of pupil `i` (0-based) for one academic year, as daily-return rows (stored mark characters). */
function pupilYear(i: number, year: number, school: CtfSchool): ReturnRow[] {
  const rand = mulberry32(1000 * year + i);
  const upn = upnFor(i + 1, school.lea, school.estab);
  let days = schoolDaysOf(year);
  // A joiner in January, a leaver at Easter (2024/25), a pupil who arrived only in 2024/25.
  if (year === 2024 && i === 10) days = days.filter((d) => d >= '2025-01-07');
  if (year === 2024 && i === 11) days = days.filter((d) => d <= '2025-04-04');
  if (year === 2023 && i === 12) return [];
  // Absence propensity from 1% to 60% (pupil 0 is severely absent).
  const absence = i === 0 ? 0.6 : 0.01 + ((i * 7) % 29) / 100;
  const absenceCodes = year === 2024 ? ABSENCE_2024 : ABSENCE_2023;
  const otherCodes = year === 2024 ? OTHER_2024 : OTHER_2023;
  const yearGroup = year === 2024 ? YEAR_GROUPS[i % 7] : PREVIOUS_YEAR_GROUP[YEAR_GROUPS[i % 7]];
  const rows: ReturnRow[] = [];
  days.forEach((date, k) => {
    const session = (pm: boolean): string => {
      // Special pupils: a term-time holiday (penalty-notice threshold), 12 days with no contact, long illness.
      if (i === 7 && year === 2024 && date >= '2025-03-10' && date <= '2025-03-14') return 'G';
      if (i === 8 && year === 2024 && k >= 40 && k < 52) return 'N';
      if (i === 9 && date >= `${year + 1}-01-13` && date <= `${year + 1}-02-07`) return 'I';
      // The last afternoon of the year is not yet marked for a few pupils; the Christmas half day is closed.
      if (pm && date === days[days.length - 1] && i % 5 === 0) return '-';
      if (pm && (date === '2024-12-20' || date === '2023-12-20')) return '#';
      const r = rand();
      if (r < absence) return pick(rand, absenceCodes);
      if (r < absence + 0.04) return pick(rand, otherCodes);
      return pm ? '\\' : '/';
    };
    const am = session(false);
    const pm = session(true);
    const row: ReturnRow = {
      line: 0,
      urn: school.urn,
      upn,
      date,
      am: am === '-' ? UNMARKED : MARK_CHAR[am],
      pm: pm === '-' ? UNMARKED : MARK_CHAR[pm],
      forename: `Pupil${i + 1}`,
      surname: i === 4 ? "O'Neil & Sons" : `Family${i + 1}`,
      dob: `${2018 - (i % 7)}-0${1 + (i % 9)}-1${i % 10}`,
      sex: i % 2 === 0 ? 'F' : 'M',
      ethnicity: i % 3 === 0 ? 'WBRI' : 'ASIA',
      yearGroup,
    };
    if (i % 4 === 0) row.fsm = i === 4 ? date >= `${year + 1}-01-07` : true;
    if (i % 3 === 0) row.sen = i === 6 && date >= `${year + 1}-03-01` ? 'E' : i === 6 ? 'K' : 'N';
    if (i === 3) row.cla = true;
    rows.push(row);
  });
  return rows;
}

/** Which half term of 2024/25 a school day is in (the start of the holiday that ends it). */
function halfTermOf(date: string): string {
  return CLOSED[2024].map(([start]) => start).find((start) => start > date) ?? 'end';
}

function schoolRows(year: number, school: CtfSchool): ReturnRow[] {
  const rows: ReturnRow[] = [];
  for (let i = 0; i < PUPILS; i++) rows.push(...pupilYear(i, year, school));
  return rows;
}

/** A daily-return CSV row (codes as written by a school, flags Y/N). */
function csvRow(r: ReturnRow): ReturnRowInput {
  const out: ReturnRowInput = {
    urn: r.urn,
    upn: r.upn,
    date: r.date,
    am: r.am === UNMARKED ? '' : CODE_OF_CHAR[r.am],
    pm: r.pm === UNMARKED ? '' : CODE_OF_CHAR[r.pm],
  };
  for (const [field, column] of [
    ['forename', 'forename'],
    ['surname', 'surname'],
    ['dob', 'dob'],
    ['sex', 'sex'],
    ['ethnicity', 'ethnicity'],
    ['yearGroup', 'year_group'],
  ] as const) {
    if (r[field] !== undefined) out[column] = r[field];
  }
  for (const flag of ['fsm', 'cla'] as const) if (r[flag] !== undefined) out[flag] = r[flag] ? 'Y' : 'N';
  if (r.sen !== undefined) out.sen = r.sen;
  return out;
}

// ---------------------------------------------------------------------------------------------

let svc: TestService;
let csvToken: string;
let ctfToken: string;

beforeAll(async () => {
  svc = await startTestService();
  csvToken = await svc.token('school', { urn: CSV_SCHOOL.urn });
  ctfToken = await svc.token('school', { urn: CTF_SCHOOL.urn });
});
afterAll(async () => svc?.stop());

async function returnStatus(returnId: string, token: string) {
  const res = await svc.request('GET', `/v1/returns/${returnId}`, { token });
  expect(res.status).toBe(200);
  return res.json();
}

/** A pupil view with the school and UPN replaced, so two schools' views can be compared. */
async function pupilView(n: number, school: CtfSchool, token: string, year: number) {
  const upn = upnFor(n, school.lea, school.estab);
  const res = await svc.request('GET', `/v1/pupils/${upn}?academicYear=${year}`, { token });
  if (res.status !== 200) return { status: res.status };
  return JSON.parse(res.text.split(upn).join('UPN').split(school.urn).join('URN'));
}

describe('CTF round trip: the same school years as daily CSVs and as CTFs give the same pupil figures', () => {
  beforeAll(async () => {
    // The CSV school sends its registers as daily-return CSVs, as a school joining mid-stream would:
    // 2023/24 as one back-fill, 2024/25's first fortnight one file a day, then a file per half term.
    // (Every file goes through the whole ingest, ~0.3 s each here, so not 380 daily files.)
    for (const year of [2023, 2024]) {
      const batches = new Map<string, ReturnRow[]>();
      for (const r of schoolRows(year, CSV_SCHOOL)) {
        const key = year === 2023 ? 'year' : r.date <= '2024-09-13' ? r.date : halfTermOf(r.date);
        batches.set(key, [...(batches.get(key) ?? []), r]);
      }
      for (const rows of batches.values()) {
        const res = await svc.request('POST', '/v1/returns', {
          token: csvToken,
          body: returnCsv(rows.map(csvRow)),
          contentType: 'text/csv',
        });
        expect(res.status).toBe(202);
      }
    }
    // The CTF school sends each year once, as a CTF.
    for (const year of [2023, 2024]) {
      const xml = writeCtf(schoolRows(year, CTF_SCHOOL), {
        school: CTF_SCHOOL,
        dateTime: `${year + 1}-07-31T16:00:00`,
      });
      const res = await svc.request('POST', '/v1/returns', {
        token: ctfToken,
        body: xml,
        contentType: 'application/xml',
      });
      expect(res.status).toBe(202);
      const st = await (async () => {
        await svc.settle();
        return returnStatus(res.json().returnId, ctfToken);
      })();
      expect(st).toMatchObject({ status: 'accepted', format: 'ctf', errors: [] });
      expect(st.counts.accepted).toBe(schoolRows(year, CTF_SCHOOL).length);
    }
    await svc.settle();
  }, 240_000);

  it('gives every pupil the same figures, enrolment stats, PA/SA, cohorts and flags in both years', async () => {
    for (const year of [2023, 2024]) {
      for (let n = 1; n <= PUPILS; n++) {
        const viaCsv = await pupilView(n, CSV_SCHOOL, csvToken, year);
        const viaCtf = await pupilView(n, CTF_SCHOOL, ctfToken, year);
        // Pupil 13 arrived in 2024/25: neither school has a 2023/24 record of them.
        expect(viaCsv.status ?? 200, `pupil ${n} in ${year}`).toBe(year === 2023 && n === 13 ? 404 : 200);
        expect({ n, year, ...viaCtf }).toEqual({ n, year, ...viaCsv });
      }
    }
  });

  it('has figures worth comparing: severe absence, persistent absence and statutory flags occur', async () => {
    const sa = await pupilView(1, CTF_SCHOOL, ctfToken, 2024);
    expect(sa.severeAbsence).toBe(true);
    const views = await Promise.all(
      Array.from({ length: PUPILS }, (_, i) => pupilView(i + 1, CTF_SCHOOL, ctfToken, 2024)),
    );
    const pa = views.filter((v) => v.persistentAbsence).length;
    expect(pa).toBeGreaterThan(3);
    expect(pa).toBeLessThan(PUPILS);
    const flags = new Set(views.flatMap((v) => (v.flags ?? []).map((f: { type: string }) => f.type)));
    expect(flags).toContain('persistent_absence');
    expect(flags).toContain('at_risk_pa');
  });

  it('counts the 2024 two-character codes (C1, C2, J1, Y1–Y7) from a CTF under their own names', async () => {
    const codes: Record<string, number> = {};
    for (let n = 1; n <= PUPILS; n++) {
      const v = await pupilView(n, CTF_SCHOOL, ctfToken, 2024);
      for (const [c, k] of Object.entries(v.totals?.codes ?? {})) codes[c] = (codes[c] ?? 0) + (k as number);
    }
    for (const c of ['C1', 'C2', 'J1', 'Y1', 'Y2', 'Y3', 'Y4', 'Y5', 'Y6', 'Y7'])
      expect(codes[c], c).toBeGreaterThan(0);
    for (const c of ['H', 'F', 'J', 'Y']) expect(codes[c], c).toBeUndefined();
  });

  it('counts the legacy codes (H, F, J, Y) of a 2023/24 CTF', async () => {
    const codes: Record<string, number> = {};
    for (let n = 1; n <= PUPILS; n++) {
      const v = await pupilView(n, CTF_SCHOOL, ctfToken, 2023);
      for (const [c, k] of Object.entries(v.totals?.codes ?? {})) codes[c] = (codes[c] ?? 0) + (k as number);
    }
    for (const c of ['H', 'F', 'J', 'Y']) expect(codes[c], c).toBeGreaterThan(0);
  });

  it("shows a CTF pupil's sessions day by day with the two-character codes written in full", async () => {
    const upn = upnFor(2, CTF_SCHOOL.lea, CTF_SCHOOL.estab);
    const res = await svc.request('GET', `/v1/pupils/${upn}/sessions?from=2024-09-01&to=2025-07-31`, {
      token: ctfToken,
    });
    expect(res.status).toBe(200);
    const expected = pupilYear(1, 2024, CTF_SCHOOL).flatMap((r) => [
      { date: r.date, session: 'AM', code: r.am === UNMARKED ? null : CODE_OF_CHAR[r.am], urn: CTF_SCHOOL.urn },
      { date: r.date, session: 'PM', code: r.pm === UNMARKED ? null : CODE_OF_CHAR[r.pm], urn: CTF_SCHOOL.urn },
    ]);
    expect(res.json().sessions).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// Bad CTFs: each a precise rejection, the raw file kept.

const BAD_SCHOOL = { urn: '200003', lea: '999', estab: '4001', name: 'Bad Files Academy' } satisfies CtfSchool;

function smallCtf(pupils: number[]): string {
  const rows = pupils.flatMap((i) => pupilYear(i, 2024, BAD_SCHOOL).filter((r) => r.date <= '2024-10-25'));
  return writeCtf(rows, { school: BAD_SCHOOL, dateTime: '2024-10-25T16:00:00' });
}

/** The 1-based line of the n-th (0-based) occurrence of `needle`. */
function lineOf(text: string, needle: string, n = 0): number {
  let at = -1;
  for (let k = 0; k <= n; k++) at = text.indexOf(needle, at + 1);
  return text.slice(0, at).split('\n').length;
}

describe('CTF rejections are precise and the raw file is kept', () => {
  let token: string;
  beforeAll(async () => {
    token = await svc.token('school', { urn: BAD_SCHOOL.urn });
  });

  async function post(body: string) {
    const res = await svc.request('POST', '/v1/returns', { token, body, contentType: 'application/xml' });
    await svc.settle();
    return res;
  }

  it('rejects only the pupil-year whose SessionsPossible disagrees with its marks, naming the pupil, the total, stated and counted', async () => {
    const good = smallCtf([1, 2]);
    // The second pupil's stated possible sessions, one too many.
    const at = good.indexOf('<SessionsPossible>', good.indexOf('<SessionsPossible>') + 1);
    const stated = Number(/<SessionsPossible>(\d+)</.exec(good.slice(at))![1]);
    const bad = `${good.slice(0, at)}<SessionsPossible>${stated + 1}${good.slice(good.indexOf('</SessionsPossible>', at))}`;
    const res = await post(bad);
    expect(res.status).toBe(202);
    const { returnId } = res.json();
    const st = await returnStatus(returnId, token);
    const days = pupilYear(1, 2024, BAD_SCHOOL).filter((r) => r.date <= '2024-10-25').length;
    expect(st.status).toBe('accepted_with_errors');
    expect(st.counts).toEqual({ rows: 2 * days, accepted: days, rejected: 1 });
    expect(st.errors).toEqual([
      {
        line: lineOf(bad, '<YearData>', 1),
        field: 'SessionsPossible',
        code: 'ctf_totals_mismatch',
        message: expect.stringMatching(
          new RegExp(
            `pupil ${upnFor(3, '999', '4001')} .*SessionsPossible is stated as ${stated + 1} but the marks count ${stated}; the year's ${days} days of marks are not loaded`,
          ),
        ),
      },
    ]);
    // The file is kept as received, beside the other returns.
    const kept = await getBlob(DEFAULT_NAMES.returnsBucket, paths.rawReturn(BAD_SCHOOL.urn, returnId, 'xml'));
    expect(kept?.body.toString('utf8')).toBe(bad);
    // The good pupil is loaded; the other is not.
    expect(
      (await svc.request('GET', `/v1/pupils/${upnFor(2, '999', '4001')}?academicYear=2024`, { token })).status,
    ).toBe(200);
    expect(
      (await svc.request('GET', `/v1/pupils/${upnFor(3, '999', '4001')}?academicYear=2024`, { token })).status,
    ).toBe(404);
  });

  it('marks the return rejected when every pupil-year disagrees with its totals (SessionsAttended here)', async () => {
    const good = smallCtf([5]);
    const bad = good.replace(/<SessionsAttended>(\d+)</, (_, n: string) => `<SessionsAttended>${Number(n) - 2}<`);
    const res = await post(bad);
    expect(res.status).toBe(202);
    const st = await returnStatus(res.json().returnId, token);
    expect(st.status).toBe('rejected');
    expect(st.counts.accepted).toBe(0);
    expect(st.errors).toHaveLength(1);
    expect(st.errors[0]).toMatchObject({
      field: 'SessionsAttended',
      code: 'ctf_totals_mismatch',
      line: lineOf(bad, '<YearData>'),
    });
    const kept = await getBlob(DEFAULT_NAMES.returnsBucket, paths.rawReturn(BAD_SCHOOL.urn, st.returnId, 'xml'));
    expect(kept?.body.toString('utf8')).toBe(bad);
  });

  const doorCases: Array<{
    name: string;
    make: (good: string) => string;
    status: number;
    code: string;
    detail: RegExp;
  }> = [
    {
      name: 'a DOCTYPE with an external entity',
      make: (g) => g.replace('<CTfile>', '<!DOCTYPE CTfile [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<CTfile>'),
      status: 400,
      code: 'xml_doctype',
      detail: /line 2/,
    },
    {
      name: 'an entity reference other than the five predefined ones',
      make: (g) => g.replace(/<Surname>[^<]*<\/Surname>/, '<Surname>&xxe;</Surname>'),
      status: 400,
      code: 'xml_entity',
      detail: /&xxe;.*line \d+/,
    },
    {
      name: 'a file truncated in the middle of a pupil',
      make: (g) => g.slice(0, g.indexOf('</AttendanceMarks>') - 10),
      status: 400,
      code: 'xml_truncated',
      detail: /before <\w+> opened on line \d+ is closed/,
    },
  ];

  for (const c of doorCases) {
    it(`refuses ${c.name} at the door (${c.status} ${c.code}) and keeps the file and its report in quarantine`, async () => {
      const body = c.make(smallCtf([6]));
      const res = await post(body);
      expect(res.status).toBe(c.status);
      expect(res.headers['content-type']).toContain('application/problem+json');
      const p = res.json();
      expect(p.code).toBe(c.code);
      expect(p.detail).toMatch(c.detail);
      const st = await returnStatus(p.returnId, token);
      expect(st).toMatchObject({ status: 'rejected', format: 'ctf', rejection: { detail: p.detail } });
      const kept = await getBlob(DEFAULT_NAMES.quarantineBucket, paths.quarantined(BAD_SCHOOL.urn, p.returnId, 'xml'));
      expect(kept?.body.toString('utf8')).toBe(body);
      const report = await getBlob(DEFAULT_NAMES.quarantineBucket, paths.quarantineReport(BAD_SCHOOL.urn, p.returnId));
      expect(JSON.parse(report!.body.toString('utf8')).error).toMatchObject({ status: c.status, code: c.code });
    });
  }

  it('gives a truncated CTF sent by presigned upload the same rejection in ingest, and quarantines it', async () => {
    const body = smallCtf([7]);
    const truncated = body.slice(0, body.indexOf('</Pupil>'));
    const presign = await svc.request('POST', '/v1/returns/uploads', {
      token,
      body: { urn: BAD_SCHOOL.urn, format: 'ctf', bytes: Buffer.byteLength(truncated) },
    });
    expect(presign.status).toBe(201);
    const { returnId, uploadUrl, headers } = presign.json();
    const put = await fetch(uploadUrl, { method: 'PUT', headers, body: truncated });
    expect(put.status).toBe(200);
    await svc.settle();
    const st = await returnStatus(returnId, token);
    expect(st.status).toBe('rejected');
    expect(st.rejection.detail).toMatch(/before <Pupil> opened on line \d+ is closed/);
    const kept = await getBlob(DEFAULT_NAMES.quarantineBucket, paths.quarantined(BAD_SCHOOL.urn, returnId, 'xml'));
    expect(kept?.body.toString('utf8')).toBe(truncated);
  });

  it("refuses a CTF whose source school is not the uploader's with 403, quarantined", async () => {
    const other = writeCtf(
      pupilYear(8, 2024, CSV_SCHOOL).filter((r) => r.date <= '2024-09-30'),
      { school: CSV_SCHOOL },
    );
    const res = await post(other);
    expect(res.status).toBe(403);
    expect(res.json().detail).toMatch(/200001/);
  });
});
