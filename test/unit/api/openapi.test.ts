/** The API contract: the OpenAPI document is generated from the route definitions and covers every route. */
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { HEADER_CONTRACT, openApiDocument, renderDocsPage } from '../../../functions/api/openapi.js';
import { allRoutes } from '../../../functions/api/routes/index.js';

type Json = Record<string, any>;

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and lists every route with its method, once', async () => {
    const doc: Json = await openApiDocument();
    expect(doc.openapi).toBe('3.1.0');
    const listed = Object.entries(doc.paths as Json).flatMap(([path, ops]) =>
      Object.keys(ops as Json).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(listed.sort()).toEqual(allRoutes.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('declares each path parameter, a success response and the problem+json default', async () => {
    const doc: Json = await openApiDocument();
    for (const def of allRoutes) {
      const op = doc.paths[def.path][def.method.toLowerCase()] as Json;
      const declared = (op.parameters as Json[]).filter((p) => p.in === 'path').map((p) => p.name);
      expect(declared, `${def.method} ${def.path}`).toEqual([...def.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
      const codes = Object.keys(op.responses as Json);
      // Success is a 2xx, or 303 where the content is fetched from S3 (a kept file: Lambda returns at most 6 MB).
      expect(
        codes.some((c) => (def.successStatus === 303 ? c === '303' : /^2\d\d$/.test(c))),
        `${def.method} ${def.path}`,
      ).toBe(true);
      expect(op.responses.default.content['application/problem+json'].schema.$ref).toBe('#/components/schemas/Problem');
      expect(Boolean(op.security?.length), `${def.method} ${def.path}`).toBe(def.access !== 'public');
      if (def.access === 'public')
        expect(op.security, `${def.method} ${def.path}: says outright that no token is needed`).toEqual([]);
    }
  });

  it('documents the query parameters of the metrics route with their allowed values', async () => {
    const doc: Json = await openApiDocument();
    const params = (doc.paths['/v1/metrics'].get.parameters as Json[]).map((p) => [
      p.name,
      p.schema.enum ?? p.schema.type,
    ]);
    expect(Object.fromEntries(params)).toMatchObject({ scope: ['la', 'school'], population: ['all', 'compulsory'] });
  });

  it('passes the Redocly validator (recommended rules) with 0 errors', async () => {
    const doc = await openApiDocument();
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config });
    const errors = problems
      .filter((p) => p.severity === 'error')
      .map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    expect(errors).toEqual([]);
    // The validator is not toothless: a broken reference is an error.
    const broken = JSON.parse(JSON.stringify(doc)) as Json;
    broken.paths['/health'].get.responses.default.content['application/problem+json'].schema = {
      $ref: '#/$defs/Problem',
    };
    const found = await lintFromString({ source: JSON.stringify(broken), absoluteRef: 'openapi.json', config });
    expect(found.filter((p) => p.severity === 'error').map((p) => p.ruleId)).toContain('no-unresolved-refs');
  });

  it('references every registered schema as #/components/schemas/<id>, each one defined', async () => {
    const doc: Json = await openApiDocument();
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(allRoutes.length);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\/[A-Za-z0-9]+$/);
      expect(doc.components.schemas[ref.split('/').pop() as string], ref).toBeDefined();
    }
    expect(JSON.stringify(doc)).not.toContain('$defs');
    expect(doc.components.schemas.Problem.required).toEqual(['type', 'title', 'status', 'detail']);
  });

  it('declares If-Match on case changes, Idempotency-Key on case creation, and the ETag and Location headers', async () => {
    const doc: Json = await openApiDocument();
    const headerParams = (path: string, method: string) =>
      Object.fromEntries(
        (doc.paths[path][method].parameters as Json[])
          .filter((p) => p.in === 'header')
          .map((p) => [p.name, p.required]),
      );
    expect(headerParams('/v1/referrals/{id}', 'patch')).toEqual({ 'If-Match': true });
    expect(headerParams('/v1/referrals/{id}/events', 'post')).toEqual({ 'If-Match': true });
    expect(headerParams('/v1/referrals', 'post')).toEqual({ 'Idempotency-Key': false });
    expect(Object.keys(doc.paths['/v1/referrals'].post.responses['201'].headers)).toEqual(
      expect.arrayContaining(['Location', 'ETag']),
    );
    expect(Object.keys(doc.paths['/v1/referrals/{id}'].get.responses['200'].headers)).toEqual(['ETag']);
    expect(Object.keys(doc.paths['/v1/returns'].post.responses['202'].headers)).toEqual(['Location']);
    expect(Object.keys(doc.paths['/v1/returns/{returnId}/file'].get.responses['303'].headers)).toEqual(['Location']);
    expect(doc.paths['/v1/pupils'].get.responses['303'].headers.Location).toBeDefined(); // an over-size CSV export
    for (const code of ['412', '428', '409'])
      expect(doc.paths['/v1/referrals/{id}'].patch.responses[code], code).toBeDefined();
    // Every header contract names a route that exists.
    for (const key of Object.keys(HEADER_CONTRACT))
      expect(allRoutes.map((r) => `${r.method} ${r.path}`)).toContain(key);
  });

  it('declares the 4xx answers of every operation: 400, 401/403/404 behind a token, 413/415 with a body, 429 from the gateway', async () => {
    const doc: Json = await openApiDocument();
    for (const def of allRoutes) {
      const responses = doc.paths[def.path][def.method.toLowerCase()].responses as Json;
      const want = [
        '400',
        '429',
        ...(def.access !== 'public' ? ['401', '403', '404'] : []),
        ...(def.body ? ['413', '415'] : []),
      ];
      for (const code of want) expect(responses[code], `${def.method} ${def.path} ${code}`).toBeDefined();
      expect(responses['400'].content['application/problem+json'].schema.$ref).toBe('#/components/schemas/Problem');
      // What API Gateway answers itself is documented as it is: {"message": …}.
      expect(responses['429'].content['application/json'].schema.$ref).toBe('#/components/schemas/GatewayError');
    }
  });

  it('renders a readable page naming every route', async () => {
    const html = renderDocsPage(await openApiDocument());
    for (const def of allRoutes) expect(html).toContain(def.path.replace(/&/g, '&amp;'));
  });
});
