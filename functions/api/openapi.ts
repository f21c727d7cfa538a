/**
 * The OpenAPI 3.1 document, generated from the routes' zod schemas (the contract lives in one place),
 * and a readable HTML rendering of it for GET /docs (no external scripts: it works offline).
 */
import * as z from 'zod';
import type { RouteDef } from './http.js';

type Json = Record<string, unknown>;

let cached: Json | undefined;

function schemaOf(s: z.ZodType, io: 'input' | 'output'): Json {
  const js = z.toJSONSchema(s, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
  delete js.$schema;
  return js;
}

function operation(def: RouteDef): Json {
  const parameters: Json[] = [];
  for (const m of def.path.matchAll(/\{(\w+)\}/g)) parameters.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
  if (def.query) {
    const js = schemaOf(def.query as z.ZodType, 'input');
    const props = (js.properties ?? {}) as Record<string, Json>;
    const required = new Set((js.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries(props)) {
      const { description, ...rest } = schema;
      parameters.push({ name, in: 'query', required: required.has(name), schema: rest, ...(description ? { description } : {}) });
    }
  }
  const op: Json = {
    summary: def.summary,
    operationId: `${def.method.toLowerCase()}${def.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    tags: def.tags ?? [],
    parameters,
    responses: {
      [String(def.successStatus ?? (def.method === 'POST' ? (def.path === '/v1/returns' || def.path.endsWith('/runs') ? 202 : 201) : 200))]: {
        description: 'Success',
        content: {
          'application/json': { schema: def.response ? schemaOf(def.response, 'output') : {} },
          ...(def.csv ? { 'text/csv': { schema: { type: 'string' } } } : {}),
        },
      },
      default: { description: 'A problem (RFC 9457)', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
    },
  };
  if (def.access !== 'public') op.security = [{ bearer: [] }];
  if (def.access !== 'public' && def.access !== 'any') op['x-capability'] = def.access;
  if (def.body) {
    op.requestBody =
      'mediaTypes' in def.body
        ? { required: true, description: def.body.description, content: Object.fromEntries(def.body.mediaTypes.map((t) => [t, { schema: { type: 'string' } }])) }
        : { required: true, content: { 'application/json': { schema: schemaOf(def.body as z.ZodType, 'input') } } };
  }
  return op;
}

export async function openApiDocument(): Promise<Json> {
  if (cached) return cached;
  const { allRoutes } = await import('./routes/index.js');
  const { Problem } = await import('../../shared/schemas/common.js');
  const paths: Record<string, Json> = {};
  for (const def of allRoutes) {
    paths[def.path] ??= {};
    paths[def.path][def.method.toLowerCase()] = operation(def);
  }
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Attendance Hub API',
      version: '1.0.0',
      description:
        'LA-wide school attendance analytics and referrals. Figures follow the DfE methodology: rates over possible sessions; ' +
        'persistent absence at ≥ 10 % and severe at ≥ 50 % of an enrolment\'s own possible sessions.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Problem: schemaOf(Problem, 'output') },
    },
    paths,
  };
  return cached;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export function renderDocsPage(doc: Json): string {
  const info = doc.info as { title: string; description: string };
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const sections = Object.entries(paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => {
        const params = ((op.parameters as Json[]) ?? [])
          .map((p) => `<li><code>${escapeHtml(String(p.name))}</code> (${p.in}${p.required ? ', required' : ''})${p.description ? ` — ${escapeHtml(String(p.description))}` : ''}</li>`)
          .join('');
        const access = op.security ? `needs a token${op['x-capability'] ? ` with <code>${escapeHtml(String(op['x-capability']))}</code>` : ''}` : 'no token needed';
        return `<section><h2><span class="m">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h2><p>${escapeHtml(String(op.summary ?? ''))}</p><p class="a">${access}</p>${params ? `<ul>${params}</ul>` : ''}</section>`;
      }),
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#0b0c0c}h1{font-size:1.8rem}section{border-top:1px solid #b1b4b6;padding:.5rem 0}h2{font-size:1.05rem;margin:.3rem 0}.m{display:inline-block;min-width:4.2rem;font-weight:700;color:#1d70b8}.a{color:#505a5f;font-size:.9rem;margin:0}code{background:#f3f2f1;padding:0 .2rem}</style></head>
<body><h1>${escapeHtml(info.title)}</h1><p>${escapeHtml(info.description)}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Errors are RFC 9457 <code>application/problem+json</code>. Lists page with <code>?limit=&amp;cursor=</code>; send <code>Accept: text/csv</code> for a spreadsheet-safe CSV.</p>
${sections}</body></html>`;
}
