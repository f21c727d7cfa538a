/** The public API, called with the signed-in user's token: nothing else. */
import { clearSession, currentSession } from './auth.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | undefined,
    readonly errors: Array<{ field?: string; line?: number; message: string }> = [],
    readonly body: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
  }
}

let apiBase = '';
export function setApiBase(base: string | undefined): void {
  apiBase = (base ?? '').replace(/\/$/, '');
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function call(
  method: string,
  path: string,
  init: { body?: BodyInit; contentType?: string; accept?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const s = currentSession();
  const headers: Record<string, string> = { ...init.headers };
  if (s) headers.authorization = `Bearer ${s.token}`;
  if (init.contentType) headers['content-type'] = init.contentType;
  if (init.accept) headers.accept = init.accept;
  const res = await fetch(`${apiBase}${path}`, { method, headers, body: init.body });
  if (res.status === 401) {
    clearSession();
    location.hash = `#/sign-in?expired=1`;
  }
  if (!res.ok) {
    const p = (await res.json().catch(() => ({}))) as { title?: string; detail?: string; errors?: ApiError['errors'] };
    throw new ApiError(res.status, p.title ?? res.statusText, p.detail, p.errors ?? [], p);
  }
  return res;
}

export async function get<T>(path: string): Promise<T> {
  return (await (await call('GET', path)).json()) as T;
}

/**
 * Every item of a list the API pages (the schools: a page at a time, so that no one request reads the
 * whole LA), following nextCursor page by page.
 */
export async function getAll<T>(path: string, pageSize = 500): Promise<Page<T>> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const params = query({ limit: pageSize, cursor }).slice(1);
    const page: Page<T> = await get<Page<T>>(`${path}${path.includes('?') ? '&' : '?'}${params}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return { items, nextCursor: null };
}

export async function post<T>(path: string, body: BodyInit, contentType: string): Promise<T> {
  return (await (await call('POST', path, { body, contentType })).json()) as T;
}

/** JSON in, JSON out, with extra headers (If-Match, Idempotency-Key). */
export async function send<T>(
  method: 'POST' | 'PATCH' | 'PUT',
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  return (await (
    await call(method, path, { body: JSON.stringify(body), contentType: 'application/json', headers })
  ).json()) as T;
}

/** DELETE; the answer (204) has no body. */
export async function del(path: string): Promise<void> {
  await call('DELETE', path);
}

/** Download what a list shows as CSV (the API's own `Accept: text/csv` answer). */
export async function downloadCsv(path: string, filename: string): Promise<void> {
  const res = await call('GET', path, { accept: 'text/csv' });
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function fetchBlob(path: string): Promise<Blob> {
  return (await call('GET', path)).blob();
}

// Shapes of the answers the app reads (shared/schemas and functions/api/routes define them).
export interface Stats {
  possibleSessions: number;
  attendedSessions: number;
  presentSessions: number;
  approvedActivitySessions: number;
  authorisedAbsenceSessions: number;
  unauthorisedAbsenceSessions: number;
  absenceSessions: number;
  lateSessions: number;
  attendanceRate: number | null;
  absenceRate: number | null;
  authorisedAbsenceRate: number | null;
  unauthorisedAbsenceRate: number | null;
  codes: Record<string, number>;
}
export interface MetricsRow extends Stats {
  key: {
    cohort?: string;
    urn?: string;
    phase?: string;
    yearGroup?: string;
    sex?: string;
    week?: string;
    placement?: string;
  };
  enrolments: number;
  persistentAbsenceCount: number;
  persistentAbsenceRate: number | null;
  severeAbsenceCount: number;
  severeAbsenceRate: number | null;
}
export interface Metrics {
  scope: 'la' | 'school';
  urn: string | null;
  cohort: string;
  population: string;
  period: { from: string; to: string; materialised: string | null };
  items: MetricsRow[];
  comparison?: { complement: MetricsRow | null; la: MetricsRow | null };
}
export interface School {
  urn: string;
  name: string | null;
  phase: string | null;
  type: string | null;
  laCode: string | null;
  outOfArea: boolean;
  inRegistry: boolean;
  latestDate: string | null;
  lastReturnAt: string | null;
  unmarkedSessions: number;
  headline: Record<string, number | null> | null;
}
export interface PupilListItem {
  upn: string;
  forename: string | null;
  surname: string | null;
  yearGroup: string | null;
  urns: string[];
  cohorts: string[];
  stats: {
    possibleSessions: number;
    absenceSessions: number;
    unauthorisedAbsenceSessions: number;
    attendanceRate: number | null;
    absenceRate: number | null;
  };
  flags: Array<{ type: string; since: string }>;
  /** The LA looks after the child (issue 20): all a school is told of the social-care record. */
  lookedAfter?: boolean;
}
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  total?: number;
}
export interface PupilView {
  upn: string;
  forename: string | null;
  surname: string | null;
  dob: string | null;
  yearGroup: string | null;
  academicYear: number;
  cohorts: string[];
  totals: Stats;
  persistentAbsence: boolean;
  severeAbsence: boolean;
  enrolments: Array<{
    urn: string;
    academicYear: number;
    registration: string;
    admissionDate: string | null;
    leavingDate: string | null;
    stats: Stats;
    persistentAbsence: boolean;
    severeAbsence: boolean;
  }>;
  flags: Array<{ type: string; since: string; detail: Record<string, unknown> }>;
  lookedAfter?: boolean;
  partTimeTimetables?: Array<{
    urn: string;
    start: string;
    latest: string;
    weeks: number;
    sessionsPerWeek: number;
    current: boolean;
    pastReviewLimit: boolean;
  }>;
}
export interface Sessions {
  upn: string;
  from: string;
  to: string;
  sessions: Array<{ date: string; session: 'AM' | 'PM'; code: string | null; urn: string }>;
}
export interface ReturnStatus {
  returnId: string;
  urn: string;
  status: string;
  format: string;
  receivedAt: string;
  processedAt?: string;
  counts?: { rows: number; accepted: number; rejected: number };
  errors?: Array<{ line: number; field: string; code: string; message: string }>;
  errorsTruncated?: boolean;
  rejection?: { title: string; detail: string };
}
export interface PublishedRow {
  level: 'national' | 'regional' | 'la';
  code: string;
  laCode: string | null;
  name: string;
  regionCode: string | null;
  regionName: string | null;
  phase: string;
  schools: number | null;
  enrolments: number | null;
  attendanceRate: number | null;
  absenceRate: number | null;
  authorisedAbsenceRate: number | null;
  unauthorisedAbsenceRate: number | null;
  persistentAbsenceRate: number | null;
}
export interface Reference {
  source: { title: string; publisher: string; period: string; retrieved: string; url: string; licence: string };
  phase: string;
  national: PublishedRow | null;
  region: PublishedRow | null;
  la: PublishedRow | null;
  regionLas: PublishedRow[];
  regions: Array<{ code: string; name: string }>;
  characteristics: Array<{
    cohort: string;
    label: string;
    absenceRate: number | null;
    persistentAbsenceRate: number | null;
    severeAbsenceRate: number | null;
    period: string;
    source: string;
  }>;
}
