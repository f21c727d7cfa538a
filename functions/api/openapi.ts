/**
 * The OpenAPI 3.1 document, generated from the routes' zod schemas (the contract lives in one place),
 * and a readable HTML rendering of it for GET /docs (no external scripts: it works offline).
 *
 * Schemas registered with an id (`.meta({ id })`) become `components.schemas` entries referenced as
 * `#/components/schemas/<id>`; zod emits them as `#/$defs/<id>`, which does not resolve inside an
 * OpenAPI document, so every generated schema goes through `Components.adopt`. The document is
 * checked by Redocly's validator in test/unit/api/openapi.test.ts (0 errors).
 */
import * as z from 'zod';
import type { RouteDef } from './http.js';

type Json = Record<string, unknown>;

let cached: Json | undefined;

const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };
const GATEWAY_ERROR_REF = { $ref: '#/components/schemas/GatewayError' };

/** `components.schemas`, filled as route schemas are generated. */
class Components {
  readonly schemas: Record<string, Json> = {};

  /**
   * A zod schema as JSON Schema whose registered parts live in `components.schemas`. The same id
   * generated for input and for output can differ (defaults, transforms); the input form then
   * gets its own name (`<id>Input`).
   */
  schemaOf(s: z.ZodType, io: 'input' | 'output'): Json {
    const js = z.toJSONSchema(s, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
    delete js.$schema;
    const defs = (js.$defs ?? {}) as Record<string, Json>;
    delete js.$defs;
    const names = new Map(Object.keys(defs).map((id) => [id, id]));
    const rewrite = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(rewrite);
      if (!node || typeof node !== 'object') return node;
      const out: Json = {};
      for (const [k, v] of Object.entries(node as Json)) {
        if (k === '$ref' && typeof v === 'string') {
          const m = /^#\/\$defs\/(.+)$/.exec(v);
          const name = m && names.get(decodeURIComponent(m[1]).replace(/~1/g, '/').replace(/~0/g, '~'));
          if (!name) throw new Error(`unresolvable $ref ${v} in a generated schema`);
          out[k] = `#/components/schemas/${name}`;
        } else out[k] = rewrite(v);
      }
      return out;
    };
    // A definition that differs from the one already held under its id gets its own name; renaming
    // one can change those that refer to it, hence the loop (it ends: each id is renamed at most once).
    for (let changed = true; changed;) {
      changed = false;
      for (const [id, def] of Object.entries(defs)) {
        const name = names.get(id) as string;
        const held = this.schemas[name];
        if (!held || JSON.stringify(held) === JSON.stringify(rewrite(def))) continue;
        if (name !== id) throw new Error(`two different schemas are registered as ${id}`);
        names.set(id, `${id}${io === 'input' ? 'Input' : 'Output'}`);
        changed = true;
      }
    }
    for (const [id, def] of Object.entries(defs)) this.schemas[names.get(id) as string] = rewrite(def) as Json;
    return rewrite(js) as Json;
  }
}

/**
 * HTTP headers the routes read or set beyond the content type, by route (`METHOD path`). Kept beside
 * the routes' own schemas because a header is read from `headers[...]` inside a handler, which the
 * route definition does not declare; test/unit/api/openapi.test.ts checks each against behaviour.
 */
/** A change to a referral case names the version it was made to. */
const IF_MATCH_CASE = {
  name: 'If-Match',
  in: 'header',
  required: true,
  schema: { type: 'string' },
  description: 'The ETag of the case as read (e.g. "3"); 428 without it, 412 when the case has changed since',
} as const;

export const HEADER_CONTRACT: Record<
  string,
  { request?: Json[]; response?: Record<string, Json>; status?: Record<number, string> }
