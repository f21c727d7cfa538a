/** The API contract: the OpenAPI document is generated from the route definitions and covers every route. */
import { describe, expect, it } from 'vitest';
import { openApiDocument, renderDocsPage } from '../../../functions/api/openapi.js';
import { allRoutes } from '../../../functions/api/routes/index.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and lists every route with its method, once', async () => {
    const doc = (await openApiDocument()) as Json;
    expect(doc.openapi).toBe('3.1.0');
    const listed = Object.entries(doc.paths as Json).flatMap(([path, ops]) => Object.keys(ops as Json).map((m) => `${m.toUpperCase()} ${path}`));
    expect(listed.sort()).toEqual(allRoutes.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('declares each path parameter, a success response and the problem+json default', async () => {
    const doc = (await openApiDocument()) as Json;
    for (const def of allRoutes) {
      const op = doc.paths[def.path][def.method.toLowerCase()] as Json;
      const declared = (op.parameters as Json[]).filter((p) => p.in === 'path').map((p) => p.name);
      expect(declared, `${def.method} ${def.path}`).toEqual([...def.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
      const codes = Object.keys(op.responses as Json);
      expect(codes.some((c) => /^2\d\d$/.test(c)), `${def.method} ${def.path}`).toBe(true);
      expect(op.responses.default.content['application/problem+json'].schema.$ref).toBe('#/components/schemas/Problem');
      expect(Boolean(op.security), `${def.method} ${def.path}`).toBe(def.access !== 'public');
    }
  });

  it('documents the query parameters of the metrics route with their allowed values', async () => {
    const doc = (await openApiDocument()) as Json;
    const params = (doc.paths['/v1/metrics'].get.parameters as Json[]).map((p) => [p.name, p.schema.enum ?? p.schema.type]);
    expect(Object.fromEntries(params)).toMatchObject({ scope: ['la', 'school'], population: ['all', 'compulsory'] });
  });

  it('renders a readable page naming every route', async () => {
    const html = renderDocsPage(await openApiDocument());
    for (const def of allRoutes) expect(html).toContain(def.path.replace(/&/g, '&amp;'));
  });
});
