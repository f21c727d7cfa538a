/**
 * The explicit limits (shared/config.ts LIMITS, and the gateway's body limit) at their edges: the
 * largest accepted input is accepted and one byte, row, level or error more is refused with a 4xx
 * naming the limit, the refused file kept. Includes the 100 MB line, generated once into a
 * temporary file and streamed (never committed, never held as a string).
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_MAX_EVENT_BYTES, MAX_REQUEST_BYTES } from '../../local/http-bridge.js';
import { DEFAULT_NAMES, LIMITS } from '../../shared/config.js';
import { getJson, headBlob } from '../../shared/store/blobs.js';
import { startTestService, type TestService } from '../integration/harness.js';
import { returnCsv, upnFor } from '../support/returns.js';
import { keptReturn, problemFault } from './support.js';

const URN = '123456';
let svc: TestService;
let school: string;
let officer: string;
let dir: string;

beforeAll(async () => {
  svc = await startTestService();
  school = await svc.token('school', { urn: URN });
  officer = await svc.token('la_officer');
  dir = mkdtempSync(join(tmpdir(), 'attendance-hub-limits-'));
});
afterAll(async () => {
  await svc?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const post = (body: string | Buffer, contentType = 'text/csv', token = school) =>
  svc.request('POST', '/v1/returns', { token, body, contentType });
const statusOf = async (returnId: string) =>
  (await svc.request('GET', `/v1/returns/${returnId}`, { token: school })).json();

/** A valid one-row return padded with blank lines (which the reader skips) to exactly `bytes`. */
function returnOfSize(bytes: number): Buffer {
  const csv = returnCsv([{ urn: URN, upn: upnFor(40), date: '2025-09-15', am: '/', pm: '/' }]);
  return Buffer.concat([Buffer.from(csv), Buffer.alloc(bytes - Buffer.byteLength(csv), '\n')]);
}

describe('body size', () => {
  it(`accepts a direct upload of exactly LIMITS.maxDirectUploadBytes (${LIMITS.maxDirectUploadBytes}) and refuses one byte more with 413, keeping it`, async () => {
    const atLimit = await post(returnOfSize(LIMITS.maxDirectUploadBytes));
    expect(atLimit.status).toBe(202);
    const over = returnOfSize(LIMITS.maxDirectUploadBytes + 1);
    const res = await post(over);
    expect(res.status).toBe(413);
    expect(problemFault(res)).toBeUndefined();
    expect(res.json()).toMatchObject({
      code: 'too_large',
      detail: expect.stringContaining('POST /v1/returns/uploads'),
    });
    expect((await keptReturn(res.json().returnId))?.body.equals(over)).toBe(true);
    expect(await statusOf(res.json().returnId)).toMatchObject({
      status: 'rejected',
      rejection: { title: 'Payload too large' },
    });
  });

  it(`refuses a body of exactly the gateway's ${MAX_REQUEST_BYTES} bytes at Lambda's ${LAMBDA_MAX_EVENT_BYTES}-byte event limit, and one byte more at the gateway, both 413 before the route`, async () => {
    // A CSV body reaches the function base64-encoded, so 10 MB of file is a 13 MB event: Lambda refuses it.
    const atGateway = await post(returnOfSize(MAX_REQUEST_BYTES));
    expect(atGateway.status).toBe(413);
    expect(problemFault(atGateway)).toBeUndefined();
    expect(atGateway.json().detail).toContain(String(LAMBDA_MAX_EVENT_BYTES));
    expect(atGateway.json().returnId).toBeUndefined(); // the route never ran: nothing kept
    const over = await post(returnOfSize(MAX_REQUEST_BYTES + 1));
    expect(over.status).toBe(413);
    expect(problemFault(over)).toBeUndefined();
    expect(over.json().detail).toMatch(/POST \/v1\/returns\/uploads/);
    expect(over.json().detail).toContain(String(MAX_REQUEST_BYTES));
  });

  it('passes a file whose base64 event fits Lambda to the route (413 too_large, kept) and refuses one whose event does not before the route', async () => {
    // 4.4 MiB of CSV is a 5.9 MiB event; 4.6 MiB is 6.1 MiB.
    const fits = await post(returnOfSize(Math.floor(4.4 * 1024 * 1024)));
    expect(fits.status).toBe(413);
    expect(fits.json()).toMatchObject({ code: 'too_large', returnId: expect.any(String) });
    const tooBig = await post(returnOfSize(Math.floor(4.6 * 1024 * 1024)));
    expect(tooBig.status).toBe(413);
    expect(tooBig.json().returnId).toBeUndefined();
    expect(tooBig.json().detail).toContain(`Lambda's ${LAMBDA_MAX_EVENT_BYTES}-byte invocation payload`);
  });

  it(`presigns an upload of exactly LIMITS.maxPresignedUploadBytes (${LIMITS.maxPresignedUploadBytes}) and refuses one byte more with 400 naming bytes`, async () => {
    const ok = await svc.request('POST', '/v1/returns/uploads', {
      token: school,
      body: { urn: URN, format: 'csv', bytes: LIMITS.maxPresignedUploadBytes },
    });
    expect(ok.status).toBe(201);
    const over = await svc.request('POST', '/v1/returns/uploads', {
      token: school,
      body: { urn: URN, format: 'csv', bytes: LIMITS.maxPresignedUploadBytes + 1 },
    });
    expect(over.status).toBe(400);
    expect(over.json().errors).toEqual([expect.objectContaining({ field: 'bytes' })]);
  });
});

