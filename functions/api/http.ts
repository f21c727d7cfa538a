/**
 * The API's HTTP conventions (docs/design.md §4) in one place: routes declared with their permission, their
 * audit action and zod schemas (from which the OpenAPI document is generated), the caller taken from the JWT claims
 * (API Gateway's authorizer in AWS, the local bridge locally), RFC 9457 problem responses, paging,
 * and spreadsheet-safe CSV.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod';
import { runtimeConfig } from '../../shared/config.js';
import { isCapability, isRole, refusalOf, type Capability, type Principal } from '../../shared/domain/access.js';
import type { AuditTrail } from '../../shared/app/audit.js';
import type { Outcome, Refusal, RefusalKind } from '../../shared/app/outcome.js';
import { canonicalJson, decodeCursor, encodeCursor } from '../../shared/store/table.js';

export type Event = APIGatewayProxyEventV2 & {
  requestContext: APIGatewayProxyEventV2['requestContext'] & {
    authorizer?: { jwt?: { claims?: Record<string, unknown> } };
  };
};
export type Result = APIGatewayProxyStructuredResultV2;

/** What a route may write to the audit log (its declared action is filled in by the router): the use cases' trail. */
export type { AuditNote } from '../../shared/app/audit.js';
export type RouteAudit = AuditTrail;

export interface RouteContext<Q = Record<string, never>> {
  event: Event;
  principal: Principal;
  query: Q;
  params: Record<string, string>;
  headers: Record<string, string>;
  audit: RouteAudit;
}

/** A public route's context: no caller, nothing to audit. */
export type PublicRouteContext<Q = Record<string, never>> = Omit<RouteContext<Q>, 'principal' | 'audit'>;

/**
 * What a route declares about the audit log: the action its entries are recorded under, or why it
 * records nothing (aggregates, reference data, public documents). Declared, never left out.
 */
export type AuditDeclaration = { action: string } | { none: string };

interface RouteCommon<Q> {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  summary: string;
  query?: z.ZodType<Q>;
  /** Documented request body: a zod schema (JSON) or a media type list for files. */
  body?: z.ZodType | { mediaTypes: string[]; description: string };
  response?: z.ZodType;
  /** Whether `Accept: text/csv` is honoured (lists). */
  csv?: boolean;
  /** The success status when it is not the usual one (GET 200, POST 201; documented in OpenAPI). */
  successStatus?: number;
  tags?: string[];
}

/** A route anyone may call (no token): it gets no principal and audits nothing. */
export interface PublicRouteDef<Q = unknown> extends RouteCommon<Q> {
  access: 'public';
  audit: { none: string };
  handler: (ctx: PublicRouteContext<Q>) => Promise<Result>;
}

/** A route for callers with a token: the capability their role must have ('any': every role) and its audit. */
export interface CallerRouteDef<Q = unknown> extends RouteCommon<Q> {
  access: Capability | 'any';
  audit: AuditDeclaration;
  handler: (ctx: RouteContext<Q>) => Promise<Result>;
}

export type RouteDef<Q = unknown> = PublicRouteDef<Q> | CallerRouteDef<Q>;

export class RouteDeclarationError extends Error {}

/**
 * Refuses a route that does not declare its permission and its audit (issue 16): the router
 * registers only routes that pass, so a route cannot forget either. Public routes declare that they
 * audit nothing (they have no caller to audit).
 */
export function checkRoute(def: RouteDef): RouteDef {
  const name = `${String(def?.method)} ${String(def?.path)}`;
  const access = (def as { access?: unknown }).access;
  if (access !== 'public' && access !== 'any' && !(typeof access === 'string' && isCapability(access))) {
    throw new RouteDeclarationError(`${name}: no permission declared (access must be a capability, 'any' or 'public')`);
  }
  const audit = (def as { audit?: unknown }).audit as Partial<Record<'action' | 'none', unknown>> | undefined;
  const action = audit && typeof audit === 'object' ? audit.action : undefined;
  const none = audit && typeof audit === 'object' ? audit.none : undefined;
  if (!((typeof action === 'string' && /^[a-z_]+$/.test(action)) !== (typeof none === 'string' && none.length > 0))) {
    throw new RouteDeclarationError(`${name}: no audit declared (audit must be { action } or { none: reason })`);
  }
  if (access === 'public' && action !== undefined)
    throw new RouteDeclarationError(`${name}: a public route has no caller to audit`);
  return def;
}

export function defineRoute<Q>(def: PublicRouteDef<Q>): RouteDef;
export function defineRoute<Q>(def: CallerRouteDef<Q>): RouteDef;
export function defineRoute<Q>(def: RouteDef<Q>): RouteDef {
  return checkRoute(def as unknown as RouteDef);
}

// ---- Problems ------------------------------------------------------------------------------------

export interface ProblemDetail {
  field?: string;
  line?: number;
  code?: string;
  message: string;
}

export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors?: ProblemDetail[],
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  409: 'Conflict',
  412: 'Precondition failed',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  428: 'Precondition required',
  500: 'Internal error',
};

export function problem(
  status: number,
  detail: string,
  errors?: ProblemDetail[],
  extra?: Record<string, unknown>,
): Problem {
  return new Problem(status, TITLES[status] ?? 'Error', detail, errors, extra);
}

export function problemResponse(p: Problem): Result {
  const type = `https://attendance-hub.example/problems/${p.title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')}`;
  return {
    statusCode: p.status,
    headers: { 'content-type': 'application/problem+json', ...p.headers },
    body: JSON.stringify({
      type,
      title: p.title,
      status: p.status,
      detail: p.detail,
      ...(p.errors ? { errors: p.errors } : {}),
      ...p.extra,
    }),
  };
}

