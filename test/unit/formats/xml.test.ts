import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LIMITS } from '../../../shared/config.js';
import {
  childText,
  childrenNamed,
  decodeXmlEntities,
  escapeXmlText,
  parseXmlDocument,
  strayText,
  textOf,
  xmlFileError,
  type XmlParse,
} from '../../../shared/formats/xml.js';

const parse = (s: string, limits?: Parameters<typeof parseXmlDocument>[1]): XmlParse =>
  parseXmlDocument(Buffer.from(s, 'utf8'), limits);

function failure(r: XmlParse) {
  if (r.ok) throw new Error('expected a failure');
  return r.error;
}

describe('parseXmlDocument: well-formed input', () => {
  it('builds an ordered element tree with the line each element starts on', () => {
    const r = parse('<?xml version="1.0" encoding="UTF-8"?>\n<a>\n  <b>one</b>\n  <b>two</b>\n  <c/>\n</a>\n');
    if (!r.ok) throw new Error(r.error.message);
    expect(r.root.name).toBe('a');
    expect(r.root.line).toBe(2);
    expect(childrenNamed(r.root, 'b').map((b) => [textOf(b), b.line])).toEqual([
      ['one', 3],
      ['two', 4],
    ]);
    expect(r.root.children[2]).toMatchObject({ name: 'c', line: 5, children: [] });
  });

  it('counts CRLF and lone CR line endings as one line each', () => {
    const r = parse('<a>\r\n<b>x</b>\r<c>y</c>\n</a>');
    if (!r.ok) throw new Error(r.error.message);
    expect(r.root.children.map((c) => c.line)).toEqual([2, 3]);
  });

  it('decodes the five predefined entities and numeric references, and keeps CDATA as written', () => {
    const r = parse('<a><b>&lt;&gt;&amp;&quot;&apos; &#65;&#x42;</b><c><![CDATA[&amp; <x>]]></c></a>');
    if (!r.ok) throw new Error(r.error.message);
    expect(childText(r.root, 'b')).toBe(`<>&"' AB`);
    expect(childText(r.root, 'c')).toBe('&amp; <x>');
  });

  it('accepts a UTF-8 byte order mark and non-ASCII text', () => {
    const r = parseXmlDocument(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<a>Zoë Ó Súilleabháin</a>', 'utf8')]),
    );
    if (!r.ok) throw new Error(r.error.message);
    expect(textOf(r.root)).toBe('Zoë Ó Súilleabháin');
  });

  it('reports stray text between child elements at its own line', () => {
    const r = parse('<a>\n  <b>UN3</b>PersonBirthDate\n  <c>x</c>\n</a>');
    if (!r.ok) throw new Error(r.error.message);
    expect(strayText(r.root).map((t) => [t.text.trim(), t.line])).toEqual([['PersonBirthDate', 2]]);
  });

  it('treats white space between elements as not stray', () => {
    const r = parse('<a>\n  <b>x</b>\n\t<c>y</c>\n</a>');
    if (!r.ok) throw new Error(r.error.message);
    expect(strayText(r.root)).toEqual([]);
  });

  it('accepts nesting exactly at the depth limit', () => {
    const depth = LIMITS.maxXmlDepth;
    const r = parse('<e>'.repeat(depth) + '</e>'.repeat(depth));
    expect(r.ok).toBe(true);
  });

  it('accepts a file of exactly the byte limit', () => {
    const body = '<a>' + 'x'.repeat(93) + '</a>';
    expect(Buffer.byteLength(body)).toBe(100);
    expect(parse(body, { maxBytes: 100 }).ok).toBe(true);
  });
});

