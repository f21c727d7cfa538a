/**
 * The web app is a client of the public API only (it imports no shared code: docs/web.md), so its
 * own types are checked here against the OpenAPI document generated from the routes' schemas: the
 * pupil view and its enrolments name the fields the API answers, nullable where the API says null.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../functions/api/openapi.js';

type Json = Record<string, any>;
const WEB_API = resolve(import.meta.dirname, '../../../web/src/api.ts');

/** A type literal's or interface's fields: name → whether `null` is allowed. */
function fieldsOf(members: ts.NodeArray<ts.TypeElement>): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const m of members) {
    if (!ts.isPropertySignature(m) || !m.type) continue;
    const nullable =
      ts.isUnionTypeNode(m.type) &&
      m.type.types.some((t) => ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword);
    out[m.name.getText()] = nullable;
  }
  return out;
}

function webInterface(name: string): ts.InterfaceDeclaration {
  const src = ts.createSourceFile(WEB_API, readFileSync(WEB_API, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found = src.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name,
  );
  if (!found) throw new Error(`web/src/api.ts has no interface ${name}`);
  return found;
}

/** A schema's properties: name → whether `null` is allowed. */
function schemaFields(schema: Json): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const [name, p] of Object.entries(schema.properties as Json)) {
    const types = [p.type, ...((p.anyOf ?? p.oneOf ?? []) as Json[]).map((a) => a.type)].flat();
    out[name] = types.includes('null');
  }
  return out;
}

describe("the web client's types against the OpenAPI document", () => {
  it('the pupil view and its enrolments have the fields the API answers', async () => {
    const doc: Json = await openApiDocument();
    const pupilView = doc.components.schemas.PupilView as Json;
    const web = webInterface('PupilView');
    expect(fieldsOf(web.members)).toEqual(schemaFields(pupilView));
    const enrolments = web.members.find((m) => m.name?.getText() === 'enrolments') as ts.PropertySignature;
    const element = (enrolments.type as ts.TypeReferenceNode).typeArguments?.[0] as ts.TypeLiteralNode;
    expect(fieldsOf(element.members)).toEqual(schemaFields(pupilView.properties.enrolments.items));
  });
});
