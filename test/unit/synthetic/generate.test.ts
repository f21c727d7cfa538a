import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holidayAdjacentDays, schoolCalendar, type HolidayAdjacentDay } from '../../../shared/domain/calendar.js';
import { checkUpn } from '../../../shared/domain/upn.js';
import { englandAndWalesBankHolidays } from '../../../shared/formats/bank-holidays.js';
import { parseCalendarFile, type Closure } from '../../../shared/formats/calendar-files.js';
import { importCinCensus } from '../../../shared/formats/cin-census.js';
import { parseDailyReturnCsv } from '../../../shared/formats/daily-return-csv.js';
import { parseGiasCsv } from '../../../shared/formats/gias.js';
import { importSsda903 } from '../../../shared/formats/ssda903.js';
import {
  generateLa,
  PLANTED_COUNTS,
  type Behaviour,
  type GenerateSummary,
  type ManifestFile,
} from '../../../local/synthetic/index.js';
import { compulsorySchoolAge } from '../../../shared/domain/compulsory-school-age.js';
import {
  countLa,
  figures,
  longestUnauthorisedRun,
  peakTenWeekWindow,
  percent,
  sessionsCoded,
  type LaCount,
} from './counter.js';

const root = mkdtempSync(join(tmpdir(), 'synthetic-la-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function files(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(dir, join(prefix, e.name)) : [join(prefix, e.name)]))
    .sort();
}

function digests(dir: string): Map<string, string> {
  return new Map(
    files(dir).map((f) => [
      f,
      createHash('sha256')
        .update(readFileSync(join(dir, f)))
        .digest('hex'),
    ]),
  );
}

interface Manifest {
  to: string;
  setup: { kind: string; path: string; alternatives?: { path: string; urn?: string }[] }[];
  files: ManifestFile[];
}

interface GroundTruth {
  from: string;
  to: string;
  behaviours: Behaviour[];
  background: { kind: string; upn: string; sessions: number }[];
  skipped: { kind: string; reason: string }[];
  operations: {
    lateReturns: { urn: string; date: string; listedAfter: string }[];
    moves: { upn: string; from: string; to?: string; leaving: string; admission?: string }[];
    dualRegistrations: { upn: string; main: string; subsidiary: string; from: string }[];
    outOfAreaPupils: { upn: string; urns: string[] }[];
    care: { upn: string; kind: string; date: string }[];
  };
}

const json = <T>(dir: string, path: string): T => JSON.parse(readFileSync(join(dir, path), 'utf8')) as T;

/** A small LA over six weeks around the October half term: fast enough to generate three times. */
const TINY = { schools: 5, pupils: 500, from: '2025-10-01', to: '2025-11-14' } as const;

describe('synthetic LA: determinism', () => {
  let a: Map<string, string>;
  let b: Map<string, string>;
  let c: Map<string, string>;
  beforeAll(async () => {
    for (const [dir, seed] of [
      ['a', 'alpha'],
      ['b', 'alpha'],
      ['c', 'beta'],
    ] as const) {
      await generateLa({ ...TINY, seed, out: join(root, dir) });
    }
    a = digests(join(root, 'a'));
    b = digests(join(root, 'b'));
    c = digests(join(root, 'c'));
  });

  it('writes byte-identical files for the same seed', () => {
    expect(a.size).toBeGreaterThan(100);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [path, hash] of a) expect(b.get(path), path).toBe(hash);
  });

  it('writes a different LA for a different seed', () => {
    for (const path of ['schools.csv', 'ground-truth.json', 'social-care/header.csv'])
      expect(c.get(path), path).not.toBe(a.get(path));
    const shared = [...a.keys()].filter((p) => p.startsWith('returns/') && c.has(p));
    expect(shared.filter((p) => c.get(p) === a.get(p))).toEqual([]);
  });

  it('refuses a non-empty output directory unless asked to overwrite, and then replaces only its own files', async () => {
    await expect(generateLa({ ...TINY, seed: 'alpha', out: join(root, 'a') })).rejects.toThrow(/not empty/);
    writeFileSync(join(root, 'a', 'notes.txt'), 'kept');
    await generateLa({ ...TINY, seed: 'alpha', out: join(root, 'a'), overwrite: true });
    expect(readFileSync(join(root, 'a', 'notes.txt'), 'utf8')).toBe('kept');
    rmSync(join(root, 'a', 'notes.txt'));
    expect(digests(join(root, 'a'))).toEqual(b);
  });

  it('rejects a range that crosses 1 August', async () => {
    await expect(
      generateLa({ ...TINY, from: '2025-07-01', to: '2025-09-30', seed: 'x', out: join(root, 'bad') }),
    ).rejects.toThrow(/one academic year/);
  });
});

