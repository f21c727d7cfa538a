/**
 * Large uploads (docs/design.md §4 POST /v1/returns/uploads): a whole-year back-fill of a large secondary
 * school (~50 MB of daily-return CSV) goes up through a presigned S3 PUT (s3rver here), and the
 * object goes through exactly the same receive → queue → ingest path as a direct upload, its
 * progress visible in GET /v1/returns/{returnId}.
 *
 * The file is built in a temporary file, not held as a string: ~380,000 rows. The whole test takes
 * tens of seconds on a 2-core machine (the time from PUT to "accepted" is printed, not asserted).
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, isWeekend } from '../../shared/domain/dates.js';
import { upnFor } from '../support/returns.js';
import { startTestService, type TestService } from './harness.js';

const URN = '300001';
const PUPILS = 2000;
/** 2025/26 holidays (Sheffield's published dates): no rows on these days. */
const HOLIDAYS: Array<[string, string]> = [
  ['2025-10-25', '2025-11-02'],
  ['2025-12-20', '2026-01-04'],
  ['2026-02-14', '2026-02-22'],
  ['2026-03-28', '2026-04-12'],
  ['2026-05-02', '2026-05-04'],
  ['2026-05-23', '2026-05-31'],
];
const BAD_ROWS = 3;

function schoolDays(): string[] {
  const out: string[] = [];
  for (let d = '2025-09-01'; d <= '2026-07-20'; d = addDays(d, 1)) {
    if (!isWeekend(d) && !HOLIDAYS.some(([a, b]) => d >= a && d <= b)) out.push(d);
  }
  return out;
}

function upnOf(n: number): string {
  return upnFor(n % 1000, '999', '5001', String(10 + Math.floor(n / 1000)));
}

/** Pupil n is absent (I) on school day k when this says so: pupil 0 every fifth day, others rarely. */
function absent(n: number, k: number): boolean {
  return n === 0 ? k % 5 === 0 : (n * 31 + k * 17) % 97 === 0;
}

let svc: TestService;
let token: string;
let dir: string;
let file: string;
let rows = 0;
const badLines: number[] = [];
const days = schoolDays();

/** Write the back-fill: one row per pupil per school day, every DfE daily-data column, a few bad UPNs. */
async function writeBackfill(path: string): Promise<void> {
  const out = createWriteStream(path);
  const write = (s: string) =>
    out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r()));
  await write(
    'urn,upn,date,am,pm,forename,surname,dob,sex,ethnicity,year_group,fsm,sen,cla,plac,cin,cpp,admission_date,registration,uprn\n',
  );
  let line = 1;
  let chunk = '';
  for (let k = 0; k < days.length; k++) {
    for (let n = 0; n < PUPILS; n++) {
      line++;
      rows++;
      let upn = upnOf(n);
      // A few rows with a wrong check letter, far into the file: reported by line, the rest applied.
      if (k === days.length - 1 && n < BAD_ROWS) {
        upn = `${upn[0] === 'A' ? 'B' : 'A'}${upn.slice(1)}`;
        badLines.push(line);
      }
      const mark = absent(n, k) ? 'I' : null;
      const yearGroup = 7 + (n % 5);
      chunk += `${URN},${upn},${days[k]},${mark ?? '/'},${mark ?? '\\'},Forename${n}-Ann,Surname${n}-Fitzgerald,${2025 - yearGroup - 5}-0${1 + (n % 9)}-1${n % 10},${n % 2 ? 'M' : 'F'},WBRI,${yearGroup},${n % 4 ? 'N' : 'Y'},${n % 7 ? 'N' : 'K'},N,N,N,N,2021-09-01,C,10001${String(n).padStart(7, '0')}\n`;
    }
    await write(chunk);
    chunk = '';
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'large-upload-'));
  file = join(dir, 'backfill-2025.csv');
  await writeBackfill(file);
  svc = await startTestService();
  token = await svc.token('school', { urn: URN });
}, 120_000);

afterAll(async () => {
  await svc?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a 50 MB back-fill through a presigned upload', () => {
  let returnId: string;

  it('is refused on POST /v1/returns (over 4 MB) with a pointer to the presigned upload', async () => {
    const res = await svc.request('POST', '/v1/returns', {
      token,
      body: readFileSync(file).subarray(0, 4 * 1024 * 1024 + 1),
      contentType: 'text/csv',
    });
    expect(res.status).toBe(413);
    expect(res.json().detail).toMatch(/\/v1\/returns\/uploads/);
  });

  it('goes up through the presigned PUT and is applied by the same ingest, its status visible throughout', async () => {
    const bytes = statSync(file).size;
    expect(bytes).toBeGreaterThan(50_000_000);
    const presign = await svc.request('POST', '/v1/returns/uploads', {
      token,
      body: { urn: URN, format: 'csv', bytes },
    });
    expect(presign.status).toBe(201);
    const body = presign.json();
    returnId = body.returnId;
    expect(body.method).toBe('PUT');
    expect((await svc.request('GET', `/v1/returns/${returnId}`, { token })).json().status).toBe('awaiting_upload');

    const started = Date.now();
    const put = await fetch(body.uploadUrl, {
      method: 'PUT',
      headers: { ...body.headers, 'content-length': String(bytes) },
      body: readFileSync(file),
    });
    expect(put.status).toBe(200);
    const uploaded = Date.now();
    await svc.settle();
    console.log(
      `large upload: ${(bytes / 1024 / 1024).toFixed(1)} MB, ${rows} rows; PUT ${uploaded - started} ms, PUT to final status ${Date.now() - started} ms`,
    );

    const st = (await svc.request('GET', `/v1/returns/${returnId}`, { token })).json();
    expect(st).toMatchObject({
      status: 'accepted_with_errors',
      format: 'csv',
      counts: { rows, accepted: rows - BAD_ROWS, rejected: BAD_ROWS },
    });
    expect(st.errors.map((e: { line: number; field: string; code: string }) => [e.line, e.field, e.code])).toEqual(
      badLines.map((l) => [l, 'upn', 'upn_check_letter']),
    );
  });

  it('gives a pupil from the back-fill the figures its rows imply', async () => {
    const res = await svc.request('GET', `/v1/pupils/${upnOf(0)}?academicYear=2025`, { token });
    expect(res.status).toBe(200);
    const absences = days.filter((_, k) => absent(0, k)).length;
    // Pupil 0's last-day row had a bad UPN and was rejected.
    const possible = 2 * (days.length - 1);
    expect(res.json().totals).toMatchObject({
      possibleSessions: possible,
      authorisedAbsenceSessions: 2 * absences - (absent(0, days.length - 1) ? 2 : 0),
    });
    expect(res.json().persistentAbsence).toBe(true);
  });

  it("lists the back-fill among the school's returns", async () => {
    const res = await svc.request('GET', '/v1/returns', { token });
    expect(res.json().items.map((r: { returnId: string }) => r.returnId)).toContain(returnId);
  });
});
