/**
 * API Lambda: every HTTP route (API Gateway HTTP API v2 → middy router). Handlers in routes/ only
 * translate a request into calls on shared/domain and shared/store and the result back. The router
 * (`runRoute`) is the one place that enforces each route's declared permission and writes its
 * declared audit (issue 16); it registers no route that declares neither.
 */
import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { errorSummary, logger, withLambdaContext } from '../../shared/observability.js';
import { recordAudit, recordAuditOfPupils } from '../../shared/store/audit.js';
import type { Principal } from '../../shared/domain/access.js';
import { fitForLambda } from './large-responses.js';
import { InvalidCursorError, loadCursorSigningKey } from '../../shared/store/table.js';
import {
  authorise,
  checkRoute,
  principalOf,
  problem,
  Problem,
  problemResponse,
  validationProblem,
  type AuditNote,
  type Event,
  type Result,
  type RouteAudit,
  type RouteDef,
} from './http.js';
import { allRoutes } from './routes/index.js';

/** A refusal by the access rules is an audited event too: who tried what. Best effort: the answer stays 403. */
async function auditDenied(def: RouteDef, event: Event): Promise<void> {
  const caller = principalOf(event);
  if (!caller) return;
  await recordAudit(caller, {
    action: 'denied',
    target: `${def.method} ${def.path}`,
    outcome: 'forbidden',
    ...(caller.urn ? { urn: caller.urn } : {}),
  }).catch((err: unknown) => {
    logger.error('audit of a refusal failed', { error: errorSummary(err) });
  });
}

/**
 * The audit of one request to an audited route (the one path by which routes write the log): the
 * handler notes what it read or changed, under the action the route declared, and the router writes
 * the notes when the handler has finished — answered or refused — before anything is sent. An
 * answer with no note still leaves an entry for the request, so a route cannot forget its audit.
 */
class RequestAudit implements RouteAudit {
  private readonly notes: Array<{ note: AuditNote; upns?: string[] }> = [];

  constructor(
    private readonly action: string,
    private readonly principal: Principal,
  ) {}

  record(note: AuditNote): void {
    this.notes.push({ note });
  }

  pupils(note: Omit<AuditNote, 'upn' | 'count'>, upns: Iterable<string>): void {
    this.notes.push({ note, upns: [...upns] });
  }

  get noted(): boolean {
    return this.notes.length > 0;
  }

  async write(): Promise<void> {
    const notes = this.notes.splice(0);
    // Written together, not one after another: a request waits for its audit once.
    await Promise.all(
      notes.map(({ note, upns }) =>
        upns
          ? recordAuditOfPupils(this.principal, { ...note, action: this.action }, upns)
          : recordAudit(this.principal, { ...note, action: this.action }),
      ),
    );
  }
}

/** A route declared as auditing nothing that tries to write an entry is a programming error. */
const NO_AUDIT: RouteAudit = {
  record: () => {
    throw new Error('this route declares that it records no audit');
  },
  pupils: () => {
    throw new Error('this route declares that it records no audit');
  },
};

function parseQuery(def: RouteDef, event: Event): unknown {
  if (!def.query) return {};
  const parsed = def.query.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) throw validationProblem('query', parsed.error);
  return parsed.data;
}

/** One route as the router runs it: declaration checked, caller authorised, audit recorded. */
export function runRoute(def: RouteDef) {
  checkRoute(def);
  return async (event: Event): Promise<Result> => {
    let audit: RequestAudit | undefined;
    try {
      const request = (query: unknown) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
        return { event, query, params: (event.pathParameters ?? {}) as Record<string, string>, headers };
      };
      let result: Result;
      if (def.access === 'public') {
        // Public routes get no principal (and have nothing to audit).
        result = await def.handler(request(parseQuery(def, event)));
      } else {
        const principal = authorise(def, event);
        // Once per process: the table's shared cursor key, so any instance accepts any instance's cursors.
        await loadCursorSigningKey().catch((err: unknown) =>
          logger.warn('cursor signing key not loaded; this instance signs with its own', { error: errorSummary(err) }),
        );
        const query = parseQuery(def, event);
        audit = 'action' in def.audit ? new RequestAudit(def.audit.action, principal) : undefined;
        result = await def.handler({ ...request(query), principal, audit: audit ?? NO_AUDIT });
        if (audit && !audit.noted) {
          const outcome =
            result.statusCode !== undefined && result.statusCode >= 400 ? `status:${result.statusCode}` : 'ok';
          audit.record({ target: `${def.method} ${event.rawPath ?? def.path}`.slice(0, 200), outcome });
        }
        await audit?.write();
      }
      // Over Lambda's 6 MB response limit (a whole LA's CSV export): parked in S3, answered with 303.
      return await fitForLambda(result);
    } catch (err) {
      try {
        // What the route noted before it refused (not found, refused, stale…) is recorded all the same.
        await audit?.write();
      } catch (auditErr) {
        return errorResponse(auditErr);
      }
      if (err instanceof Problem && err.status === 403) await auditDenied(def, event);
      return errorResponse(err);
    }
  };
}

function errorResponse(err: unknown): Result {
  if (err instanceof Problem) return problemResponse(err);
  if (err instanceof z.ZodError) return problemResponse(validationProblem('body', err));
  // A cursor a route did not check itself is still the client's fault, never a 500.
  if (err instanceof InvalidCursorError)
    return problemResponse(
      problem(400, 'The cursor is not one this service issued.', [{ field: 'cursor', message: 'unrecognised cursor' }]),
    );
  const status = (err as { statusCode?: number })?.statusCode;
  if (status === 404) return problemResponse(problem(404, 'No such route.'));
  if (status === 405) return problemResponse(problem(405, 'This route does not accept that method.'));
  logger.error('unhandled error', { error: errorSummary(err) });
  return problemResponse(problem(500, 'Something went wrong on our side; the request was not completed. Try again.'));
}

/** Route templates as patterns, to tell "no such route" (404) from "not with this method" (405). */
const ROUTE_PATTERNS = allRoutes.map((def) => ({
  method: def.method,
  pattern: new RegExp(`^${def.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

/** 404 for a path no route has; 405 (with Allow) for a route that exists with other methods. */
function noRouteProblem(method: string, path: string): Problem {
  const allowed = [...new Set(ROUTE_PATTERNS.filter((r) => r.pattern.test(path)).map((r) => r.method))];
  if (allowed.length === 0 || allowed.includes(method as never)) return problem(404, 'No such route.');
  return new Problem(
    405,
    'Method not allowed',
    `${method} is not allowed here; allowed: ${allowed.join(', ')}.`,
    undefined,
    {},
    { allow: allowed.join(', ') },
  );
}

const router = httpRouterHandler<APIGatewayProxyEventV2, Result>({
  routes: allRoutes.map((def) => ({ method: def.method, path: def.path, handler: runRoute(def) as never })),
  // The router's not-found function throws (middy 6 types it so); onError turns the problem into the answer.
  notFoundResponse: ({ method, path }: { method: string; path: string }) => {
    throw noRouteProblem(method, path);
  },
});

export const handler = withLambdaContext(
  middy<APIGatewayProxyEventV2, Result>()
    .use(httpHeaderNormalizer())
    .onError(async (request) => {
      request.response = errorResponse(request.error);
    })
    .handler(router as never),
);
