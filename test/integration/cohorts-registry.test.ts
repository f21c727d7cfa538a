/**
 * LA lists through the API: the school registry from GIAS (out-of-area schools marked), and the
 * social-care lists in their real formats with per-record reports; cohort membership changes are
 * applied to pupils already on registers (date-effective).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './harness.js';
import { returnCsv, upnFor, weekdays } from '../support/returns.js';

const FIXTURES = 'test/fixtures/formats/social-care';
const URN = '111111';
let svc: TestService;
let admin: string;
let officer: string;

beforeAll(async () => {
  svc = await startTestService();
  admin = await svc.token('admin');
  officer = await svc.token('la_officer');
});
afterAll(async () => svc?.stop());

function multipart(files: Array<{ field: string; name: string; body: Buffer }>): { body: Buffer; contentType: string } {
  const boundary = 'attendance-hub-test-boundary';
  const chunks: Buffer[] = [];
  for (const f of files) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${f.name}"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
      f.body,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

describe('school registry from GIAS', () => {
  it("loads schools with their phase and marks other LAs' schools out of area", async () => {
    const gias = [
      'URN,LA (code),EstablishmentNumber,EstablishmentName,PhaseOfEducation (name),TypeOfEstablishment (name),EstablishmentStatus (name)',
      `${URN},999,2001,Brook Primary School,Primary,Community school,Open`,
      '222222,999,4001,Hill Academy,Secondary,Academy converter,Open',
      '333333,888,2002,Far Away Primary,Primary,Community school,Open',
      'notaurn,999,2003,Bad Row,Primary,Community school,Open',
    ].join('\n');
    const res = await svc.request('POST', '/v1/schools', { token: admin, body: gias, contentType: 'text/csv' });
    expect(res.status).toBe(200);
    const report = res.json();
    expect(report.counts).toEqual({ records: 4, accepted: 3, rejected: 1 });
    expect(report.outOfArea).toBe(1);
    expect(report.errors[0]).toMatchObject({ line: 5, field: 'URN' });
    const far = (await svc.request('GET', '/v1/schools/333333', { token: officer })).json();
    expect(far).toMatchObject({ urn: '333333', outOfArea: true, phase: 'primary', inRegistry: true });
  });

  it('lists the schools a page at a time in URN order, with a signed cursor (issue 17)', async () => {
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await svc.request('GET', `/v1/schools?limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
        token: officer,
      });
      expect(res.status).toBe(200);
      const page: { items: Array<{ urn: string }>; nextCursor: string | null } = res.json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      all.push(...page.items.map((s) => s.urn));
      cursor = page.nextCursor;
    } while (cursor);
    expect(all).toEqual([URN, '222222', '333333']);
    const forged = Buffer.from(JSON.stringify({ gsi1pk: 'SCHOOLS', gsi1sk: URN })).toString('base64url');
    expect((await svc.request('GET', `/v1/schools?cursor=${forged}`, { token: officer })).status).toBe(400);
    const csv = await svc.request('GET', '/v1/schools', { token: officer, headers: { accept: 'text/csv' } });
    expect(csv.text.trim().split('\n')).toHaveLength(4);
  });

  it('refuses the registry upload to an LA officer (admin only)', async () => {
    const res = await svc.request('POST', '/v1/schools', { token: officer, body: 'URN\n1\n', contentType: 'text/csv' });
    expect(res.status).toBe(403);
  });
});

describe('social-care lists', () => {
  it('imports the SSDA903 fixture, reporting each defective record while the good ones load', async () => {
    const form = multipart([
      { field: 'header', name: 'header.csv', body: readFileSync(`${FIXTURES}/header.csv`) },
      { field: 'episodes', name: 'episodes.csv', body: readFileSync(`${FIXTURES}/episodes.csv`) },
    ]);
    const res = await svc.request('POST', '/v1/cohorts', {
      token: officer,
      body: form.body,
      contentType: form.contentType,
    });
    expect(res.status).toBe(200);
    const report = res.json();
    expect(report.format).toBe('ssda903');
    expect(report.counts).toEqual({ records: 5050, accepted: 220, rejected: 4830 });
    expect(report.errors.length).toBe(1000);
    expect(report.errorsTruncated).toBe(true);
    expect(report.errors[0]).toMatchObject({ file: 'header.csv', field: 'UPN', code: expect.stringMatching(/upn/) });
  });

  it('recognises the deliberately malformed CIN census and loads its good records', async () => {
    const res = await svc.request('POST', '/v1/cohorts', {
      token: officer,
      body: readFileSync(`${FIXTURES}/CIN_Census_2026.xml`),
      contentType: 'application/xml',
    });
    expect(res.status).toBe(200);
    const report = res.json();
    expect(report.format).toBe('cin_census');
    expect(report.counts.rejected).toBeGreaterThan(0);
    expect(report.errors.every((e: { line: number; message: string }) => e.line >= 1 && e.message.length > 10)).toBe(
      true,
    );
  });

  it('asks for both SSDA903 files when only episodes.csv is sent', async () => {
    const res = await svc.request('POST', '/v1/cohorts', {
      token: officer,
      body: readFileSync(`${FIXTURES}/episodes.csv`),
      contentType: 'text/csv',
    });
    expect(res.status).toBe(422);
    expect(res.json().detail).toMatch(/header\.csv and episodes\.csv/);
  });

  it('rejects an unrecognisable list with 415', async () => {
    const res = await svc.request('POST', '/v1/cohorts', {
      token: officer,
      body: 'a,b\n1,2\n',
      contentType: 'text/csv',
    });
    expect(res.status).toBe(415);
  });

  it('a child entering care mid-year joins cla from that date, and becomes visible to the Virtual School', async () => {
    const school = await svc.token('school', { urn: URN });
    const vsh = await svc.token('vsh');
    const upn = upnFor(42, '999', '2001');
    const days = weekdays('2025-09-01', '2025-09-12');
    // Absent (illness) the first week, present the second; care begins on Monday 8 September.
    const rows = days.map((date) => ({
      urn: URN,
      upn,
      date,
      am: date < '2025-09-08' ? 'I' : '/',
      pm: date < '2025-09-08' ? 'I' : '/',
    }));
    expect(
      (await svc.request('POST', '/v1/returns', { token: school, body: returnCsv(rows), contentType: 'text/csv' }))
        .status,
    ).toBe(202);
    await svc.settle();
    expect((await svc.request('GET', `/v1/pupils/${upn}?academicYear=2025`, { token: vsh })).status).toBe(404);

    const res = await svc.request('POST', '/v1/cohorts', {
      token: officer,
      body: `upn,cohort,start_date,end_date\n${upn},cla,2025-09-08,\n`,
      contentType: 'text/csv',
    });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({
      format: 'cohort_csv',
      counts: { records: 1, accepted: 1, rejected: 0 },
      changedPupils: 1,
      refreshed: 1,
    });
    await svc.settle();

    const view = await svc.request('GET', `/v1/pupils/${upn}?academicYear=2025`, { token: vsh });
    expect(view.status).toBe(200);
    expect(view.json().cohorts).toContain('cla');
  });
});

describe('large lists', () => {
  it('accepts a gzip-compressed CIN census and refuses a body that claims gzip but is not', async () => {
    const { gzipSync } = await import('node:zlib');
    const xml = readFileSync(`${FIXTURES}/CIN_Census_2026.xml`);
    const res = await svc.request('POST', '/v1/cohorts', {
      token: officer,
      body: gzipSync(xml),
      contentType: 'application/xml',
      headers: { 'content-encoding': 'gzip' },
    });
    expect(res.status).toBe(200);
    expect(res.json().format).toBe('cin_census');
    const bad = await svc.request('POST', '/v1/cohorts', {
      token: officer,
      body: xml,
      contentType: 'application/xml',
      headers: { 'content-encoding': 'gzip' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json().detail).toMatch(/not valid gzip/);
  });
});
