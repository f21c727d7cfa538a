/**
 * Uploading returns through the public API, as a school's MIS or the LA's data team would: one
 * ordered lane per school (its files in the given order, so corrections and late files land as
 * planned), schools in parallel, files over the direct-upload limit through a presigned PUT, then
 * each return's outcome read back from GET /v1/returns/{returnId}.
 */
import { readFileSync, statSync } from 'node:fs';
import { LIMITS } from '../shared/config.js';

export interface UploadItem {
  path: string;
  /** Lane key: files with the same lane go in order (the school's URN). */
  lane: string;
  token: string;
  /** Needed for a presigned upload of a large file. */
  urn?: string;
  /** Resolves when the file may be read (a back-fill still being written); sent after it. */
  ready?: Promise<unknown>;
}

export interface UploadOutcome {
  path: string;
  returnId?: string;
  httpStatus: number;
  status: string;
  counts?: { rows: number; accepted: number; rejected: number };
  detail?: string;
}

export interface UploadSummary {
  files: number;
  accepted: number;
  acceptedWithErrors: number;
  rejected: number;
  rowsAccepted: number;
  rowsRejected: number;
  outcomes: UploadOutcome[];
  seconds: number;
}

const FINAL = new Set(['accepted', 'accepted_with_errors', 'rejected']);

function contentTypeOf(path: string): { contentType: string; format: 'csv' | 'ctf' } {
  return /\.xml$/i.test(path)
    ? { contentType: 'application/xml', format: 'ctf' }
    : { contentType: 'text/csv', format: 'csv' };
}

async function send(url: string, item: UploadItem): Promise<UploadOutcome> {
  const { contentType, format } = contentTypeOf(item.path);
  const size = statSync(item.path).size;
  const auth = { authorization: `Bearer ${item.token}` };
  if (size > LIMITS.maxDirectUploadBytes) {
    const urn = item.urn ?? item.lane;
    const res = await fetch(`${url}/v1/returns/uploads`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ urn, format, bytes: size }),
    });
    const body = (await res.json()) as {
      returnId?: string;
      uploadUrl?: string;
      headers?: Record<string, string>;
      detail?: string;
    };
    if (res.status !== 201 || !body.uploadUrl)
      return { path: item.path, httpStatus: res.status, status: 'rejected', detail: body.detail };
    const put = await fetch(body.uploadUrl, {
      method: 'PUT',
      headers: { ...(body.headers ?? {}), 'content-length': String(size) },
      body: readFileSync(item.path),
    });
    if (!put.ok)
      return {
        path: item.path,
        returnId: body.returnId,
        httpStatus: put.status,
        status: 'rejected',
        detail: `upload PUT failed: HTTP ${put.status}`,
      };
    return { path: item.path, returnId: body.returnId, httpStatus: 202, status: 'received' };
  }
  const res = await fetch(`${url}/v1/returns`, {
    method: 'POST',
    headers: { ...auth, 'content-type': contentType },
    body: readFileSync(item.path),
  });
  const body = (await res.json().catch(() => ({}))) as { returnId?: string; status?: string; detail?: string };
  if (res.status !== 202)
    return {
      path: item.path,
      returnId: body.returnId,
      httpStatus: res.status,
      status: 'rejected',
      detail: body.detail,
    };
  return { path: item.path, returnId: body.returnId, httpStatus: 202, status: 'received' };
}

async function outcomeOf(
  url: string,
  item: UploadItem,
  outcome: UploadOutcome,
  waitMs: number,
): Promise<UploadOutcome> {
  if (!outcome.returnId || FINAL.has(outcome.status)) return outcome;
  const deadline = Date.now() + waitMs;
  for (let delay = 100; ; delay = Math.min(500, delay * 2)) {
    const res = await fetch(`${url}/v1/returns/${outcome.returnId}`, {
      headers: { authorization: `Bearer ${item.token}` },
    });
    if (res.ok) {
      const body = (await res.json()) as {
        status: string;
        counts?: UploadOutcome['counts'];
        rejection?: { detail: string };
      };
      if (FINAL.has(body.status))
        return { ...outcome, status: body.status, counts: body.counts, detail: body.rejection?.detail };
    }
    if (Date.now() > deadline)
      return { ...outcome, status: 'processing', detail: 'still processing when the uploader stopped waiting' };
    await new Promise((r) => setTimeout(r, delay));
  }
}

export interface UploadOptions {
  url: string;
  /** Schools uploading at once. */
  concurrency?: number;
  /**
   * 'end' (default): send every file (each school's in order), then collect the outcomes — the
   * service applies a school's returns in the order it received them. 'each': wait for each
   * return's outcome before sending the school's next file.
   */
  waitForOutcome?: 'each' | 'end';
  waitMs?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function uploadAll(items: UploadItem[], options: UploadOptions): Promise<UploadSummary> {
  const started = Date.now();
  const lanes = new Map<string, UploadItem[]>();
  for (const item of items) {
    let lane = lanes.get(item.lane);
    if (!lane) lanes.set(item.lane, (lane = []));
    lane.push(item);
  }
  const sent: Array<{ item: UploadItem; outcome: UploadOutcome }> = [];
  const outcomes: UploadOutcome[] = [];
  let done = 0;
  const each = options.waitForOutcome === 'each';
  const queue = [...lanes.values()];
  const worker = async () => {
    for (let lane = queue.shift(); lane; lane = queue.shift()) {
      for (const item of lane) {
        await item.ready;
        const outcome = await send(options.url, item);
        if (each) {
          outcomes.push(await outcomeOf(options.url, item, outcome, options.waitMs ?? 10 * 60_000));
          options.onProgress?.(++done, items.length);
        } else sent.push({ item, outcome });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, queue.length)) }, worker));
  for (const { item, outcome } of sent) {
    outcomes.push(await outcomeOf(options.url, item, outcome, options.waitMs ?? 10 * 60_000));
    options.onProgress?.(++done, items.length);
  }
  const count = (s: string) => outcomes.filter((o) => o.status === s).length;
  return {
    files: outcomes.length,
    accepted: count('accepted'),
    acceptedWithErrors: count('accepted_with_errors'),
    rejected: count('rejected'),
    rowsAccepted: outcomes.reduce((n, o) => n + (o.counts?.accepted ?? 0), 0),
    rowsRejected: outcomes.reduce((n, o) => n + (o.counts?.rejected ?? 0), 0),
    outcomes,
    seconds: (Date.now() - started) / 1000,
  };
}

/** A one-line progress bar on a terminal; occasional plain lines otherwise (CI logs). */
export function progressBar(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): (done: number, total: number) => void {
  let lastPrinted = -1;
  return (done, total) => {
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      stream.write(
        `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${done}/${total}`,
      );
      if (done === total) stream.write('\n');
    } else if (pct >= lastPrinted + 10 || done === total) {
      lastPrinted = pct;
      stream.write(`${label}: ${done}/${total} (${pct}%)\n`);
    }
  };
}