describe('synthetic LA: every file parses with the project parsers', () => {
  const dir = join(root, 'b');
  let manifest: Manifest;
  beforeAll(() => {
    manifest = json<Manifest>(dir, 'manifest.json');
  });

  it('the registry is a GIAS extract with primaries, secondaries, a special school, a PRU and out-of-area schools', () => {
    const r = parseGiasCsv(readFileSync(join(dir, 'schools.csv')));
    expect(r.fileError).toBeUndefined();
    expect(r.errors).toEqual([]);
    expect(new Set(r.schools.map((s) => s.phase))).toEqual(new Set(['primary', 'secondary', 'special', 'pru']));
    expect(r.schools.filter((s) => s.laCode !== '999').length).toBeGreaterThanOrEqual(2);
    expect(r.schools.filter((s) => s.laCode === '999')).toHaveLength(TINY.schools);
  });

  it('the calendar CSV and every ICS file parse without errors, and the LA-wide closures agree', () => {
    const csv = parseCalendarFile(readFileSync(join(dir, 'calendar/calendar.csv')));
    expect(csv.errors).toEqual([]);
    const calendar = manifest.setup.find((s) => s.kind === 'calendar');
    for (const alt of calendar?.alternatives ?? []) {
      const ics = parseCalendarFile(readFileSync(join(dir, alt.path)), alt.urn ? { urn: alt.urn } : {});
      expect(ics.errors, alt.path).toEqual([]);
      expect(ics.warnings, alt.path).toEqual([]);
      const fromCsv = csv.closures.filter((c) => (c.urn ?? '') === (alt.urn ?? ''));
      expect(ics.closures).toEqual(fromCsv);
    }
    expect(csv.closures.map((c) => c.label)).toEqual(
      expect.arrayContaining([
        'Autumn half term',
        'Christmas holiday',
        'Easter holiday',
        'INSET day',
        'Early May bank holiday',
      ]),
    );
  });

  it('every daily return and correction parses with zero row errors, and every UPN is valid with the LA code', () => {
    let rows = 0;
    for (const f of manifest.files) {
      const r = parseDailyReturnCsv(readFileSync(join(dir, f.path)), { today: manifest.to });
      if (!r.ok) throw new Error(`${f.path}: ${r.error.detail}`);
      expect(r.errors, f.path).toEqual([]);
      rows += r.rows.length;
      for (const row of r.rows)
        if (row.line === 2) expect(checkUpn(row.upn).ok && row.upn.slice(1, 4) === '999').toBe(true);
    }
    expect(rows).toBeGreaterThan(10_000);
  });

  it('the SSDA903 extract and the CIN census load with no rejected records', () => {
    const s = importSsda903(
      {
        header: readFileSync(join(dir, 'social-care/header.csv')),
        episodes: readFileSync(join(dir, 'social-care/episodes.csv')),
      },
      { today: manifest.to },
    );
    expect(s.errors).toEqual([]);
    expect(s.counts.records).toBeGreaterThan(0);
    const c = importCinCensus(readFileSync(join(dir, 'social-care/cin-census.xml')), { today: manifest.to });
    expect(c.errors).toEqual([]);
    expect(c.episodes.some((e) => e.cohort === 'cin')).toBe(true);
  });

  it('writes characteristics only when they change on request, and such returns still parse', async () => {
    const out = join(root, 'slim');
    const slim = await generateLa({ ...TINY, seed: 'alpha', out, characteristics: 'on-change' });
    const full = json<{ summary: GenerateSummary }>(dir, 'manifest.json').summary;
    expect(slim.bytes).toBeLessThan(full.bytes * 0.6);
    const m = json<Manifest>(out, 'manifest.json');
    for (const f of m.files.slice(0, 40)) {
      const r = parseDailyReturnCsv(readFileSync(join(out, f.path)), { today: m.to });
      expect(r.ok && r.errors.length === 0, f.path).toBe(true);
    }
  });
});

/**
 * A moderate LA from September to the February half term: big enough for the calibration
 * figures to settle (±tolerances below), small enough to generate and count in a few seconds.
 */