const STATUS_OF_REFUSAL: Record<RefusalKind, number> = {
  not_found: 404,
  forbidden: 403,
  invalid: 400,
  unacceptable: 422,
  conflict: 409,
  stale: 412,
  version_required: 428,
  too_large: 413,
  unsupported: 415,
};

/** A use case's refusal as the problem that answers it (docs/design.md §3: the door presents, the use case decides). */
function problemOf(r: Refusal): Problem {
  const status = STATUS_OF_REFUSAL[r.refused];
  return new Problem(status, r.title ?? TITLES[status] ?? 'Error', r.detail, r.errors, r.extra ?? {});
}

/** The use case's result, or its refusal thrown as a problem for the router to answer. */
export function resultOf<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw problemOf(outcome);
}

/** zod issues → problem `errors`, naming each parameter and what was expected. */
export function validationProblem(where: 'query' | 'body' | 'path', error: z.ZodError): Problem {
  const errors = error.issues.map((i) => ({ field: i.path.join('.') || where, message: i.message }));
  return problem(
    400,
    `Invalid ${where === 'query' ? 'query parameters' : where === 'path' ? 'path' : 'request body'}: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    errors,
  );
}

// ---- Caller --------------------------------------------------------------------------------------

/**
 * The caller from the verified JWT claims. Accepts our own claims (`role`, `la`, `urn`) and Cognito's
 * (`cognito:groups`, `custom:la`, `custom:urn`) so handlers read the same principal either way.
 */
export function principalOf(event: Event): Principal | undefined {
  const claims = event.requestContext?.authorizer?.jwt?.claims;
  if (!claims) return undefined;
  let role: unknown = claims.role;
  if (!role && claims['cognito:groups'] !== undefined) {
    const g = claims['cognito:groups'];
    const groups = Array.isArray(g)
      ? g
      : String(g)
          .replace(/^\[|\]$/g, '')
          .split(/[\s,]+/);
    role = groups.find((x) => isRole(x));
  }
  if (!isRole(role)) return undefined;
  const la = String(claims.la ?? claims['custom:la'] ?? '');
  const urn = claims.urn ?? claims['custom:urn'];
  const sub = String(claims.sub ?? '');
  if (!sub || !la) return undefined;
  return { sub, role, la, ...(urn ? { urn: String(urn) } : {}) };
}

/** The caller of a route that needs one, or the problem (401/403) that refuses the request. */
export function authorise(def: CallerRouteDef, event: Event): Principal {
  const principal = principalOf(event);
  if (!principal) throw problem(401, 'A valid bearer token is required.');
  if (principal.la !== runtimeConfig().laCode)
    throw problem(403, 'This token was issued for a different local authority.');
  const refusal = refusalOf(principal, def.access);
  if (refusal) throw problem(403, refusal);
  return principal;
}

// ---- Bodies and responses ----------------------------------------------------------------------

export function rawBody(event: Event): Buffer {
  if (!event.body) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

export function jsonBody<T>(event: Event, schema: z.ZodType<T>): T {
  const type = header(event, 'content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) throw problem(415, 'Send the request body as application/json.');
  let value: unknown;
  try {
    value = JSON.parse(rawBody(event).toString('utf8'));
  } catch {
    throw problem(400, 'The request body is not valid JSON.');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationProblem('body', parsed.error);
  return parsed.data;
}

export function header(event: Event, name: string): string | undefined {
  const h = event.headers ?? {};
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): Result {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function wantsCsv(event: Event): boolean {
  return /\btext\/csv\b/i.test(header(event, 'accept') ?? '');
}

/** A spreadsheet-safe CSV cell: RFC 4180 quoting, and formula prefixes (= + - @, tab, CR) neutralised. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = Array.isArray(value) ? value.join(' ') : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvResponse(filename: string, columns: string[], rows: Array<Record<string, unknown>>): Result {
  const lines = [columns.map(csvCell).join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))];
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${filename}"` },
    // BOM so spreadsheets open UTF-8 names correctly.
    body: `\uFEFF${lines.join('\r\n')}\r\n`,
  };
}

// ---- Paging --------------------------------------------------------------------------------------

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(1000).optional().describe('page size (default 50, at most 1000)'),
  cursor: z.string().max(2000).optional().describe('the nextCursor of the previous page'),
};

/**
 * Offset cursors over an in-memory ordered list (views are immutable snapshots per version). A
 * cursor is signed and bound to the query it pages (every parameter but `cursor` and `limit`) and to
 * the snapshot it came from: a cursor that was changed, made up, used with another query or after
 * the list moved on is refused with 400 (issue 15), so an offset never lands in another list.
 */
export function pageOf<T>(
  items: readonly T[],
  query: { limit?: number; cursor?: string } & Record<string, unknown>,
  snapshot: string,
): { items: T[]; nextCursor: string | null } {
  const { limit, cursor, ...rest } = query;
  const binding = `page:${snapshot}|${canonicalJson(rest)}`;
  let offset = 0;
  if (cursor) {
    let parsed: Record<string, unknown>;
    try {
      parsed = decodeCursor(cursor, binding);
    } catch {
      throw problem(
        400,
        'The cursor is not one this service issued for this list as it now stands; start the list again.',
        [{ field: 'cursor', message: 'unrecognised cursor' }],
      );
    }
    if (typeof parsed.o !== 'number' || !Number.isInteger(parsed.o) || parsed.o < 0) {
      throw problem(400, 'The cursor is not one this service issued.', [
        { field: 'cursor', message: 'unrecognised cursor' },
      ]);
    }
    offset = parsed.o;
  }
  const size = limit ?? 50;
  const page = items.slice(offset, offset + size);
  const next = offset + size < items.length ? encodeCursor({ o: offset + size }, binding) : null;
  return { items: page, nextCursor: next };
}