describe('large LA lists by presigned PUT (over what a Lambda event can carry)', () => {
  const GIAS_HEADER =
    'URN,LA (code),EstablishmentNumber,EstablishmentName,PhaseOfEducation (name),TypeOfEstablishment (name),EstablishmentStatus (name)';

  it(`imports a 5 MB cohort CSV (413 when sent directly) sent by presigned PUT instead; presigns up to LIMITS.maxCohortUploadBytes (${LIMITS.maxCohortUploadBytes})`, async () => {
    const row = `${upnFor(60)},cin,2025-09-01,\n`;
    const csv = Buffer.from(`upn,cohort,start_date,end_date\n${row.repeat(Math.ceil((5 * 1024 * 1024) / row.length))}`);
    // Directly it cannot reach the function at all.
    const direct = await svc.request('POST', '/v1/cohorts', { token: officer, body: csv, contentType: 'text/csv' });
    expect(direct.status).toBe(413);
    const over = await svc.request('POST', '/v1/cohorts/uploads', {
      token: officer,
      body: { contentType: 'text/csv', bytes: LIMITS.maxCohortUploadBytes + 1 },
    });
    expect(over.status).toBe(400);
    expect(over.json().errors).toEqual([expect.objectContaining({ field: 'bytes' })]);
    const presign = await svc.request('POST', '/v1/cohorts/uploads', {
      token: officer,
      body: { contentType: 'text/csv', bytes: csv.length },
    });
    expect(presign.status).toBe(201);
    const { uploadId, uploadUrl, headers, importUrl } = presign.json();
    expect(importUrl).toBe(`/v1/cohorts?upload=${uploadId}`);
    expect((await fetch(uploadUrl, { method: 'PUT', headers, body: csv })).status).toBe(200);
    const imported = await svc.request('POST', importUrl, { token: officer });
    expect(imported.status).toBe(200);
    expect(imported.json()).toMatchObject({
      format: 'cohort_csv',
      counts: { records: expect.any(Number), accepted: expect.any(Number) },
    });
    expect(imported.json().counts.records).toBeGreaterThan(100_000);
  });

  it('loads a GIAS registry sent by presigned PUT, and refuses an unknown, malformed or doubled upload with a precise 4xx', async () => {
    const admin = await svc.token('admin');
    const csv = Buffer.from(`${GIAS_HEADER}\n${URN},999,2001,School A,Primary,Community school,Open\n`);
    const presign = await svc.request('POST', '/v1/schools/uploads', {
      token: admin,
      body: { contentType: 'text/csv', bytes: csv.length },
    });
    expect(presign.status).toBe(201);
    const { uploadId, uploadUrl, headers } = presign.json();
    const unsent = await svc.request('POST', `/v1/schools?upload=${uploadId}`, { token: admin });
    expect(unsent.status).toBe(404);
    expect(unsent.json().detail).toMatch(/PUT the file/);
    expect((await fetch(uploadUrl, { method: 'PUT', headers, body: csv })).status).toBe(200);
    const loaded = await svc.request('POST', `/v1/schools?upload=${uploadId}`, { token: admin });
    expect(loaded.status).toBe(200);
    expect(loaded.json()).toMatchObject({ counts: { records: 1, accepted: 1, rejected: 0 } });
    const both = await svc.request('POST', `/v1/schools?upload=${uploadId}`, {
      token: admin,
      body: csv,
      contentType: 'text/csv',
    });
    expect(both.status).toBe(400);
    const malformed = await svc.request('POST', '/v1/schools?upload=..%2F..%2Fregisters', { token: admin });
    expect(malformed.status).toBe(400);
    expect(malformed.json().errors).toEqual([expect.objectContaining({ field: 'upload' })]);
    const wrongType = await svc.request('POST', '/v1/schools/uploads', {
      token: admin,
      body: { contentType: 'application/pdf', bytes: 10 },
    });
    expect(wrongType.status).toBe(400);
  });
});

