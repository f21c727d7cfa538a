import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Every citation of the design in the code and docs ("DESIGN §2.5", "docs/design.md §4",
 * "DESIGN §2.1–§2.4") must name a numbered heading of docs/design.md, so a reader can follow it.
 * "DESIGN §n" is read as a citation of docs/design.md (the design kept in the repository).
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DESIGN = join(ROOT, 'docs', 'design.md');

/** Folders whose source files are scanned, and the docs beside the design. */
const SOURCE_DIRS = ['functions', 'shared', 'lib', 'local', 'bin', 'bench', 'web', 'test', 'docs'];
const ROOT_FILES = ['README.md'];
const SOURCE_FILE = /\.(?:ts|tsx|mts|cts|js|mjs|cjs|md)$/;
const SKIPPED_DIRS = new Set(['node_modules', 'cdk.out', 'coverage', '.data', '.tmp', 'results']);

/**
 * "DESIGN §2.5", "DESIGN 2.6", "design.md §4", with an optional range "–§2.4" / "-2.6"; a comment may
 * wrap between "DESIGN" and "§2.3" (then the § is required).
 */
const CITATION =
  /(?:\bDESIGN|design\.md)(?:[^\S\n]*§?|\s*\n\s*(?:\*|\/\/)?\s*§)[^\S\n]*(\d+(?:\.\d+)*)(?:[^\S\n]*[–-][^\S\n]*§?[^\S\n]*(\d+(?:\.\d+)*))?/g;

/** A numbered heading: "## 2. Domain rules", "### 2.5 Statutory triggers". */
const HEADING = /^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s/;

interface Citation {
  file: string;
  line: number;
  section: string;
}

/** The sections a piece of text cites (both ends of a range). */
function citationsIn(text: string, file = ''): Citation[] {
  const found: Citation[] = [];
  for (const m of text.matchAll(CITATION)) {
    const line = text.slice(0, m.index).split('\n').length;
    found.push({ file, line, section: m[1] });
    if (m[2]) found.push({ file, line, section: m[2] });
  }
  return found;
}

/** The section numbers of a markdown document's numbered headings. */
function sectionsOf(markdown: string): Set<string> {
  const sections = new Set<string>();
  for (const line of markdown.split('\n')) {
    const m = HEADING.exec(line);
    if (m) sections.add(m[1]);
  }
  return sections;
}

function sourceFiles(): string[] {
  const files = ROOT_FILES.map((f) => join(ROOT, f)).filter((f) => existsSync(f));
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(path);
      } else if (SOURCE_FILE.test(entry.name) && path !== DESIGN) {
        files.push(path);
      }
    }
  };
  for (const dir of SOURCE_DIRS) {
    const path = join(ROOT, dir);
    if (existsSync(path)) walk(path);
  }
  return files;
}

describe('citations of the design', () => {
  it('reads single sections, ranges and both spellings of a citation', () => {
    const text = [
      'PA is ≥ 10% (DESIGN §2.2); see DESIGN §2.1–§2.4.',
      '// docs/design.md §4 flag types, DESIGN §2.5–2.6',
      "it('a window peaking just under the threshold: DESIGN 2.6')",
      'DESIGN is silent here; DESIGN.md is another file; §7 alone is not a citation',
      ' * breaks with their holiday-adjacent days (DESIGN',
      ' * §2.3, K from LaSettings), DESIGN',
      ' * 12 schools is not a citation',
    ].join('\n');
    expect(citationsIn(text).map((c) => `${c.line}:${c.section}`)).toEqual([
      '1:2.2',
      '1:2.1',
      '1:2.4',
      '2:4',
      '2:2.5',
      '2:2.6',
      '3:2.6',
      '5:2.3',
    ]);
  });

  it('takes section numbers only from numbered headings', () => {
    const md = '# Title\n## 2. Domain rules\n### 2.5 Statutory triggers\nSee 3.1 below.\n## Appendix\n';
    expect([...sectionsOf(md)]).toEqual(['2', '2.5']);
  });

  it('cites only sections that are headings of docs/design.md', () => {
    expect(existsSync(DESIGN), 'docs/design.md exists').toBe(true);
    const sections = sectionsOf(readFileSync(DESIGN, 'utf8'));
    const citations = sourceFiles().flatMap((f) => citationsIn(readFileSync(f, 'utf8'), relative(ROOT, f)));
    // The scan reaches the code: it cites the design over a hundred times.
    expect(citations.length).toBeGreaterThan(100);
    const unknown = citations
      .filter((c) => !sections.has(c.section))
      .map((c) => `${c.file}:${c.line} cites §${c.section}`);
    expect(unknown, `sections in docs/design.md: ${[...sections].join(', ')}`).toEqual([]);
  });
});
