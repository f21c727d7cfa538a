/**
 * What the hardening tests share: the hostile corpus, the checks every answer must pass (a 4xx
 * problem with a precise detail and no stack trace, or a report of row errors with line, field and
 * message), where the service keeps what it received, and the spreadsheet-safety check for CSV.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DEFAULT_NAMES } from '../../shared/config.js';
import { readCsv } from '../../shared/formats/csv.js';
import { getBlob } from '../../shared/store/blobs.js';
import { s3Client } from '../../shared/store/clients.js';
import { getReturn } from '../../shared/store/returns.js';
import type { TestResponse } from '../integration/harness.js';

const HOSTILE_DIR = fileURLToPath(new URL('../fixtures/hostile/', import.meta.url));

export interface CorpusFile {
  /** Path under test/fixtures/hostile, e.g. 'returns/crlf.csv'. */
  name: string;
  body: Buffer;
}

/** Every committed corpus file (the generator and README are not corpus). */
export function loadCorpus(): CorpusFile[] {
  const out: CorpusFile[] = [];
  for (const dir of ['returns', 'xml', 'cohorts', 'registry', 'calendars']) {
    for (const f of readdirSync(join(HOSTILE_DIR, dir)).sort())
      out.push({ name: `${dir}/${f}`, body: readFileSync(join(HOSTILE_DIR, dir, f)) });
  }
  return out;
}

/** Signs of a stack trace or internals in a response body. */
const INTERNALS = /(\n\s+at\s|\bat\s+\S+\s+\(|\.(ts|js|mjs|cjs):\d+|node_modules|\/work\/|file:\/\/\/)/;

/**
 * Whether a 4xx answer is a proper problem: RFC 9457 fields, a detail that says something beyond the
 * title, and nothing from inside the service. Returns what is wrong, or undefined.
 */
export function problemFault(res: TestResponse): string | undefined {
  if (res.status >= 500) return `status ${res.status}: ${res.text.slice(0, 200)}`;
  if (!res.headers['content-type']?.startsWith('application/problem+json'))
    return `content-type ${res.headers['content-type']}`;
  let p: { type?: unknown; title?: unknown; status?: unknown; detail?: unknown };
  try {
    p = res.json();
  } catch {
    return 'body is not JSON';
  }
  if (p.status !== res.status) return `body status ${String(p.status)} differs from ${res.status}`;
  if (typeof p.title !== 'string' || typeof p.type !== 'string') return 'no title or type';
  if (typeof p.detail !== 'string' || p.detail.length < 10 || p.detail === p.title)
    return `detail is not precise: ${JSON.stringify(p.detail)}`;
  if (INTERNALS.test(res.text)) return `internals in the body: ${res.text.slice(0, 300)}`;
  return undefined;
}

/** Whether a list of row errors names line, field, code and a message for each. */
export function rowErrorsFault(errors: unknown): string | undefined {
  if (!Array.isArray(errors)) return 'errors is not a list';
  for (const e of errors as Array<Record<string, unknown>>) {
    if (!Number.isInteger(e.line) || (e.line as number) < 1) return `row error without a line: ${JSON.stringify(e)}`;
    if (typeof e.field !== 'string' || e.field === '') return `row error without a field: ${JSON.stringify(e)}`;
    if (typeof e.code !== 'string' || typeof e.message !== 'string' || e.message.length < 5)
      return `row error without a message: ${JSON.stringify(e)}`;
    if (INTERNALS.test(String(e.message))) return `internals in a row error: ${String(e.message)}`;
  }
  return undefined;
}

/** The bytes kept for a return: at its object key, in the returns or the quarantine bucket. */
export async function keptReturn(returnId: string): Promise<{ bucket: string; key: string; body: Buffer } | undefined> {
  const record = await getReturn(returnId);
  if (!record) return undefined;
  for (const bucket of [DEFAULT_NAMES.returnsBucket, DEFAULT_NAMES.quarantineBucket]) {
    const blob = await getBlob(bucket, record.objectKey);
    if (blob) return { bucket, key: record.objectKey, body: blob.body };
  }
  return undefined;
}

/** A return's quarantined copy (a file rejected in ingest is copied there beside its report). */
export async function quarantinedReturn(urn: string, returnId: string, ext: string): Promise<Buffer | undefined> {
  return (await getBlob(DEFAULT_NAMES.quarantineBucket, `quarantine/${urn}/${returnId}.${ext}`))?.body;
}

/** Every object kept for an import (imports/<importId>/…, registers bucket). */
export async function keptImport(importId: string): Promise<Buffer[]> {
  const res = await s3Client().send(
    new ListObjectsV2Command({ Bucket: DEFAULT_NAMES.registersBucket, Prefix: `imports/${importId}/` }),
  );
  const out: Buffer[] = [];
  for (const o of res.Contents ?? []) {
    const blob = await getBlob(DEFAULT_NAMES.registersBucket, o.Key!);
    if (blob) out.push(blob.body);
  }
  return out;
}

/** A cell a spreadsheet would run as a formula: = + - @ tab CR first, unless it is a plain number. */
export function isFormulaCell(cell: string): boolean {
  return /^[=+\-@\t\r]/.test(cell) && !/^-?\d+(\.\d+)?$/.test(cell);
}

/** Cells of a CSV response (header included), read with the service's own reader. */
export function csvCells(text: string): string[][] {
  const read = readCsv(Buffer.from(text, 'utf8'));
  if (!read.ok) throw new Error(`CSV response unreadable: ${read.error.message}`);
  return [read.header, ...read.records.map((r) => r.fields)];
}

/** Run `work` over `items` with at most `limit` at once, keeping order in the results. */
export async function inPool<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        out[i] = await work(items[i], i);
      }
    }),
  );
  return out;
}

/** A multipart/form-data body with the given parts (boundary XBOUNDARY, as in the corpus). */
export function multipartBody(
  parts: Array<{ name: string; filename: string; body: Buffer }>,
  boundary = 'XBOUNDARY',
): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      p.body,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}
