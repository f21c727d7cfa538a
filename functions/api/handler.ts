/**
 * API Lambda: every HTTP route (API Gateway HTTP API v2 → middy router). Handlers in routes/ only
 * translate a request into calls on shared/domain and shared/store and the result back.
 */
import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { errorSummary, logger, withLambdaContext } from '../../shared/observability.js';
import { recordAudit } from '../../shared/store/audit.js';
import { fitForLambda } from './large-responses.js';
import { InvalidCursorError, loadCursorSigningKey } from '../../shared/store/table.js';
import { authorise, principalOf, problem, Problem, problemResponse, validationProblem, type Event, type Result, type RouteDef } from './http.js';
import { allRoutes } from './routes/index.js';

/** A refusal by the access rules is an audited event too: who tried what. Best effort: the answer stays 403. */
async function auditDenied(def: RouteDef, event: Event): Promise<void> {
  const caller = principalOf(event);
  if (!caller) return;
  await recordAudit(caller, { action: 'denied', target: `${def.method} ${def.path}`, outcome: 'forbidden', ...(caller.urn ? { urn: caller.urn } : {}) }).catch((err: unknown) => {
    logger.error('audit of a refusal failed', { error: errorSummary(err) });
  });
}

function runRoute(def: RouteDef) {
  return async (event: Event): Promise<Result> => {
    try {
      const principal = authorise(def, event);
      // Once per process: the table's shared cursor key, so any instance accepts any instance's cursors.
      if (def.access !== 'public') await loadCursorSigningKey().catch((err: unknown) => logger.warn('cursor signing key not loaded; this instance signs with its own', { error: errorSummary(err) }));
      let query: unknown = {};
      if (def.query) {
        const parsed = def.query.safeParse(event.queryStringParameters ?? {});
        if (!parsed.success) throw validationProblem('query', parsed.error);
        query = parsed.data;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
      // Over Lambda's 6 MB response limit (a whole LA's CSV export): parked in S3, answered with 303.
      return await fitForLambda(await def.handler({ event, principal, query, params: (event.pathParameters ?? {}) as Record<string, string>, headers }));
    } catch (err) {
      if (err instanceof Problem && err.status === 403) await auditDenied(def, event);
      return errorResponse(err);
    }
  };
}

export function errorResponse(err: unknown): Result {
  if (err instanceof Problem) return problemResponse(err);
  if (err instanceof z.ZodError) return problemResponse(validationProblem('body', err));
  // A cursor a route did not check itself is still the client's fault, never a 500.
  if (err instanceof InvalidCursorError) return problemResponse(problem(400, 'The cursor is not one this service issued.', [{ field: 'cursor', message: 'unrecognised cursor' }]));
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
export function noRouteProblem(method: string, path: string): Problem {
  const allowed = [...new Set(ROUTE_PATTERNS.filter((r) => r.pattern.test(path)).map((r) => r.method))];
  if (allowed.length === 0 || allowed.includes(method as never)) return problem(404, 'No such route.');
  return new Problem(405, 'Method not allowed', `${method} is not allowed here; allowed: ${allowed.join(', ')}.`, undefined, {}, { allow: allowed.join(', ') });
}

export function noRouteResponse(method: string, path: string): Result {
  return problemResponse(noRouteProblem(method, path));
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
