/**
 * The house's shape (issue 16; docs/design.md §3): routes parse, call a use case and present its
 * answer, so no route handler runs over 25 lines; no Lambda's folder imports another's (shared code
 * lives in shared/); use cases (shared/app) import no Lambda code.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const MAX_HANDLER_LINES = 25;
/** Handlers not yet moved into use cases (issue 16): this list only shrinks. */
const NOT_YET_MOVED = new Set<string>();

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

function importsOf(file: string): string[] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const specs: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    )
      specs.push(node.moduleSpecifier.text);
    if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    )
      specs.push(node.arguments[0].text);
    ts.forEachChild(node, visit);
  };
  visit(src);
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(file, '..', s)));
}

/** Every `handler:` property in a route file, with its length in lines (the arrow or function it names). */
function handlerLengths(file: string): Array<{ where: string; lines: number }> {
  const text = readFileSync(file, 'utf8');
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const functions = new Map<string, ts.Node>();
  const found: Array<{ where: string; node: ts.Node }> = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionDeclaration(node) && node.name) functions.set(node.name.text, node);
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.initializer &&
      (ts.isArrowFunction(node.initializer) || ts.isFunctionExpression(node.initializer))
    )
      functions.set(node.name.text, node.initializer);
    if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && node.name.text === 'handler') {
      const line = src.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      found.push({ where: `${relative(ROOT, file)}:${line}`, node: node.initializer });
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return found.map(({ where, node }) => {
    const target = ts.isIdentifier(node) ? (functions.get(node.text) ?? node) : node;
    const start = src.getLineAndCharacterOfPosition(target.getStart()).line;
    const end = src.getLineAndCharacterOfPosition(target.getEnd()).line;
    return { where, lines: end - start + 1 };
  });
}

describe('the layers', () => {
  it('no Lambda folder imports another Lambda folder', () => {
    const offences: string[] = [];
    for (const file of sourceFiles(join(ROOT, 'functions'))) {
      const lambda = relative(ROOT, file).split(sep)[1];
      for (const target of importsOf(file)) {
        const parts = target.split(sep);
        if (parts[0] === 'functions' && parts[1] !== lambda) offences.push(`${relative(ROOT, file)} → ${target}`);
      }
    }
    expect(offences).toEqual([]);
  });

  it('the web app imports nothing from the service: it is a client of the public API only', () => {
    const offences: string[] = [];
    for (const file of sourceFiles(join(ROOT, 'web', 'src')))
      for (const target of importsOf(file))
        if (!target.startsWith(`web${sep}`)) offences.push(`${relative(ROOT, file)} → ${target}`);
    expect(offences).toEqual([]);
  });

  it('shared code (use cases included) imports nothing from a Lambda folder', () => {
    const offences = sourceFiles(join(ROOT, 'shared')).flatMap((file) =>
      importsOf(file)
        .filter((t) => t.split(sep)[0] === 'functions')
        .map((t) => `${relative(ROOT, file)} → ${t}`),
    );
    expect(offences).toEqual([]);
  });

  it('bench, CLI and the local runtime reach a Lambda only through its handler (use cases live in shared/app)', () => {
    const offences = ['bench', 'bin', 'local']
      .flatMap((dir) => sourceFiles(join(ROOT, dir)))
      .flatMap((file) =>
        importsOf(file)
          .filter((t) => t.split(sep)[0] === 'functions' && !/\/(handler|dead-letter)\.js$/.test(t))
          .map((t) => `${relative(ROOT, file)} → ${t}`),
      );
    expect(offences).toEqual([]);
  });

  it(`no route handler is longer than ${MAX_HANDLER_LINES} lines`, () => {
    const long = sourceFiles(join(ROOT, 'functions/api/routes'))
      .flatMap(handlerLengths)
      .filter((h) => h.lines > MAX_HANDLER_LINES && !NOT_YET_MOVED.has(h.where.split(/[/:]/)[3] ?? ''));
    expect(long.map((h) => `${h.where} (${h.lines} lines)`)).toEqual([]);
  });

  it('decides by role only in the router and shared/domain/access.ts: no principal.role under functions/ elsewhere', () => {
    const router = new Set(['functions/api/http.ts', 'functions/api/handler.ts']);
    const found = sourceFiles(join(ROOT, 'functions'))
      .filter((file) => !router.has(relative(ROOT, file).split(sep).join('/')))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, where: `${relative(ROOT, file)}:${i + 1}` })),
      )
      .filter(({ line }) => /\bprincipal\.role\b/.test(line))
      .map(({ where }) => where);
    expect(found).toEqual([]);
  });

  it('reads the environment only in shared/config.ts (one way to read configuration)', () => {
    const found = [...sourceFiles(join(ROOT, 'functions')), ...sourceFiles(join(ROOT, 'shared'))]
      .filter((file) => relative(ROOT, file).split(sep).join('/') !== 'shared/config.ts')
      .filter((file) => /\bprocess\.env\b/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file));
    expect(found).toEqual([]);
  });
});
