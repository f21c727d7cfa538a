/**
 * Logs (issue 10): everything the service writes — the Powertools logger's structured lines (at
 * DEBUG, so nothing is filtered out) and anything else on stdout/stderr — while it takes an upload
 * with row errors, a CTF whose totals disagree, pupil reads and exports, cohort imports, a referral,
 * and two faults whose error messages quote stored pupil data (a corrupted register in ingest, a
 * corrupted LA pupil list in the API). No name, UPN, date of birth, marks or free text about a
 * child may appear in any of it.
 */
import { gzipSync } from 'node:zlib';
import { format } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_NAMES } from '../../shared/config.js';
import { logger } from '../../shared/observability.js';
import { getBlob, putBlob } from '../../shared/store/blobs.js';
import { startTestService, type TestService } from '../integration/harness.js';
import { returnCsv, upnFor, type ReturnRowInput } from '../support/returns.js';
import { multipartBody } from './support.js';

const URN = '123456';
const P = [1, 2, 3, 4].map((n) => upnFor(n, '999', '4242'));
const BAD_UPN = `A${P[0].slice(1)}` === P[0] ? `B${P[0].slice(1)}` : `A${P[0].slice(1)}`;
const CTF_UPN = upnFor(5, '999', '4242');
const CARE_UPN = upnFor(6, '999', '4242');
const NAMES = [
  'Quintessa',
  'Marchbanks-Oyelaran',
  'Zebulon',
  'Thistlewood',
  'Ottoline',
  'Featherstonehaugh',
  'Perpetua Fairweather',
];
const DOBS = ['2014-03-17', '2013-11-02', '17/03/2014', '2012-06-29'];
/** A CTF marks string no log line could hold by chance. */
const CTF_MARKS = '/\\NNC1/\\II/\\LU';
const REASON = 'disclosed caring for a parent with a terminal illness';

let svc: TestService;
let levelBefore: ReturnType<typeof logger.getLevelName>;
let school: string;
let officer: string;
const lines: string[] = [];

function capture(): void {
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(format(...args)));
  }
  for (const stream of [process.stdout, process.stderr]) {
    const real = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: never[]) => {
      lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return real(chunk as never, ...rest);
    }) as never);
  }
}

beforeAll(async () => {
  svc = await startTestService();
  school = await svc.token('school', { urn: URN });
  officer = await svc.token('la_officer');
  levelBefore = logger.getLevelName();
  logger.setLogLevel('DEBUG');
  capture();

  // An upload with row errors: a wrong check letter, an unknown code, a future date.
  const rows: ReturnRowInput[] = [
    { urn: URN, upn: P[0], date: '2025-09-15', am: 'N', pm: 'N', forename: NAMES[0], surname: NAMES[1], dob: DOBS[0] },
    { urn: URN, upn: P[1], date: '2025-09-15', am: '/', pm: 'Q9', forename: NAMES[2], surname: NAMES[3], dob: DOBS[1] },
    {
      urn: URN,
      upn: BAD_UPN,
      date: '2025-09-15',
      am: '/',
      pm: '/',
      forename: NAMES[4],
      surname: NAMES[5],
      dob: DOBS[3],
    },
    { urn: URN, upn: P[2], date: '2099-01-01', am: '/', pm: '/', forename: NAMES[4], surname: NAMES[5], dob: DOBS[3] },
    {
      urn: URN,
      upn: P[3],
      date: '2025-09-15',
      am: 'N',
      pm: 'N',
      forename: NAMES[4],
      surname: NAMES[5],
      dob: DOBS[3],
      cla: 'Y',
    },
  ];
  await svc.request('POST', '/v1/returns', { token: school, body: returnCsv(rows) });
  // A CTF whose stated totals disagree with its marks (the row errors name the pupil).
  const ctf =
    `<?xml version="1.0" encoding="UTF-8"?>\n<CTfile><Header><SourceSchool><LEA>999</LEA><Estab>4242</Estab><URN>${URN}</URN><SchoolName>S</SchoolName><AcademicYear>2025</AcademicYear></SourceSchool></Header>` +
    `<CTFpupilData><Pupil><UPN>${CTF_UPN}</UPN><Surname>${NAMES[3]}</Surname><Forename>${NAMES[2]}</Forename><DOB>${DOBS[1]}</DOB><Gender>M</Gender>` +
    `<Attendance><YearData><Year>2025</Year><LEA>999</LEA><Estab>4242</Estab><SessionsPossible>99</SessionsPossible><SessionsAuthorised>0</SessionsAuthorised><SessionsAttended>0</SessionsAttended><SessionsUnauthorised>0</SessionsUnauthorised>` +
    `<AttendSessions><AttendanceStartDate>2025-09-15</AttendanceStartDate><AttendanceMarks>${CTF_MARKS}</AttendanceMarks></AttendSessions></YearData></Attendance></Pupil></CTFpupilData></CTfile>\n`;
  await svc.request('POST', '/v1/returns', { token: school, body: ctf, contentType: 'application/xml' });
  // A file refused at the door whose first line holds a name.
  await svc.request('POST', '/v1/returns', { token: school, body: `${NAMES[0]},${P[0]}\n`, contentType: 'text/csv' });
  await svc.settle();
}, 120_000);

