/**
 * Defensive XML front end for the XML uploads (CTF returns, CIN census), on fast-xml-parser 5.
 *
 * Order of defence, each step failing with a precise error (code, line, message):
 *  1. size bound on the raw bytes (before any decoding);
 *  2. text check: valid UTF-8 (a UTF-8 BOM is allowed), no UTF-16, no control characters that
 *     XML 1.0 forbids (binary junk is reported at its line);
 *  3. a linear lexical guard written here, which the parser never sees past: it rejects any
 *     DOCTYPE / DTD / ENTITY / other `<!` declaration (so no external entity, no billion laughs),
 *     every processing instruction except the leading `<?xml …?>` declaration, any entity
 *     reference other than the five predefined ones and numeric character references (which
 *     must name a legal XML character), nesting deeper than the limit (checked on the way in,
 *     so a 10,000-deep document costs one pass and no recursion), mismatched or unclosed tags
 *     (a truncated file ends "before <X> opened on line L is closed"), text outside the root
 *     and a second root element;
 *  4. fast-xml-parser's XMLValidator for the remaining well-formedness rules (attribute syntax);
 *  5. XMLParser with entity processing OFF (`processEntities: false`, `htmlEntities: false`),
 *     `maxNestedTags` = the depth limit as a second guard, `preserveOrder` + `captureMetaData`
 *     so every element keeps its order and start/end offsets (endIndex needs fast-xml-parser ≥ 5.11). Text is decoded here (five named
 *     entities + numeric references only), never by the library.
 *
 * The result is a small ordered tree of elements with 1-based line numbers; attributes are not
 * kept (no format we read carries data in attributes). Stray text between child elements is
 * kept with its own line so importers can report it ("PersonBirthDate" after `<UPNunknown>`).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { LIMITS } from '../config.js';
import type { FileError } from './csv.js';

export interface XmlText {
  /** Decoded text (entities resolved, CDATA as written), untrimmed. */
  text: string;
  /** Line of the first non-blank character (or of the text's start when all blank). */
  line: number;
}

export interface XmlElement {
  name: string;
  /** Line of the element's start tag. */
  line: number;
  children: XmlElement[];
  /** Direct text content, in document order (whitespace-only runs included). */
  texts: XmlText[];
}

export type XmlErrorCode =
  | 'xml_too_large'
  | 'xml_empty'
  | 'xml_not_text'
  | 'xml_encoding'
  | 'xml_doctype'
  | 'xml_declaration'
  | 'xml_processing_instruction'
  | 'xml_entity'
  | 'xml_too_deep'
  | 'xml_truncated'
  | 'xml_not_well_formed';

export interface XmlError {
  code: XmlErrorCode;
  line: number;
  message: string;
}

export type XmlParse = { ok: true; root: XmlElement } | { ok: false; error: XmlError };

export interface XmlLimits {
  /** Largest input in bytes (default LIMITS.maxCohortUploadBytes). */
  maxBytes?: number;
  /** Deepest element nesting, the root being depth 1 (default LIMITS.maxXmlDepth). */
  maxDepth?: number;
}

/** Parse an XML document defensively. Never throws on any input. */
export function parseXmlDocument(input: Buffer, limits: XmlLimits = {}): XmlParse {
  const maxBytes = limits.maxBytes ?? LIMITS.maxCohortUploadBytes;
  const maxDepth = limits.maxDepth ?? LIMITS.maxXmlDepth;
  if (input.length > maxBytes) {
    return fail('xml_too_large', 1, `the file is ${input.length} bytes; the limit is ${maxBytes} bytes`);
  }
  const decoded = decodeXmlText(input);
  if (!decoded.ok) return decoded;
  const text = decoded.text;
  const lines = new LineIndex(text);

  const guard = lexicalGuard(text, lines, maxDepth);
  if (guard) return { ok: false, error: guard };

  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) {
    return fail(
      'xml_not_well_formed',
      valid.err.line ?? 1,
      `not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`,
    );
  }

  let ordered: OrderedNode[];
  try {
    ordered = new XMLParser(PARSER_OPTIONS(maxDepth)).parse(text) as OrderedNode[];
  } catch (e) {
    // The guard and the validator make this unreachable in practice; keep the message, not the stack.
    return fail('xml_not_well_formed', 1, `not well-formed XML: ${e instanceof Error ? e.message : String(e)}`);
  }
  const rootNode = ordered.find((n) => elementName(n) !== undefined);
  if (!rootNode) return fail('xml_empty', 1, 'the file holds no XML element');
  return { ok: true, root: toElement(rootNode, text, lines) };
}

