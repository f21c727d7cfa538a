/**
 * multipart/form-data (RFC 7578), enough for file uploads: the SSDA903 return arrives as two files
 * (header.csv and episodes.csv) in one request. Parts are sliced from the body Buffer without
 * decoding, so file bytes reach the CSV reader untouched.
 */

export interface FormPart {
  /** The form field name. */
  name: string;
  /** The file name the client sent, if any. */
  filename?: string;
  contentType?: string;
  body: Buffer;
}

export type MultipartParse = { ok: true; parts: FormPart[] } | { ok: false; message: string };

/** The boundary parameter of a multipart/form-data content type, or undefined. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

export function parseMultipart(body: Buffer, boundary: string, maxParts = 20): MultipartParse {
  const delimiter = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delimiter);
  if (pos < 0)
    return { ok: false, message: `the body does not contain the boundary '${boundary}' its Content-Type names` };
  const parts: FormPart[] = [];
  // The body's line break (CRLF as RFC 7578 says, or bare LF), from its first delimiter line: only
  // that is trimmed before the next delimiter, so a file ending in CR keeps it under LF framing.
  let crlf: boolean | undefined;
  for (;;) {
    pos += delimiter.length;
    // "--" after a delimiter closes the body.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return { ok: true, parts };
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) {
      pos += 2;
      crlf ??= true;
    } else if (body[pos] === 0x0a) {
      pos += 1;
      crlf ??= false;
    } else return { ok: false, message: 'a part boundary is not followed by a line break' };
    const next = body.indexOf(delimiter, pos);
    if (next < 0) return { ok: false, message: 'the body ends before its closing boundary (truncated upload?)' };
    const headerEnd = indexOfBlankLine(body, pos, next);
    if (headerEnd === undefined)
      return { ok: false, message: 'a part has no blank line between its headers and its content' };
    const headers = body.subarray(pos, headerEnd.start).toString('latin1').split(/\r?\n/);
    let end = next;
    if (body[end - 1] === 0x0a) end -= 1;
    if (crlf && body[end - 1] === 0x0d) end -= 1;
    const part = partOf(headers, body.subarray(headerEnd.end, Math.max(headerEnd.end, end)));
    if (!part) return { ok: false, message: 'a part has no Content-Disposition: form-data; name="…" header' };
    parts.push(part);
    if (parts.length > maxParts) return { ok: false, message: `more than ${maxParts} parts` };
    pos = next;
  }
}

function indexOfBlankLine(body: Buffer, from: number, to: number): { start: number; end: number } | undefined {
  const crlf = body.indexOf('\r\n\r\n', from);
  if (crlf >= 0 && crlf < to) return { start: crlf, end: crlf + 4 };
  const lf = body.indexOf('\n\n', from);
  if (lf >= 0 && lf < to) return { start: lf, end: lf + 2 };
  return undefined;
}

function partOf(headers: string[], body: Buffer): FormPart | undefined {
  let name: string | undefined;
  let filename: string | undefined;
  let contentType: string | undefined;
  for (const h of headers) {
    const [key, ...rest] = h.split(':');
    const value = rest.join(':').trim();
    if (/^content-disposition$/i.test(key.trim())) {
      name = /\bname="([^"]*)"/i.exec(value)?.[1];
      filename = /\bfilename="([^"]*)"/i.exec(value)?.[1];
    } else if (/^content-type$/i.test(key.trim())) contentType = value;
  }
  return name === undefined ? undefined : { name, filename, contentType, body };
}