describe('parseXmlDocument: hostile and broken input is rejected precisely', () => {
  it('rejects a DOCTYPE declaration with its line', () => {
    const e = failure(parse('<?xml version="1.0"?>\n<!DOCTYPE a>\n<a/>'));
    expect(e).toMatchObject({ code: 'xml_doctype', line: 2 });
  });

  it('rejects an external entity before anything could read the file it names', () => {
    const e = failure(
      parse('<?xml version="1.0"?>\n<!DOCTYPE a [\n<!ENTITY x SYSTEM "file:///etc/passwd">\n]>\n<a>&x;</a>'),
    );
    expect(e.code).toBe('xml_doctype');
    expect(e.line).toBe(2);
    expect(e.message).not.toContain('root:');
  });

  it('rejects billion laughs at the DTD, without expanding anything', () => {
    const lol =
      '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n' +
      Array.from({ length: 9 }, (_, k) => ` <!ENTITY lol${k + 1} "${`&lol${k === 0 ? '' : k};`.repeat(10)}">`).join(
        '\n',
      ) +
      '\n]>\n<lolz>&lol9;</lolz>';
    const e = failure(parse(lol));
    expect(e).toMatchObject({ code: 'xml_doctype', line: 2 });
  });

  it('rejects a bare ENTITY declaration even without DOCTYPE', () => {
    expect(failure(parse('<!ENTITY x "y"><a/>'))).toMatchObject({ code: 'xml_doctype', line: 1 });
  });

  it('rejects a reference to an undeclared entity', () => {
    const e = failure(parse('<a>\n<b>&nbsp;</b></a>'));
    expect(e).toMatchObject({ code: 'xml_entity', line: 2 });
    expect(e.message).toContain('&nbsp;');
  });

  it('rejects a numeric reference to a character XML forbids', () => {
    expect(failure(parse('<a>&#0;</a>')).code).toBe('xml_entity');
    expect(failure(parse('<a>&#xD800;</a>')).code).toBe('xml_entity');
  });

  it('rejects a bare ampersand', () => {
    expect(failure(parse('<a>fish & chips</a>'))).toMatchObject({ code: 'xml_not_well_formed', line: 1 });
  });

  it('rejects processing instructions other than the XML declaration', () => {
    expect(failure(parse('<?xml version="1.0"?>\n<a>\n<?xml-stylesheet href="x"?></a>'))).toMatchObject({
      code: 'xml_processing_instruction',
      line: 3,
    });
    expect(failure(parse('<a/>\n<?php echo 1; ?>')).code).toBe('xml_processing_instruction');
  });

  it('rejects an XML declaration that is not the first thing in the file', () => {
    expect(failure(parse('\n<?xml version="1.0"?><a/>'))).toMatchObject({ code: 'xml_declaration', line: 2 });
  });

  it('rejects a declared encoding other than UTF-8', () => {
    expect(failure(parse('<?xml version="1.0" encoding="ISO-8859-1"?><a/>')).code).toBe('xml_encoding');
  });

  it('rejects 10,000-deep nesting at the first element past the limit', () => {
    const e = failure(parse('<e>'.repeat(10_000) + '</e>'.repeat(10_000)));
    expect(e.code).toBe('xml_too_deep');
    expect(e.message).toContain(String(LIMITS.maxXmlDepth));
  });

  it('rejects one level deeper than the limit', () => {
    const depth = LIMITS.maxXmlDepth + 1;
    expect(failure(parse('<e>'.repeat(depth) + '</e>'.repeat(depth))).code).toBe('xml_too_deep');
  });

  it('rejects a truncated file, naming the last line and the unclosed element', () => {
    const e = failure(parse('<a>\n  <b>x</b>\n  <c>\n    <d>hel'));
    expect(e).toMatchObject({ code: 'xml_truncated', line: 4 });
    expect(e.message).toContain('<d> opened on line 4');
  });

  it('rejects a file cut inside a tag', () => {
    expect(failure(parse('<a>\n<b attr="x'))).toMatchObject({ code: 'xml_truncated' });
    expect(failure(parse('<a>\n<b'))).toMatchObject({ code: 'xml_truncated' });
  });

  it('rejects mismatched tags naming both lines', () => {
    const e = failure(parse('<a>\n<b>\n</a>'));
    expect(e).toMatchObject({ code: 'xml_not_well_formed', line: 3 });
    expect(e.message).toContain('<b> opened on line 2');
  });

  it('rejects a second root element and text outside the root', () => {
    expect(failure(parse('<a/>\n<b/>'))).toMatchObject({ code: 'xml_not_well_formed', line: 2 });
    expect(failure(parse('<a/>\ntrailing'))).toMatchObject({ code: 'xml_not_well_formed', line: 2 });
  });

  it('rejects binary junk: NUL bytes, invalid UTF-8, UTF-16', () => {
    expect(failure(parseXmlDocument(Buffer.from([0x3c, 0x61, 0x3e, 0x00, 0x3c, 0x2f, 0x61, 0x3e]))).code).toBe(
      'xml_not_text',
    );
    expect(failure(parseXmlDocument(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]))).code).toBe('xml_not_text'); // JPEG
    expect(failure(parseXmlDocument(Buffer.from('\ufeff<a/>', 'utf16le'))).code).toBe('xml_encoding');
    const e = failure(
      parseXmlDocument(Buffer.concat([Buffer.from('<a>\n'), Buffer.from([0xc3, 0x28]), Buffer.from('</a>')])),
    );
    expect(e).toMatchObject({ code: 'xml_not_text', line: 2 });
    expect(failure(parseXmlDocument(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]))).code).toBe('xml_not_text');
  });

  it('rejects an empty or blank file', () => {
    expect(failure(parseXmlDocument(Buffer.alloc(0))).code).toBe('xml_empty');
    expect(failure(parse('  \n ')).code).toBe('xml_empty');
    expect(failure(parse('<!-- only a comment -->')).code).toBe('xml_empty');
  });

  it('rejects a file one byte over the limit before decoding it', () => {
    const body = '<a>' + 'x'.repeat(94) + '</a>';
    expect(failure(parse(body, { maxBytes: 100 }))).toMatchObject({ code: 'xml_too_large' });
  });

  it('maps each failure to an HTTP status: 413 too large, 415 not text, 400 otherwise', () => {
    expect(xmlFileError({ code: 'xml_too_large', line: 1, message: 'm' }).status).toBe(413);
    expect(xmlFileError({ code: 'xml_not_text', line: 1, message: 'm' }).status).toBe(415);
    expect(xmlFileError({ code: 'xml_doctype', line: 1, message: 'm' }).status).toBe(400);
    expect(xmlFileError({ code: 'xml_truncated', line: 1, message: 'm' }).title).toBe('Truncated XML');
  });
});