const PARSER_OPTIONS = (maxDepth: number) =>
  ({
    preserveOrder: true,
    captureMetaData: true,
    processEntities: false,
    htmlEntities: false,
    ignoreAttributes: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    parseTagValue: false,
    trimValues: false,
    cdataPropName: '#cdata',
    removeNSPrefix: true,
    // The guard has already bounded depth; this is the library's own second limit.
    maxNestedTags: maxDepth + 1,
  }) as const;

/** The FileError (problem+json shape) an XML-level failure becomes. */
export function xmlFileError(error: XmlError): FileError {
  switch (error.code) {
    case 'xml_too_large':
      return { status: 413, code: error.code, title: 'File too large', detail: error.message };
    case 'xml_not_text':
    case 'xml_encoding':
      return { status: 415, code: error.code, title: 'Not an XML text file', detail: error.message };
    case 'xml_empty':
      return { status: 400, code: error.code, title: 'Empty file', detail: error.message };
    case 'xml_doctype':
    case 'xml_entity':
    case 'xml_processing_instruction':
      return { status: 400, code: error.code, title: 'Forbidden XML construct', detail: error.message };
    case 'xml_truncated':
      return { status: 400, code: error.code, title: 'Truncated XML', detail: error.message };
    default:
      return { status: 400, code: error.code, title: 'Malformed XML', detail: error.message };
  }
}

function fail(code: XmlErrorCode, line: number, message: string): { ok: false; error: XmlError } {
  return { ok: false, error: { code, line, message } };
}

// ---------------------------------------------------------------------------------------------
// Text decoding

type DecodedText = { ok: true; text: string } | { ok: false; error: XmlError };

function decodeXmlText(input: Buffer): DecodedText {
  if (input.length === 0) return fail('xml_empty', 1, 'the file is empty');
  if (input.length >= 2 && ((input[0] === 0xff && input[1] === 0xfe) || (input[0] === 0xfe && input[1] === 0xff))) {
    return fail('xml_encoding', 1, 'the file is UTF-16; XML uploads must be UTF-8');
  }
  const bom = input.length >= 3 && input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf ? 3 : 0;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bom ? input.subarray(bom) : input);
  } catch {
    const at = firstNonUtf8(input, bom);
    return fail(
      'xml_not_text',
      lineAtByte(input, at),
      `not a UTF-8 text file: invalid byte 0x${input[at].toString(16).padStart(2, '0')} at byte offset ${at} (binary content?)`,
    );
  }
  // XML 1.0 Char production: no C0 controls except tab, LF, CR; no U+FFFE / U+FFFF.
  const bad = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.exec(text);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).padStart(4, '0');
    return fail(
      'xml_not_text',
      new LineIndex(text).lineOf(bad.index),
      `not an XML text file: control character U+${code} on line ${new LineIndex(text).lineOf(bad.index)} (binary content?)`,
    );
  }
  if (text.trim() === '') return fail('xml_empty', 1, 'the file holds no XML element');
  return { ok: true, text };
}

function firstNonUtf8(b: Buffer, from: number): number {
  let i = from;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    const need = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) if (((b[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return Math.min(from, b.length - 1);
}

function lineAtByte(b: Buffer, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) {
    if (b[i] === 10) line++;
    else if (b[i] === 13 && b[i + 1] !== 10) line++;
  }
  return line;
}

/** Maps a string offset to its 1-based line (LF, CRLF and lone CR each end a line). */
class LineIndex {
  private readonly starts: number[] = [0];
  constructor(s: string) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 10) this.starts.push(i + 1);
      else if (c === 13 && s.charCodeAt(i + 1) !== 10) this.starts.push(i + 1);
    }
  }
  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
  get lineCount(): number {
    return this.starts.length;
  }
}

// ---------------------------------------------------------------------------------------------
// Lexical guard

const NAME_START = /[A-Za-z_:\u00C0-\uFFFF]/;
/** Sticky: matches the rest of a name from lastIndex. */
const NAME_REST = /[A-Za-z0-9_:.\-\u00B7\u00C0-\uFFFF]*/y;