> = {
  'POST /v1/returns': {
    response: { Location: { description: "The return's status URL", schema: { type: 'string' } } },
  },
  'POST /v1/patterns/runs': {
    response: { Location: { description: "The run's status URL", schema: { type: 'string' } } },
  },
  'POST /v1/referrals': {
    request: [
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        schema: { type: 'string', maxLength: 200 },
        description:
          'Repeating a creation with the same key returns the case created the first time (Idempotent-Replayed: true)',
      },
    ],
    response: {
      Location: { description: 'The new case', schema: { type: 'string' } },
      ETag: { description: 'The case version, for If-Match', schema: { type: 'string' } },
      'Idempotent-Replayed': {
        description: '"true" when the answer is a replay of an earlier creation with the same key',
        schema: { type: 'string' },
      },
    },
  },
  'GET /v1/referrals/{id}': {
    response: { ETag: { description: 'The case version, for If-Match', schema: { type: 'string' } } },
  },
  'PATCH /v1/referrals/{id}': {
    request: [IF_MATCH_CASE],
    response: { ETag: { description: 'The new case version', schema: { type: 'string' } } },
    status: {
      409: "The change conflicts with the case's state",
      412: 'The case has changed since it was read',
      422: 'The change is refused by the case rules',
      428: 'If-Match is required',
    },
  },
  'POST /v1/referrals/{id}/events': {
    request: [IF_MATCH_CASE],
    response: { ETag: { description: 'The new case version', schema: { type: 'string' } } },
    status: {
      409: "The event conflicts with the case's state",
      412: 'The case has changed since it was read',
      422: 'The event is refused by the case rules',
      428: 'If-Match is required',
    },
  },
  'GET /v1/returns/{returnId}/file': {
    response: {
      Location: {
        description: 'A presigned S3 URL of the file, valid for a few minutes',
        schema: { type: 'string', format: 'uri' },
      },
    },
  },
};

const problemContent = { 'application/problem+json': { schema: PROBLEM_REF } };
/** Answers API Gateway gives itself (authorizer, throttling, body size): `{"message": …}`; see docs/security.md. */
const gatewayOrProblem = { ...problemContent, 'application/json': { schema: GATEWAY_ERROR_REF } };

function errorResponses(def: RouteDef): Record<string, Json> {
  const out: Record<string, Json> = {};
  const add = (code: number, description: string, content: Json = problemContent) =>
    (out[String(code)] = { description, content });
  const hasParams = /\{\w+\}/.test(def.path);
  add(400, 'The request is malformed: a parameter, header or body fails its schema (the problem names each)');
  if (def.access !== 'public') {
    add(
      401,
      "No valid bearer token (refused by the gateway's JWT authorizer, or by the API for missing claims)",
      gatewayOrProblem,
    );
    add(403, 'The role may not do this, or the token is for another LA');
  }
  if (hasParams || def.access !== 'public')
    add(404, "No such thing, or none within the caller's scope (the same answer either way)");
  if (def.body) {
    add(413, "The body is over the route's limit (or the gateway's 10 MB)", gatewayOrProblem);
    add(415, "The body's media type is not one this route takes");
  }
  if (def.csv) add(406, 'The CSV export is over the size a response may have; narrow the query or page through JSON');
  add(429, "Too many requests: the gateway's throttle for this route", {
    'application/json': { schema: GATEWAY_ERROR_REF },
  });
  for (const [code, description] of Object.entries(HEADER_CONTRACT[`${def.method} ${def.path}`]?.status ?? {}))
    add(Number(code), description);
  return out;
}

function successStatus(def: RouteDef): number {
  return (
    def.successStatus ??
    (def.method === 'POST' ? (def.path === '/v1/returns' || def.path.endsWith('/runs') ? 202 : 201) : 200)
  );
}

