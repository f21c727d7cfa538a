import { describe, expect, it } from 'vitest';
import { multipartBoundary, parseMultipart } from '../../../shared/formats/multipart.js';

function form(boundary: string, parts: Array<{ name: string; filename?: string; body: string }>, eol = '\r\n'): Buffer {
  const chunks = parts.map(
    (p) =>
      `--${boundary}${eol}Content-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}${eol}Content-Type: text/csv${eol}${eol}${p.body}${eol}`,
  );
  return Buffer.from(`${chunks.join('')}--${boundary}--${eol}`);
}

describe('multipart/form-data', () => {
  it('reads the boundary from the content type, quoted or not', () => {
    expect(multipartBoundary('multipart/form-data; boundary=abc123')).toBe('abc123');
    expect(multipartBoundary('multipart/form-data; boundary="a b"')).toBe('a b');
    expect(multipartBoundary('text/csv')).toBeUndefined();
  });

  it('splits two files and keeps their bytes exactly, including line breaks inside them', () => {
    const parsed = parseMultipart(
      form('XyZ', [
        { name: 'header', filename: 'header.csv', body: 'CHILD,UPN\r\n1,A\r\n' },
        { name: 'episodes', filename: 'episodes.csv', body: 'CHILD,DECOM\n1,01/01/2025' },
      ]),
      'XyZ',
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.parts.map((p) => [p.name, p.filename, p.body.toString()])).toEqual([
      ['header', 'header.csv', 'CHILD,UPN\r\n1,A\r\n'],
      ['episodes', 'episodes.csv', 'CHILD,DECOM\n1,01/01/2025'],
    ]);
  });

  it('accepts bare LF line breaks between parts', () => {
    const parsed = parseMultipart(form('b', [{ name: 'file', filename: 'x.csv', body: 'a,b' }], '\n'), 'b');
    expect(parsed.ok && parsed.parts[0].body.toString()).toBe('a,b');
  });

  it('reports a truncated body (no closing boundary)', () => {
    const body = Buffer.from('--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nabc');
    expect(parseMultipart(body, 'b')).toEqual({ ok: false, message: expect.stringMatching(/truncated/) });
  });

  it('reports a body without the named boundary', () => {
    expect(parseMultipart(Buffer.from('hello'), 'b')).toEqual({
      ok: false,
      message: expect.stringMatching(/boundary/),
    });
  });

  it('reports a part without a form-data name', () => {
    const body = Buffer.from('--b\r\nContent-Type: text/plain\r\n\r\nabc\r\n--b--\r\n');
    expect(parseMultipart(body, 'b')).toEqual({ ok: false, message: expect.stringMatching(/Content-Disposition/) });
  });
});