describe('large responses (Lambda returns at most 6 MB)', () => {
  it('answers GET /v1/returns/{id}/file with 303 to a presigned S3 GET valid for LIMITS.presignedGetSeconds, which gives the exact bytes without the token', async () => {
    const csv = returnOfSize(64 * 1024);
    const sent = await post(csv);
    expect(sent.status).toBe(202);
    const res = await fetch(`${svc.url}/v1/returns/${sent.json().returnId}/file`, {
      headers: { authorization: `Bearer ${school}` },
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const location = new URL(res.headers.get('location') as string);
    expect(location.searchParams.get('X-Amz-Expires')).toBe(String(LIMITS.presignedGetSeconds));
    expect(location.pathname).toContain(`/returns/${URN}/${sent.json().returnId}.csv`);
    const file = await fetch(location);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(csv)).toBe(true);
    expect(file.headers.get('content-disposition')).toBe(`attachment; filename="${sent.json().returnId}.csv"`);
  });

  it('writes a CSV export over LIMITS.maxResponseBodyBytes to S3 and answers 303 to it; one under the limit is answered inline (limit lowered for the test)', async () => {
    const limits = LIMITS as { maxResponseBodyBytes: number };
    const real = limits.maxResponseBodyBytes;
    try {
      const inline = await fetch(`${svc.url}/v1/schools`, {
        headers: { authorization: `Bearer ${officer}`, accept: 'text/csv' },
        redirect: 'manual',
      });
      expect(inline.status).toBe(200);
      const inlineBytes = Buffer.from(await inline.arrayBuffer());
      expect(inlineBytes.toString('utf8')).toContain('urn,name');
      limits.maxResponseBodyBytes = inlineBytes.length - 1;
      const parked = await fetch(`${svc.url}/v1/schools`, {
        headers: { authorization: `Bearer ${officer}`, accept: 'text/csv' },
        redirect: 'manual',
      });
      expect(parked.status).toBe(303);
      const location = new URL(parked.headers.get('location') as string);
      expect(location.pathname).toMatch(/\/exports\/[a-z0-9]+\.csv$/);
      const file = await fetch(location);
      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(file.headers.get('content-disposition')).toBe('attachment; filename="schools.csv"');
      // The same bytes, BOM included, as the inline answer.
      expect(Buffer.from(await file.arrayBuffer()).equals(inlineBytes)).toBe(true);
    } finally {
      limits.maxResponseBodyBytes = real;
    }
  });
});

describe('line length', () => {
  /** A header, one good row, and a row of exactly `bytes` bytes (line break excluded) on line 3. */
  function withRecordOf(bytes: number): string {
    const good = `${URN},${upnFor(41)},2025-09-15,/,/,Ada,Smith`;
    const start = `${URN},${upnFor(42)},2025-09-15,/,/,`;
    const end = ',Smith';
    return `urn,upn,date,am,pm,forename,surname\n${good}\n${start}${'A'.repeat(bytes - start.length - end.length)}${end}\n`;
  }

  it(`reads a record of exactly LIMITS.maxLineBytes (${LIMITS.maxLineBytes}) bytes (its over-long name is a row error) and refuses one byte more as a file error naming the line`, async () => {
    const atLimit = await post(withRecordOf(LIMITS.maxLineBytes));
    expect(atLimit.status).toBe(202);
    await svc.settle();
    const st = await statusOf(atLimit.json().returnId);
    expect(st.status).toBe('accepted_with_errors');
    expect(st.errors.map((e: { line: number; field: string; code: string }) => [e.line, e.field, e.code])).toEqual([
      [3, 'forename', 'forename_too_long'],
    ]);

    const over = await post(withRecordOf(LIMITS.maxLineBytes + 1));
    expect(over.status).toBe(400);
    expect(problemFault(over)).toBeUndefined();
    expect(over.json()).toMatchObject({ code: 'record_too_long', detail: expect.stringMatching(/line 3/) });
    expect(over.json().detail).toContain(String(LIMITS.maxLineBytes));
  });
});

describe('rows per return', () => {
  it('accepts exactly LIMITS.maxRowsPerReturn rows and refuses one more with 413 too_many_rows (limit lowered to 3 for the test)', async () => {
    const limits = LIMITS as { maxRowsPerReturn: number };
    const real = limits.maxRowsPerReturn;
    limits.maxRowsPerReturn = 3;
    try {
      const rows = (n: number) =>
        returnCsv(
          Array.from({ length: n }, (_, i) => ({
            urn: URN,
            upn: upnFor(50 + i),
            date: '2025-09-16',
            am: '/',
            pm: '/',
          })),
        );
      const atLimit = await post(rows(3));
      expect(atLimit.status).toBe(202);
      const over = await post(rows(4));
      expect(over.status).toBe(413);
      expect(over.json()).toMatchObject({ code: 'too_many_rows', detail: expect.stringContaining('3') });
      await svc.settle(); // ingest re-reads the file under the same limit
      expect((await statusOf(atLimit.json().returnId)).status).toBe('accepted');
    } finally {
      limits.maxRowsPerReturn = real;
    }
    expect(LIMITS.maxRowsPerReturn).toBe(1_000_000);
  });
});

describe('XML nesting depth', () => {
  /** A CTF whose Header holds a chain of elements, so the deepest element is at `depth`. */
  function ctfOfDepth(depth: number): string {
    const chain = depth - 2; // CTfile (1) > Header (2) > Extra…
    return (
      `<?xml version="1.0" encoding="UTF-8"?>\n<CTfile><Header>${'<Extra>'.repeat(chain)}x${'</Extra>'.repeat(chain)}` +
      `<SourceSchool><LEA>999</LEA><Estab>2001</Estab><URN>${URN}</URN><SchoolName>S</SchoolName><AcademicYear>2025</AcademicYear></SourceSchool></Header>` +
      `<CTFpupilData/></CTfile>\n`
    );
  }
  /** A CIN census with the same chain under its Header. */
  const censusOfDepth = (depth: number) =>
    `<?xml version="1.0"?>\n<Message><Header>${'<X>'.repeat(depth - 2)}${'</X>'.repeat(depth - 2)}</Header><Children/></Message>\n`;

  it(`reads a CTF nested exactly LIMITS.maxXmlDepth (${LIMITS.maxXmlDepth}) deep and refuses one level more with 400 xml_too_deep`, async () => {
    const atLimit = await post(ctfOfDepth(LIMITS.maxXmlDepth), 'application/xml');
    expect(atLimit.json().code).not.toBe('xml_too_deep');
    expect(atLimit.status).toBeLessThan(500);
    const over = await post(ctfOfDepth(LIMITS.maxXmlDepth + 1), 'application/xml');
    expect(over.status).toBe(400);
    expect(over.json()).toMatchObject({
      code: 'xml_too_deep',
      detail: expect.stringContaining(String(LIMITS.maxXmlDepth)),
    });
  });

  it('refuses 10,000 levels of nesting at once, in CTF returns and CIN census imports alike', async () => {
    const deep = `<?xml version="1.0"?>\n${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}\n`;
    const ret = await post(deep, 'application/xml');
    expect(ret.status).toBe(400);
    expect(ret.json().code).toBe('xml_too_deep');
    const census = await svc.request('POST', '/v1/cohorts', {
      token: officer,
      body: deep,
      contentType: 'application/xml',
    });
    expect(census.status).toBe(400);
    expect(census.json().code).toBe('xml_too_deep');
    expect(census.json().importId).toEqual(expect.any(String));
  });

  it(`reads a CIN census nested exactly ${LIMITS.maxXmlDepth} deep and refuses one level more`, async () => {
    const atLimit = await svc.request('POST', '/v1/cohorts', {
      token: officer,
      body: censusOfDepth(LIMITS.maxXmlDepth),
      contentType: 'application/xml',
    });
    expect(atLimit.json().code).not.toBe('xml_too_deep');
    expect(atLimit.status).toBeLessThan(500);
    const over = await svc.request('POST', '/v1/cohorts', {
      token: officer,
      body: censusOfDepth(LIMITS.maxXmlDepth + 1),
      contentType: 'application/xml',
    });
    expect(over.status).toBe(400);
    expect(over.json().code).toBe('xml_too_deep');
  });
});

describe('row errors on a status', () => {
  /** A return of one good row and `n` rows with an unknown code. */
  const withErrors = (n: number) =>
    returnCsv([
      { urn: URN, upn: upnFor(60), date: '2025-09-17', am: '/', pm: '/' },
      ...Array.from({ length: n }, (_, i) => ({
        urn: URN,
        upn: upnFor(60),
        date: '2025-09-17',
        am: 'Q9',
        pm: '/',
        note: String(i),
      })),
    ]);

  it(`keeps exactly LIMITS.maxInlineRowErrors (${LIMITS.maxInlineRowErrors}) errors inline; one more truncates the list and the full report is kept in S3`, async () => {
    const atLimit = await post(withErrors(LIMITS.maxInlineRowErrors));
    const over = await post(withErrors(LIMITS.maxInlineRowErrors + 1));
    await svc.settle();
    const a = await statusOf(atLimit.json().returnId);
    expect(a.errors).toHaveLength(LIMITS.maxInlineRowErrors);
    expect(a.errorsTruncated).toBe(false);
    const b = await statusOf(over.json().returnId);
    expect(b.errors).toHaveLength(LIMITS.maxInlineRowErrors);
    expect(b.errorsTruncated).toBe(true);
    const report = await getJson<{ errors: unknown[] }>(
      DEFAULT_NAMES.registersBucket,
      `reports/returns/${over.json().returnId}.json`,
    );
    expect(report?.value.errors).toHaveLength(LIMITS.maxInlineRowErrors + 1);
  });
});

describe('page size', () => {
  it(`accepts limit=${LIMITS.maxPageSize} and refuses limit=${LIMITS.maxPageSize + 1} with 400 naming the parameter`, async () => {
    expect((await svc.request('GET', `/v1/returns?limit=${LIMITS.maxPageSize}`, { token: school })).status).toBe(200);
    const over = await svc.request('GET', `/v1/returns?limit=${LIMITS.maxPageSize + 1}`, { token: school });
    expect(over.status).toBe(400);
    expect(over.json().errors).toEqual([expect.objectContaining({ field: 'limit' })]);
  });
});

// ---- The 100 MB line ----------------------------------------------------------------------------

const HUNDRED_MB = 100 * 1024 * 1024;
let hundredMbFile: Promise<string> | undefined;

/** A header and one row whose forename is 100 MB of 'A': written once, lazily, to a temporary file. */
function hundredMbLine(): Promise<string> {
  hundredMbFile ??= (async () => {
    const path = join(dir, 'hundred-mb-line.csv');
    const out = createWriteStream(path);
    const write = (chunk: string | Buffer) =>
      out.write(chunk) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r()));
    await write(`urn,upn,date,am,pm,forename\n${URN},${upnFor(70)},2025-09-18,/,/,`);
    const mb = Buffer.alloc(1024 * 1024, 'A');
    for (let i = 0; i < HUNDRED_MB / mb.length; i++) await write(mb);
    await write('\n');
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return path;
  })();
  return hundredMbFile;
}