function operation(def: RouteDef, components: Components): Json {
  const contract = HEADER_CONTRACT[`${def.method} ${def.path}`];
  const parameters: Json[] = [];
  for (const m of def.path.matchAll(/\{(\w+)\}/g))
    parameters.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
  if (def.query) {
    const js = components.schemaOf(def.query, 'input');
    const props = (js.properties ?? {}) as Record<string, Json>;
    const required = new Set((js.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries(props)) {
      const { description, ...rest } = schema;
      parameters.push({
        name,
        in: 'query',
        required: required.has(name),
        schema: rest,
        ...(description ? { description } : {}),
      });
    }
  }
  parameters.push(...(contract?.request ?? []));
  const status = successStatus(def);
  const success: Json =
    status === 303
      ? { description: 'See Other: fetch the content from the Location given (a presigned URL)' }
      : status === 204
        ? { description: 'No Content: done' }
        : {
            description: 'Success',
            content: {
              'application/json': { schema: def.response ? components.schemaOf(def.response, 'output') : {} },
              ...(def.csv ? { 'text/csv': { schema: { type: 'string' } } } : {}),
            },
          };
  if (contract?.response) success.headers = contract.response;
  const responses: Json = { [String(status)]: success };
  if (def.csv) {
    responses['303'] = {
      description:
        'With Accept: text/csv, an export too large for a response body is written to S3 and answered with a presigned URL',
      headers: {
        Location: {
          description: 'A presigned S3 URL of the CSV file, valid for a few minutes',
          schema: { type: 'string', format: 'uri' },
        },
      },
    };
  }
  Object.assign(responses, errorResponses(def), {
    default: { description: 'A problem (RFC 9457)', content: problemContent },
  });
  const op: Json = {
    summary: def.summary,
    operationId: `${def.method.toLowerCase()}${def.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    tags: def.tags ?? [],
    parameters,
    responses,
  };
  // Per operation; `[]` says outright that a public route needs no token.
  op.security = def.access === 'public' ? [] : [{ bearer: [] }];
  if (def.access !== 'public' && def.access !== 'any') op['x-capability'] = def.access;
  if (def.body) {
    op.requestBody =
      'mediaTypes' in def.body
        ? {
            required: true,
            description: def.body.description,
            content: Object.fromEntries(def.body.mediaTypes.map((t) => [t, { schema: { type: 'string' } }])),
          }
        : { required: true, content: { 'application/json': { schema: components.schemaOf(def.body, 'input') } } };
  }
  return op;
}

export async function openApiDocument(): Promise<Json> {
  if (cached) return cached;
  const { allRoutes } = await import('./routes/index.js');
  const { Problem } = await import('../../shared/schemas/common.js');
  const components = new Components();
  components.schemaOf(Problem, 'output');
  components.schemas.GatewayError = {
    type: 'object',
    description:
      'An answer from API Gateway itself (JWT authorizer, throttling, body size), which an HTTP API cannot reshape: see docs/security.md',
    properties: { message: { type: 'string' } },
    required: ['message'],
  };
  const paths: Record<string, Json> = {};
  for (const def of allRoutes) {
    paths[def.path] ??= {};
    paths[def.path][def.method.toLowerCase()] = operation(def, components);
  }
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Attendance Hub API',
      version: '1.0.0',
      description:
        'LA-wide school attendance analytics and referrals. Figures follow the DfE methodology: rates over possible sessions; ' +
        "persistent absence at ≥ 10 % and severe at ≥ 50 % of an enrolment's own possible sessions.",
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: components.schemas,
    },
    paths,
  };
  return cached;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export function renderDocsPage(doc: Json): string {
  const info = doc.info as { title: string; description: string };
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const sections = Object.entries(paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => {
        const params = ((op.parameters as Json[]) ?? [])
          .map(
            (p) =>
              `<li><code>${escapeHtml(String(p.name))}</code> (${p.in}${p.required ? ', required' : ''})${p.description ? ` — ${escapeHtml(String(p.description))}` : ''}</li>`,
          )
          .join('');
        const access =
          (op.security as unknown[]).length > 0
            ? `needs a token${op['x-capability'] ? ` with <code>${escapeHtml(String(op['x-capability']))}</code>` : ''}`
            : 'no token needed';
        return `<section><h2><span class="m">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h2><p>${escapeHtml(String(op.summary ?? ''))}</p><p class="a">${access}</p>${params ? `<ul>${params}</ul>` : ''}</section>`;
      }),
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#0b0c0c}h1{font-size:1.8rem}section{border-top:1px solid #b1b4b6;padding:.5rem 0}h2{font-size:1.05rem;margin:.3rem 0}.m{display:inline-block;min-width:4.2rem;font-weight:700;color:#1d70b8}.a{color:#505a5f;font-size:.9rem;margin:0}code{background:#f3f2f1;padding:0 .2rem}</style></head>
<body><h1>${escapeHtml(info.title)}</h1><p>${escapeHtml(info.description)}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Errors are RFC 9457 <code>application/problem+json</code>. Lists page with <code>?limit=&amp;cursor=</code>; send <code>Accept: text/csv</code> for a spreadsheet-safe CSV.</p>
${sections}</body></html>`;
}