afterAll(async () => {
  vi.restoreAllMocks();
  logger.setLogLevel(levelBefore);
  await svc?.stop();
});

describe('logs hold no pupil data', () => {
  it('the service logged structured lines while it worked (the capture is not empty)', async () => {
    await svc.request('GET', `/v1/pupils/${P[0]}?academicYear=2025`, { token: officer });
    await svc.request('GET', `/v1/pupils/${P[0]}/sessions?from=2025-09-01&to=2025-09-30`, { token: school });
    await svc.request('GET', '/v1/pupils?flag=severe_absence&from=2025-08-01&to=2026-07-31', {
      token: officer,
      headers: { accept: 'text/csv' },
    });

    // Cohort imports: a cohort CSV with a bad row, and SSDA903 with dates of birth.
    await svc.request('POST', '/v1/cohorts', {
      token: officer,
      body: `upn,cohort,start_date,end_date\n${CARE_UPN},cla,2025-09-01,\n${BAD_UPN},cla,2025-09-01,\n`,
      contentType: 'text/csv',
    });
    const header = Buffer.from(`CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n7001,1,${DOBS[2]},WBRI,${P[1]},,\n`);
    const episodes = Buffer.from(
      'CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n7001,01/09/2025,S,C2,N1,U1,PR1,,X1,,,,\n',
    );
    await svc.request('POST', '/v1/cohorts', {
      token: officer,
      contentType: 'multipart/form-data; boundary=XBOUNDARY',
      body: multipartBody([
        { name: 'header', filename: 'header.csv', body: header },
        { name: 'episodes', filename: 'episodes.csv', body: episodes },
      ]),
    });
    await svc.settle();

    // A referral with free text and a parent's name, then a change to it.
    const created = await svc.request('POST', '/v1/referrals', {
      token: officer,
      body: {
        upn: P[0],
        urn: URN,
        type: 'severe_absence',
        reason: REASON,
        parents: [{ name: NAMES[6], relationship: 'mother' }],
      },
    });
    expect(created.status).toBe(201);
    const ref = created.json();
    await svc.request('PATCH', `/v1/referrals/${ref.id}`, {
      token: officer,
      body: { status: 'triaged', note: REASON },
      headers: { 'if-match': `"${ref.version}"` },
    });

    const structured = lines.filter((l) => l.trimStart().startsWith('{')).map((l) => JSON.parse(l));
    expect(structured.map((l) => l.message)).toEqual(
      expect.arrayContaining(['return processed', 'return queued', 'LA rollup']),
    );
    expect(
      structured.every(
        (l) => typeof l.level === 'string' && l.service === 'attendance-hub' && typeof l.timestamp === 'string',
      ),
    ).toBe(true);
  });

  it('an ingest failure whose error quotes a corrupted register is logged with the quote masked', async () => {
    const key = `registers/2025/${URN}.json.gz`;
    const stored = await getBlob(DEFAULT_NAMES.registersBucket, key);
    const { gunzipSync } = await import('node:zlib');
    const text = gunzipSync(stored!.body).toString('utf8');
    // A byte gone wrong: an unquoted name makes JSON.parse quote the text around it in its message.
    const corrupt = text.includes(`"${NAMES[0]}"`)
      ? text.replace(`"${NAMES[0]}"`, `${NAMES[0]}`)
      : text.replace(`"${P[0]}"`, P[0]);
    expect(corrupt).not.toBe(text);
    await putBlob(DEFAULT_NAMES.registersBucket, key, gzipSync(corrupt), 'application/json');
    const res = await svc.request('POST', '/v1/returns', {
      token: school,
      body: returnCsv([{ urn: URN, upn: P[0], date: '2025-09-16', am: '/', pm: '/' }]),
    });
    await svc.settle();
    await putBlob(DEFAULT_NAMES.registersBucket, key, stored!.body, 'application/json');
    expect((await svc.request('GET', `/v1/returns/${res.json().returnId}`, { token: school })).json().status).toBe(
      'rejected',
    );
    const failures = lines.filter((l) => l.includes('ingest message failed'));
    expect(failures.length).toBeGreaterThan(0);
    // JSON.parse quoted the text around the fault; the line keeps the error class, not the quote.
    expect(failures.join('\n')).toMatch(/SyntaxError/);
    expect(failures.join('\n')).toContain('[quoted text]');
  });

  it('an API failure whose error quotes a corrupted pupil list is answered 500 without detail and logged masked', async () => {
    // The school's materialised view holds its pupil rows (names included); corrupt it so that
    // parsing it fails with an error that quotes pupil data.
    const key = `views/2025/schools/${URN}.json.gz`;
    const stored = await getBlob(DEFAULT_NAMES.registersBucket, key);
    const { gunzipSync } = await import('node:zlib');
    const text = gunzipSync(stored!.body).toString('utf8');
    const corrupt = text.replace(/"forename":"([^"]+)"/, '"forename":$1');
    expect(corrupt).not.toBe(text);
    await putBlob(DEFAULT_NAMES.registersBucket, key, gzipSync(corrupt), 'application/json');
    // The pointer must move for the API to re-read the view: a new school view version.
    const { getItem, putItem } = await import('../../shared/store/table.js');
    const { k } = await import('../../shared/store/keys.js');
    const pointer = await getItem<Record<string, unknown>>(k.schoolView(URN, 2025));
    await putItem({ ...pointer, ...k.schoolView(URN, 2025), version: 1_000_000 });
    const res = await svc.request('GET', `/v1/schools/${URN}/unresolved-n?academicYear=2025`, { token: officer });
    await putBlob(DEFAULT_NAMES.registersBucket, key, stored!.body, 'application/json');
    if (pointer) await putItem({ ...pointer, ...k.schoolView(URN, 2025) });
    expect(res.status).toBe(500);
    expect(res.text).not.toMatch(/forename|SyntaxError|JSON/);
    expect(lines.filter((l) => l.includes('unhandled error')).join('\n')).toContain('[quoted text]');
  });

  it('contains no name, UPN, date of birth, marks or referral text anywhere in what was written', () => {
    const all = lines.join('\n');
    const leaks = [
      ...NAMES,
      ...NAMES.flatMap((n) => n.split(' ')),
      ...P,
      BAD_UPN,
      CTF_UPN,
      CARE_UPN,
      ...DOBS,
      CTF_MARKS,
      REASON,
      '"am":',
      '"pm":',
      '"marks":',
      '"forename":',
      '"surname":',
      '"dob":',
    ].filter((value) => all.includes(value));
    expect(leaks).toEqual([]);
    // What was searched includes every kind of line: ingest, API errors, dead letters, rollups.
    for (const message of [
      'return processed',
      'ingest message failed',
      'return moved to dead letters',
      'unhandled error',
      'LA rollup',
    ]) {
      expect([message, all.includes(message)]).toEqual([message, true]);
    }
  });
});