const MODERATE = { schools: 16, pupils: 4000, from: '2025-09-01', to: '2026-02-13', seed: 'calibration' } as const;
let moderate: Promise<{ summary: GenerateSummary; count: LaCount }> | undefined;
/** Generated and counted once, shared by the describe blocks below. */
function moderateLa(): Promise<{ summary: GenerateSummary; count: LaCount }> {
  moderate ??= generateLa({ ...MODERATE, out: join(root, 'moderate') }).then((summary) => ({
    summary,
    count: countLa(join(root, 'moderate'), { keepMarks: true }),
  }));
  return moderate;
}

describe('synthetic LA: calibrated to the DfE figures', () => {
  const dir = join(root, 'moderate');
  let count: LaCount;
  let summary: GenerateSummary;
  beforeAll(async () => {
    ({ summary, count } = await moderateLa());
  });

  const fig = (group: string) => figures(count.groups.get(group) as NonNullable<ReturnType<LaCount['groups']['get']>>);
  const code = (group: string, c: string) => {
    const g = count.groups.get(group);
    return g ? percent(g.codes[c] ?? 0, g.possible) : 0;
  };

  // [EES-YTD] 2025/26 national; [EES-CHAR] autumn 2024/25 by characteristic (local/synthetic/calibration.ts).
  it.each([
    ['overall absence (primary, secondary, special)', 'dfe_total', 'absence', 6.88, 0.7],
    ['primary absence', 'phase:primary', 'absence', 5.28, 0.6],
    ['secondary absence', 'phase:secondary', 'absence', 8.49, 0.9],
    ['special school absence', 'phase:special', 'absence', 13.17, 3],
    ['persistent absence', 'dfe_total', 'pa', 18.78, 3],
    ['severe absence', 'dfe_total', 'sa', 2.26, 1.2],
    ['FSM absence', 'fsm', 'absence', 10.0, 1.5],
    ['FSM persistent absence', 'fsm', 'pa', 31.7, 5],
    ['non-FSM absence', 'non_fsm', 'absence', 5.2, 1.0],
    ['non-FSM persistent absence', 'non_fsm', 'pa', 14.4, 3.5],
    ['EHC plan absence', 'sen_E', 'absence', 13.1, 3],
    ['EHC plan persistent absence', 'sen_E', 'pa', 35.1, 12],
    ['SEN support absence', 'sen_K', 'absence', 10.1, 1.5],
    ['SEN support persistent absence', 'sen_K', 'pa', 29.0, 6],
    ['no SEN absence', 'sen_N', 'absence', 5.8, 1.0],
    ['no SEN persistent absence', 'sen_N', 'pa', 17.0, 3.5],
  ] as const)('generates %s within the stated tolerance of the DfE figure', (_, group, measure, target, tolerance) => {
    expect(Math.abs(fig(group)[measure] - target)).toBeLessThanOrEqual(tolerance);
  });

  it('gives children in need and on protection plans far higher absence: at least twice the LA rate and PA', () => {
    const cin = fig('cin_or_cpp');
    const all = fig('dfe_total');
    expect(count.groups.get('cin_or_cpp')?.enrolments).toBeGreaterThan(20);
    expect(cin.absence).toBeGreaterThanOrEqual(2 * all.absence);
    expect(cin.pa).toBeGreaterThanOrEqual(2 * all.pa);
  });

  it.each([
    ['illness I', 'phase:primary', 'I', 2.786, 0.4],
    ['illness I', 'phase:secondary', 'I', 3.627, 0.6],
    ['medical M', 'phase:primary', 'M', 0.272, 0.1],
    ['unauthorised holiday G', 'phase:primary', 'G', 0.535, 0.25],
    ['unauthorised other O', 'phase:primary', 'O', 0.794, 0.3],
    ['unauthorised other O', 'phase:secondary', 'O', 2.608, 0.6],
    ['no reason yet N', 'dfe_total', 'N', 0.05, 0.04],
    ['late after registers closed U', 'phase:secondary', 'U', 0.296, 0.1],
    ['late before registers closed L', 'phase:primary', 'L', 1.122, 0.3],
    ['late before registers closed L', 'phase:secondary', 'L', 2.79, 0.6],
    ['exclusion E', 'phase:secondary', 'E', 0.289, 0.15],
    ['part-time timetable C2', 'dfe_total', 'C2', 0.266, 0.15],
  ] as const)('matches the DfE reason mix: %s in %s within tolerance', (_, group, c, target, tolerance) => {
    expect(Math.abs(code(group, c) - target)).toBeLessThanOrEqual(tolerance);
  });

  it('raises absence before half term and at the end of the autumn term above the start of the year', () => {
    const rate = (from: string, to: string) => {
      let possible = 0;
      let absent = 0;
      for (const [date, t] of count.byDate)
        if (date >= from && date <= to) {
          possible += t.possible;
          absent += t.absent;
        }
      return absent / possible;
    };
    const start = rate('2025-09-03', '2025-09-12');
    expect(rate('2025-10-20', '2025-10-24')).toBeGreaterThan(start * 1.25);
    expect(rate('2025-12-15', '2025-12-19')).toBeGreaterThan(start * 1.5);
  });

  it('plants at least the minimum of every behaviour at this size, and skips none', () => {
    const gt = json<GroundTruth>(dir, 'ground-truth.json');
    expect(gt.skipped).toEqual([]);
    for (const [kind, c] of Object.entries(PLANTED_COUNTS))
      expect(summary.behaviours[kind] ?? 0, kind).toBeGreaterThanOrEqual(c.min);
  });
});