function nameEnd(s: string, from: number): number {
  NAME_REST.lastIndex = from;
  NAME_REST.exec(s);
  return NAME_REST.lastIndex;
}
const PREDEFINED = new Set(['lt', 'gt', 'amp', 'quot', 'apos']);

function lexicalGuard(s: string, lines: LineIndex, maxDepth: number): XmlError | undefined {
  const n = s.length;
  const stack: { name: string; at: number }[] = [];
  let rootClosed = false;
  let rootSeen = false;
  let i = 0;
  const err = (code: XmlErrorCode, at: number, message: string): XmlError => ({
    code,
    line: lines.lineOf(at),
    message,
  });
  // Next '&' at or after a position, cached so the whole scan stays linear (positions only grow).
  let amp = -1;
  const hasAmpersand = (from: number, to: number): boolean => {
    if (amp < from) {
      amp = s.indexOf('&', from);
      if (amp < 0) amp = n;
    }
    return amp < to;
  };

  while (i < n) {
    const lt = s.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const e =
        stack.length === 0
          ? checkOutsideRoot(s, i, textEnd, lines)
          : hasAmpersand(i, textEnd)
            ? checkReferences(s, i, textEnd, lines)
            : undefined;
      if (e) return e;
    }
    if (lt < 0) break;
    i = lt;
    const c1 = s[i + 1];
    if (c1 === '!') {
      if (s.startsWith('<!--', i)) {
        const end = s.indexOf('-->', i + 4);
        if (end < 0)
          return err(
            'xml_truncated',
            n,
            `the document ends (line ${lines.lineOf(n)}) inside a comment opened on line ${lines.lineOf(i)}: the file looks truncated`,
          );
        i = end + 3;
        continue;
      }
      if (s.startsWith('<![CDATA[', i)) {
        if (stack.length === 0)
          return err('xml_not_well_formed', i, `CDATA section outside the root element on line ${lines.lineOf(i)}`);
        const end = s.indexOf(']]>', i + 9);
        if (end < 0)
          return err(
            'xml_truncated',
            n,
            `the document ends (line ${lines.lineOf(n)}) inside a CDATA section opened on line ${lines.lineOf(i)}: the file looks truncated`,
          );
        i = end + 3;
        continue;
      }
      const word = /^<!([A-Za-z]*)/.exec(s.slice(i, i + 20))?.[1] ?? '';
      if (word.toUpperCase() === 'DOCTYPE') {
        return err(
          'xml_doctype',
          i,
          `a DOCTYPE declaration (DTD) on line ${lines.lineOf(i)} is not accepted: DTDs and entity declarations are refused for security`,
        );
      }
      return err(
        'xml_doctype',
        i,
        `the markup declaration <!${word}…> on line ${lines.lineOf(i)} is not accepted: DTDs and entity declarations are refused for security`,
      );
    }
    if (c1 === '?') {
      const end = s.indexOf('?>', i + 2);
      if (end < 0)
        return err(
          'xml_truncated',
          n,
          `the document ends (line ${lines.lineOf(n)}) inside a processing instruction opened on line ${lines.lineOf(i)}`,
        );
      const target = /^<\?([^\s?]*)/.exec(s.slice(i, Math.min(end + 2, i + 64)))?.[1] ?? '';
      if (target.toLowerCase() === 'xml') {
        if (i !== 0)
          return err(
            'xml_declaration',
            i,
            `the XML declaration on line ${lines.lineOf(i)} must be the very first thing in the file`,
          );
        const enc = /encoding\s*=\s*["']([^"']*)["']/.exec(s.slice(i, end))?.[1];
        if (enc !== undefined && !/^(utf-?8|us-ascii|ascii)$/i.test(enc.trim())) {
          return err('xml_encoding', i, `the file declares encoding "${enc.slice(0, 30)}"; XML uploads must be UTF-8`);
        }
      } else {
        return err(
          'xml_processing_instruction',
          i,
          `the processing instruction <?${target.slice(0, 30)}…?> on line ${lines.lineOf(i)} is not accepted`,
        );
      }
      i = end + 2;
      continue;
    }
    if (c1 === '/') {
      const nameStart = i + 2;
      let j = nameEnd(s, nameStart);
      const name = s.slice(nameStart, j);
      while (j < n && isSpace(s.charCodeAt(j))) j++;
      if (j >= n) return truncatedAt(s, n, lines, stack);
      if (s[j] !== '>' || name === '')
        return err('xml_not_well_formed', i, `malformed closing tag on line ${lines.lineOf(i)}`);
      const open = stack.pop();
      if (!open)
        return err(
          'xml_not_well_formed',
          i,
          `closing tag </${name}> on line ${lines.lineOf(i)} has no matching start tag`,
        );
      if (open.name !== name) {
        return err(
          'xml_not_well_formed',
          i,
          `closing tag </${name}> on line ${lines.lineOf(i)} does not match <${open.name}> opened on line ${lines.lineOf(open.at)}`,
        );
      }
      if (stack.length === 0) rootClosed = true;
      i = j + 1;
      continue;
    }
    // Start tag.
    if (i + 1 >= n) return truncatedAt(s, n, lines, stack);
    if (!NAME_START.test(s[i + 1]))
      return err('xml_not_well_formed', i, `'<' on line ${lines.lineOf(i)} does not start a tag (write &lt; in text)`);
    let j = nameEnd(s, i + 1);
    const name = s.slice(i + 1, j);
    // Attributes: skip to the closing '>' honouring quotes; references in values are checked.
    let selfClosing = false;
    for (;;) {
      if (j >= n) return truncatedAt(s, n, lines, [...stack, { name, at: i }]);
      const c = s[j];
      if (c === '"' || c === "'") {
        const close = s.indexOf(c, j + 1);
        if (close < 0) return truncatedAt(s, n, lines, [...stack, { name, at: i }]);
        const value = s.slice(j + 1, close);
        if (value.includes('<'))
          return err('xml_not_well_formed', j, `'<' inside an attribute value on line ${lines.lineOf(j)}`);
        const e = hasAmpersand(j + 1, close) ? checkReferences(s, j + 1, close, lines) : undefined;
        if (e) return e;
        j = close + 1;
        continue;
      }
      if (c === '>') break;
      if (c === '/' && s[j + 1] === '>') {
        selfClosing = true;
        j++;
        break;
      }
      if (c === '<')
        return err('xml_not_well_formed', j, `tag <${name}> opened on line ${lines.lineOf(i)} is not closed with '>'`);
      j++;
    }
    if (rootClosed)
      return err(
        'xml_not_well_formed',
        i,
        `a second root element <${name}> on line ${lines.lineOf(i)}: an XML document has exactly one root`,
      );
    rootSeen = true;
    if (!selfClosing) {
      stack.push({ name, at: i });
      if (stack.length > maxDepth) {
        return err(
          'xml_too_deep',
          i,
          `elements are nested more than ${maxDepth} deep (at <${name}> on line ${lines.lineOf(i)})`,
        );
      }
    } else if (stack.length === 0) rootClosed = true;
    i = j + 1;
  }
  if (stack.length > 0) return truncatedAt(s, n, lines, stack);
  if (!rootSeen) return { code: 'xml_empty', line: 1, message: 'the file holds no XML element' };
  return undefined;
}