/** Stream a file as a request body; resolves with the status and body of the answer. */
function streamFile(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const size = statSync(path).size;
    const req = httpRequest(url, { method, headers: { ...headers, 'content-length': String(size) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // The gateway may answer (413) before the whole body is sent; what it does not read is dropped.
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err),
    );
    createReadStream(path).pipe(req);
  });
}

describe('a 100 MB line', () => {
  it('is refused at the gateway (413) when sent directly, naming the presigned upload', async () => {
    const path = await hundredMbLine();
    const res = await streamFile(`${svc.url}/v1/returns`, 'POST', path, {
      authorization: `Bearer ${school}`,
      'content-type': 'text/csv',
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text).detail).toMatch(/POST \/v1\/returns\/uploads/);
  });

  it('sent by presigned upload, ends rejected with the line and the limit named, the file kept and quarantined', async () => {
    const path = await hundredMbLine();
    const size = statSync(path).size;
    const presign = await svc.request('POST', '/v1/returns/uploads', {
      token: school,
      body: { urn: URN, format: 'csv', bytes: size },
    });
    expect(presign.status).toBe(201);
    const { returnId, uploadUrl, headers } = presign.json();
    expect((await streamFile(uploadUrl, 'PUT', path, headers)).status).toBe(200);
    await svc.settle();
    const st = await statusOf(returnId);
    expect(st.status).toBe('rejected');
    expect(st.rejection.detail).toMatch(/line 2/);
    expect(st.rejection.detail).toContain(String(LIMITS.maxLineBytes));
    expect((await headBlob(DEFAULT_NAMES.returnsBucket, `returns/${URN}/${returnId}.csv`))?.size).toBe(size);
    expect((await headBlob(DEFAULT_NAMES.quarantineBucket, `quarantine/${URN}/${returnId}.csv`))?.size).toBe(size);
  });
});