describe('synthetic LA: planted behaviours are in the marks and match the definitions', () => {
  const dir = join(root, 'moderate');
  let count: LaCount;
  let gt: GroundTruth;
  let manifest: Manifest;
  let adjacency: (urn: string) => Map<string, HolidayAdjacentDay[]>;
  beforeAll(async () => {
    ({ count } = await moderateLa());
    gt = json<GroundTruth>(dir, 'ground-truth.json');
    manifest = json<Manifest>(dir, 'manifest.json');
    // Holiday-adjacent days as the domain defines them, from the calendar file and bank holidays.
    const closures: Closure[] = parseCalendarFile(readFileSync(join(dir, 'calendar/calendar.csv'))).closures;
    const cache = new Map<string, Map<string, HolidayAdjacentDay[]>>();
    adjacency = (urn) => {
      let m = cache.get(urn);
      if (!m) {
        m = new Map();
        const cal = schoolCalendar({ urn, closures, bankHolidays: englandAndWalesBankHolidays() });
        for (const d of holidayAdjacentDays(cal, gt.from, gt.to)) m.set(d.date, [...(m.get(d.date) ?? []), d]);
        cache.set(urn, m);
      }
      return m;
    };
  });

  const of = (kind: string) => gt.behaviours.filter((b) => b.kind === kind);
  const series = (upn: string) => count.byPupil.get(upn) ?? [];
  const members = (b: Behaviour) => b.members ?? [{ upn: b.upn as string, urn: b.urn as string, marks: b.marks ?? [] }];
  const ABSENCE = new Set(['C', 'C1', 'C2', 'E', 'I', 'J1', 'M', 'R', 'S', 'T', 'G', 'N', 'O', 'U']);

  it('holds every planted and control mark of the ground truth in the final marks', () => {
    let checked = 0;
    for (const b of gt.behaviours) {
      for (const m of members(b)) {
        for (const mark of m.marks) {
          const got = count.marks.get(`${m.urn}|${m.upn}|${mark.date}`);
          expect(got, `${b.id} ${b.kind} ${mark.date}`).toBeDefined();
          if (mark.am) expect(got?.[0], `${b.id} ${mark.date} AM`).toBe(mark.am);
          if (mark.pm) expect(got?.[1], `${b.id} ${mark.date} PM`).toBe(mark.pm);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('keeps near-threshold holidays at a peak of 8 or 9 unauthorised sessions in any 10 school weeks', () => {
    const planted = [...of('near_threshold_holiday'), ...of('near_threshold_holiday_repeated')];
    expect(planted.length).toBeGreaterThan(0);
    for (const b of planted)
      expect([8, 9], b.id).toContain(peakTenWeekWindow(series(b.upn as string), count.sessionDates));
    for (const b of of('near_threshold_holiday_repeated'))
      expect(sessionsCoded(series(b.upn as string), new Set(['G']))).toBeGreaterThanOrEqual(16);
  });

  it('splits holidays so the unauthorised part stays under 10 and the contiguous illness takes it to 10 or more', () => {
    for (const b of of('split_holiday_illness')) {
      expect(peakTenWeekWindow(series(b.upn as string), count.sessionDates), b.id).toBeLessThanOrEqual(9);
      const marks = b.marks ?? [];
      const g = marks.reduce((n, m) => n + (m.am === 'G' ? 1 : 0) + (m.pm === 'G' ? 1 : 0), 0);
      const i = marks.reduce((n, m) => n + (m.am === 'I' ? 1 : 0) + (m.pm === 'I' ? 1 : 0), 0);
      expect(g + i, b.id).toBeGreaterThanOrEqual(10);
      // Contiguous: consecutive school days of the school.
      const days = [...(count.sessionDates.get(b.urn as string) ?? [])].sort();
      const positions = marks.map((m) => days.indexOf(m.date));
      positions.forEach((p, k) => k > 0 && expect(p - positions[k - 1], b.id).toBe(1));
    }
  });

  it('makes every term-time holiday meet the penalty-notice threshold', () => {
    const holidays = of('term_time_holiday');
    expect(holidays.length).toBeGreaterThan(50);
    for (const b of holidays)
      expect(peakTenWeekWindow(series(b.upn as string), count.sessionDates), b.id).toBeGreaterThanOrEqual(10);
  });

  it('plants 10- and 20-school-day unauthorised runs and lets no other pupil reach 20 consecutive sessions', () => {
    const ten = new Set(of('ten_day_unauthorised').map((b) => b.upn));
    const twenty = new Set(of('twenty_day_unauthorised').map((b) => b.upn));
    for (const [upn, s] of count.byPupil) {
      const run = longestUnauthorisedRun(s);
      if (twenty.has(upn)) expect(run, upn).toBeGreaterThanOrEqual(40);
      else if (ten.has(upn)) expect(run >= 20 && run < 40, `${upn} ${run}`).toBe(true);
      else expect(run, upn).toBeLessThan(20);
    }
    expect(of('ten_day_unauthorised').some((b) => (b.marks ?? []).some((m) => m.am === 'N' || m.am === 'O'))).toBe(
      true,
    );
  });

  it('lists every pupil with 30 or more illness sessions of compulsory school age as planted long illness or as incidental', () => {
    const planted = new Set(
      of('long_illness')
        .filter((b) => b.expectFlags.includes('illness_15_days'))
        .map((b) => b.upn),
    );
    const incidental = new Set(gt.background.filter((e) => e.kind === 'illness_15_days').map((e) => e.upn));
    const capped = new Set([...of('ordinary_illness'), ...of('holiday_adjacent_illness')].map((b) => b.upn));
    // A long illness planted partly before compulsory school age may or may not reach 30 sessions with background illness.
    const allowed = new Set(
      of('long_illness')
        .filter((b) => b.mayFlag.includes('illness_15_days'))
        .map((b) => b.upn),
    );
    for (const [upn, all] of count.byPupil) {
      if (allowed.has(upn)) continue;
      // The 15-day rule counts only sessions of compulsory school age (docs/design.md §2.5).
      const dob = count.dobOf.get(upn);
      const span = dob ? compulsorySchoolAge(dob) : undefined;
      const s = span ? all.filter((x) => x.date >= span.from && x.date <= span.to) : all;
      const i = sessionsCoded(s, new Set(['I']));
      if (planted.has(upn)) expect(i, upn).toBeGreaterThanOrEqual(30);
      else if (capped.has(upn)) expect(i, upn).toBeLessThan(30);
      else expect(incidental.has(upn), `${upn} has ${i} illness sessions`).toBe(i >= 30);
    }
  });

  it('concentrates planted illness on holiday-adjacent days (as the domain defines them) next to at least three breaks', () => {
    for (const b of of('holiday_adjacent_illness')) {
      const adj = adjacency(b.urn as string);
      const breaks = new Set<string>();
      for (const m of b.marks ?? []) {
        const days = adj.get(m.date);
        expect(days, `${b.id} ${m.date}`).toBeDefined();
        for (const d of days ?? []) breaks.add(d.break.start);
      }
      expect(breaks.size, b.id).toBeGreaterThanOrEqual(3);
      expect((b.marks ?? []).length * 2, b.id).toBeGreaterThanOrEqual(8);
    }
  });

  it('gives the pupils of adjacency behaviours and controls no absence on holiday-adjacent days except what was planted', () => {
    const kinds = [
      'holiday_adjacent_illness',
      'religious_observance_adjacent',
      'exclusion_adjacent',
      'part_time_adjacent',
      'illness_spanning_break',
      'ordinary_illness',
      'long_illness',
    ];
    for (const b of gt.behaviours.filter((x) => kinds.includes(x.kind))) {
      const planted = new Set((b.marks ?? []).map((m) => m.date));
      const adj = adjacency(b.urn as string);
      for (const row of series(b.upn as string)) {
        if (!adj.has(row.date) || planted.has(row.date)) continue;
        expect(ABSENCE.has(row.am) || ABSENCE.has(row.pm), `${b.id} ${b.kind} ${row.date} ${row.am}${row.pm}`).toBe(
          false,
        );
      }
    }
    for (const b of of('illness_spanning_break')) {
      const breaks = new Set(
        (b.marks ?? []).flatMap((m) => (adjacency(b.urn as string).get(m.date) ?? []).map((d) => d.break.start)),
      );
      expect(breaks.size, b.id).toBe(1);
    }
    for (const b of of('religious_observance_adjacent'))
      expect((b.marks ?? []).every((m) => m.am === 'R' && m.pm === 'R')).toBe(true);
  });

  it('plants siblings sharing a household key at different schools, absent together on the same holiday-adjacent dates', () => {
    const families = of('family_holiday_adjacent');
    expect(families.length).toBeGreaterThan(0);
    for (const f of families) {
      const m = members(f);
      expect(m.length).toBeGreaterThanOrEqual(2);
      expect(new Set(m.map((x) => x.urn)).size).toBeGreaterThanOrEqual(2);
      const dates = m.map((x) => x.marks.map((k) => k.date).join());
      expect(new Set(dates).size, f.id).toBe(1);
      for (const x of m) {
        for (const mark of x.marks) expect(adjacency(x.urn).has(mark.date), `${f.id} ${mark.date}`).toBe(true);
        const uprnRow = readFileSync(join(dir, `returns/${x.marks[0].date}/${x.urn}.csv`), 'utf8')
          .split('\n')
          .find((l) => l.includes(x.upn));
        expect(uprnRow?.endsWith(`,${f.uprn}`), f.id).toBe(true);
      }
    }
  });

  it('makes the school that codes holidays as illness the outlier in illness on holiday-adjacent days against other days', () => {
    const coding = of('school_codes_holiday_as_illness').map((b) => b.urn as string);
    expect(coding.length).toBeGreaterThan(0);
    // Per school: illness share of possible sessions on holiday-adjacent days and on other days.
    const tally = new Map<string, number[]>();
    for (const s of count.byPupil.values()) {
      for (const row of s) {
        let t = tally.get(row.urn);
        if (!t) tally.set(row.urn, (t = [0, 0, 0, 0]));
        const adj = adjacency(row.urn).has(row.date) ? 0 : 2;
        for (const c of [row.am, row.pm]) {
          if (!ABSENCE.has(c) && !['/', '\\', 'L', 'K', 'V', 'P', 'W', 'B'].includes(c)) continue;
          t[adj + 1]++;
          if (c === 'I') t[adj]++;
        }
      }
    }
    const ratio = new Map<string, number>();
    for (const [urn, [ai, ap, oi, op]] of tally) if (ap > 500 && oi > 0) ratio.set(urn, ai / ap / (oi / op));
    const sorted = [...ratio.values()].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)];
    for (const urn of coding) {
      expect(ratio.get(urn), urn).toBe(Math.max(...ratio.values()));
      expect(ratio.get(urn) as number).toBeGreaterThan(1.5 * median);
    }
  });

  it("lists corrections after the day they correct and a late return after the next day's returns", () => {
    const position = new Map<string, number>();
    manifest.files.forEach((f, i) => {
      if (f.kind !== 'correction') position.set(`${f.urn}|${f.date}`, i);
    });
    const corrections = manifest.files.map((f, i) => ({ f, i })).filter((x) => x.f.kind === 'correction');
    expect(corrections.length).toBeGreaterThan(20);
    for (const { f, i } of corrections) {
      for (const d of f.dates ?? []) expect(position.get(`${f.urn}|${d}`) ?? Infinity, f.path).toBeLessThan(i);
      // A correction turns an N into the reason found later.
      const text = readFileSync(join(dir, f.path), 'utf8');
      expect(text.split('\n').length).toBeGreaterThan(1);
    }
    const late = manifest.files.map((f, i) => ({ f, i })).filter((x) => x.f.kind === 'late');
    expect(late.length).toBeGreaterThan(0);
    for (const { f, i } of late) {
      const next = manifest.files.findIndex((x) => x.kind === 'daily' && x.date === f.listedAfter);
      expect(f.listedAfter && f.listedAfter > f.date).toBe(true);
      expect(next).toBeGreaterThanOrEqual(0);
      expect(next).toBeLessThan(i);
    }
    expect(gt.operations.lateReturns).toHaveLength(late.length);
  });

  it("has the Virtual School send the out-of-area schools' returns, holding only looked-after children", () => {
    const vsh = manifest.files.filter((f) => f.role === 'vsh');
    expect(vsh.length).toBeGreaterThan(0);
    for (const f of vsh.slice(0, 50)) {
      const lines = readFileSync(join(dir, f.path), 'utf8').trim().split('\n');
      const cla = lines[0].split(',').indexOf('cla');
      for (const l of lines.slice(1)) expect(l.split(',')[cla], f.path).toBe('Y');
    }
    expect(new Set(vsh.map((f) => f.urn)).size).toBeGreaterThanOrEqual(2);
  });

  it('marks dual-registered pupils D at one school whenever the other holds the session', () => {
    expect(gt.operations.dualRegistrations.length).toBeGreaterThan(0);
    const NOT_POSSIBLE = new Set(['D', '#', 'X']);
    for (const d of gt.operations.dualRegistrations) {
      const byDate = new Map<string, string[][]>();
      for (const row of series(d.upn)) byDate.set(row.date, [...(byDate.get(row.date) ?? []), [row.am, row.pm]]);
      let both = 0;
      for (const [date, rows] of byDate) {
        // INSET days: a school may send `#` rows or nothing.
        if (date < d.from || rows.every((r) => r[0] === '#')) continue;
        expect(rows.length, `${d.upn} ${date}`).toBe(2);
        both++;
        for (const s of [0, 1])
          expect(rows.filter((r) => !NOT_POSSIBLE.has(r[s])).length, `${d.upn} ${date}`).toBeLessThanOrEqual(1);
        expect(
          rows.some((r) => r[0] === 'D' && r[1] === 'D'),
          `${d.upn} ${date}`,
        ).toBe(true);
      }
      expect(both).toBeGreaterThan(0);
    }
  });

  it('moves pupils between schools: rows end on the leaving date at one and start on the admission date at the next', () => {
    const moves = gt.operations.moves.filter((m) => m.to);
    expect(moves.length).toBeGreaterThan(10);
    for (const m of moves) {
      const s = series(m.upn);
      const before = s.filter((r) => r.urn === m.from);
      const after = s.filter((r) => r.urn === m.to);
      expect(before.at(-1)?.date, m.upn).toBe(m.leaving);
      expect(after[0]?.date, m.upn).toBe(m.admission);
      expect(s.every((r) => r.date <= m.leaving || r.date >= (m.admission as string))).toBe(true);
    }
  });

  it('marks part-time Reception afternoons X and no other year group', () => {
    let x = 0;
    for (const f of manifest.files.filter((f) => f.date <= '2025-09-10' && f.kind === 'daily')) {
      const lines = readFileSync(join(dir, f.path), 'utf8').trim().split('\n');
      const head = lines[0].split(',');
      const [pm, yg] = [head.indexOf('pm'), head.indexOf('year_group')];
      for (const l of lines.slice(1)) {
        const c = l.split(',');
        if (c[pm] === 'X') {
          x++;
          expect(c[yg]).toBe('R');
        }
      }
    }
    expect(x).toBeGreaterThan(0);
  });

  it('records children entering and leaving care during the range in the social-care files', () => {
    const kinds = new Set(gt.operations.care.map((c) => c.kind));
    expect(kinds.has('cla_start') || kinds.has('cla_end')).toBe(true);
    expect(kinds.has('cin_referral') || kinds.has('cpp_start')).toBe(true);
    const s = importSsda903(
      {
        header: readFileSync(join(dir, 'social-care/header.csv')),
        episodes: readFileSync(join(dir, 'social-care/episodes.csv')),
      },
      { today: gt.to },
    );
    expect(s.errors).toEqual([]);
    const inRange = (d?: string) => d !== undefined && d >= gt.from && d <= gt.to;
    expect(s.episodes.some((e) => e.cohort === 'cla' && (inRange(e.start) || inRange(e.end)))).toBe(true);
  });
});