function truncatedAt(s: string, n: number, lines: LineIndex, stack: { name: string; at: number }[]): XmlError {
  const open = stack[stack.length - 1];
  const endLine = lines.lineOf(Math.max(0, n - 1));
  return {
    code: 'xml_truncated',
    line: endLine,
    message: open
      ? `the document ends (line ${endLine}) before <${open.name}> opened on line ${lines.lineOf(open.at)} is closed: the file looks truncated`
      : `the document ends (line ${endLine}) inside a tag: the file looks truncated`,
  };
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** Outside the root element only white space may appear. */
function checkOutsideRoot(s: string, from: number, to: number, lines: LineIndex): XmlError | undefined {
  for (let k = from; k < to; k++) {
    if (!isSpace(s.charCodeAt(k))) {
      return {
        code: 'xml_not_well_formed',
        line: lines.lineOf(k),
        message: `text outside the root element on line ${lines.lineOf(k)}`,
      };
    }
  }
  return undefined;
}

/** Every reference in s[from, to) must be one of the five predefined entities or a legal numeric one. */
function checkReferences(s: string, from: number, to: number, lines: LineIndex): XmlError | undefined {
  let k = s.indexOf('&', from);
  while (k >= 0 && k < to) {
    const semi = s.indexOf(';', k);
    const body = semi > k && semi < to && semi - k <= 12 ? s.slice(k + 1, semi) : undefined;
    const line = lines.lineOf(k);
    if (body === undefined) {
      return { code: 'xml_not_well_formed', line, message: `a bare '&' on line ${line} (write &amp;)` };
    }
    if (body.startsWith('#')) {
      const cp = /^#x[0-9a-fA-F]{1,6}$/.test(body)
        ? parseInt(body.slice(2), 16)
        : /^#[0-9]{1,7}$/.test(body)
          ? parseInt(body.slice(1), 10)
          : NaN;
      if (!isXmlChar(cp)) {
        return {
          code: 'xml_entity',
          line,
          message: `the character reference &${body.slice(0, 10)}; on line ${line} is not a legal XML character`,
        };
      }
    } else if (!PREDEFINED.has(body)) {
      return {
        code: 'xml_entity',
        line,
        message: `the entity reference &${body.slice(0, 12)}; on line ${line} is not accepted: only &lt; &gt; &amp; &quot; &apos; and numeric references are allowed`,
      };
    }
    k = s.indexOf('&', semi + 1);
  }
  return undefined;
}

function isXmlChar(cp: number): boolean {
  if (!Number.isFinite(cp)) return false;
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** Resolve the references the guard allowed. */
export function decodeXmlEntities(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]{1,6}|#[0-9]{1,7});/g, (_, body: string) => {
    switch (body) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default:
        return String.fromCodePoint(body[1] === 'x' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Ordered parser output → element tree

type OrderedNode = Record<string, unknown> & { [k: symbol]: { startIndex?: number; endIndex?: number } | undefined };
const META = XMLParser.getMetaDataSymbol() as symbol;

function elementName(node: OrderedNode): string | undefined {
  for (const key of Object.keys(node)) {
    if (key !== ':@' && key !== '#text' && key !== '#cdata') return key;
  }
  return undefined;
}

function toElement(node: OrderedNode, src: string, lines: LineIndex): XmlElement {
  const name = elementName(node) as string;
  const meta = node[META];
  const start = meta?.startIndex ?? 0;
  const el: XmlElement = { name, line: lines.lineOf(start), children: [], texts: [] };
  const kids = (node[name] as OrderedNode[] | undefined) ?? [];
  // Text nodes carry no offset: a text run starts where the previous sibling element ended.
  let cursor = startTagEnd(src, start);
  for (const kid of kids) {
    if ('#text' in kid) {
      const raw = String(kid['#text']);
      el.texts.push({ text: decodeXmlEntities(raw), line: lines.lineOf(firstNonBlank(src, cursor)) });
    } else if ('#cdata' in kid) {
      const parts = (kid['#cdata'] as OrderedNode[]).map((p) => String(p['#text'] ?? '')).join('');
      el.texts.push({ text: parts, line: lines.lineOf(firstNonBlank(src, cursor)) });
    } else if (elementName(kid) !== undefined) {
      const child = toElement(kid, src, lines);
      el.children.push(child);
      const end = kid[META]?.endIndex;
      if (end !== undefined) cursor = end;
    }
  }
  return el;
}

function startTagEnd(src: string, start: number): number {
  const gt = src.indexOf('>', start);
  return gt < 0 ? start : gt + 1;
}

function firstNonBlank(src: string, from: number): number {
  let k = from;
  while (k < src.length && isSpace(src.charCodeAt(k))) k++;
  return k < src.length && src[k] !== '<' ? k : from;
}

// ---------------------------------------------------------------------------------------------
// Reading helpers for importers

/** First child element with that name. */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

/** All child elements with that name, in order. */
export function childrenNamed(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

/** Element's own text, joined and trimmed ('' when none). */
export function textOf(el: XmlElement | undefined): string {
  if (!el) return '';
  return el.texts
    .map((t) => t.text)
    .join('')
    .trim();
}

/** Trimmed text of the first child with that name, or undefined when the child is absent. */
export function childText(el: XmlElement | undefined, name: string): string | undefined {
  const c = child(el, name);
  return c ? textOf(c) : undefined;
}

/** Non-blank text directly inside an element that should hold only child elements. */
export function strayText(el: XmlElement): XmlText[] {
  if (el.children.length === 0) return [];
  return el.texts.filter((t) => t.text.trim() !== '');
}

/** Escape text for writing inside an element. */
export function escapeXmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
