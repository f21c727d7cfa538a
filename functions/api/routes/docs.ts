/** Unauthenticated routes: health, the OpenAPI document (generated from the route schemas) and readable docs. */
import { defineRoute, json } from '../http.js';
import { openApiDocument, renderDocsPage } from '../openapi.js';

export const docRoutes = [
  defineRoute({
    method: 'GET',
    path: '/health',
    access: 'public',
    audit: { none: 'public' },
    tags: ['service'],
    summary: 'Liveness: 200 when the API can answer',
    handler: async () => json(200, { status: 'ok' }),
  }),
  defineRoute({
    method: 'GET',
    path: '/openapi.json',
    access: 'public',
    audit: { none: 'public' },
    tags: ['service'],
    summary: 'This API as OpenAPI 3.1',
    handler: async () => json(200, await openApiDocument()),
  }),
  defineRoute({
    method: 'GET',
    path: '/docs',
    access: 'public',
    audit: { none: 'public' },
    tags: ['service'],
    summary: 'Readable API documentation',
    handler: async () => ({
      statusCode: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: renderDocsPage(await openApiDocument()),
    }),
  }),
];