describe('parseXmlDocument: any input ends in a tree or a precise error', () => {
  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const r = parseXmlDocument(Buffer.from(bytes));
        if (!r.ok) {
          expect(r.error.line).toBeGreaterThanOrEqual(1);
          expect(r.error.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on random markup-like text', () => {
    const piece = fc.constantFrom(
      '<a>',
      '</a>',
      '<b/>',
      '<!--',
      '-->',
      '<![CDATA[',
      ']]>',
      '&amp;',
      '&x;',
      '&#65;',
      '<?x?>',
      '<!DOCTYPE',
      'text',
      '\n',
      '"',
      "'",
      '>',
      '<',
      '&',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (parts) => {
        const r = parse(parts.join(''));
        if (r.ok) expect(r.root.name.length).toBeGreaterThan(0);
        else expect(r.error.line).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 400 },
    );
  });

  it('escapeXmlText output always reads back as the same text', () => {
    fc.assert(
      fc.property(
        fc
          .string({ maxLength: 50 })
          .filter((s) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF\uD800-\uDFFF]/.test(s)),
        (s) => {
          const r = parse(`<a>${escapeXmlText(s)}</a>`);
          if (!r.ok) throw new Error(r.error.message);
          expect(r.root.texts.map((t) => t.text).join('')).toBe(s.replace(/\r\n?/g, '\n'));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('decodeXmlEntities leaves text without references untouched', () => {
    expect(decodeXmlEntities('no references here')).toBe('no references here');
  });
});
