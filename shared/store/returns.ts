/** Received returns: status, counts and row errors (docs/design.md §4 GET /v1/returns/{returnId}). */
import { k } from './keys.js';
import { getItem, putItem, queryFromKey, queryPage, updateItem } from './table.js';

export type ReturnStatus =
  'awaiting_upload' | 'received' | 'processing' | 'accepted' | 'accepted_with_errors' | 'rejected';

export interface ReturnError {
  line: number;
  field: string;
  code: string;
  message: string;
}

export interface ReturnRecord {
  returnId: string;
  urn: string;
  status: ReturnStatus;
  format: 'csv' | 'ctf';
  bytes?: number;
  receivedAt: string;
  processedAt?: string;
  /** Who sent it: role and subject, for scope checks at processing time. */
  uploadedBy: { sub: string; role: string; urn?: string };
  objectKey: string;
  counts?: { rows: number; accepted: number; rejected: number };
  errors?: ReturnError[];
  errorsTruncated?: boolean;
  /** Rejected because processing failed on every attempt (not the file's fault): a redrive may retry it. */
  deadLettered?: boolean;
  /** A whole-file rejection: the problem title and detail. */
  rejection?: { title: string; detail: string };
  /** Academic years and dates the return touched. */
  dates?: { from: string; to: string };
}

type ReturnItem = ReturnRecord & { pk: string; sk: string; gsi1pk: string; gsi1sk: string };

export async function createReturn(r: ReturnRecord): Promise<void> {
  await putItem({
    ...k.returnItem(r.returnId),
    gsi1pk: k.returnsBySchool(r.urn),
    gsi1sk: `${r.receivedAt}#${r.returnId}`,
    ...r,
  });
}

export async function getReturn(returnId: string): Promise<ReturnRecord | undefined> {
  const item = await getItem<ReturnItem>(k.returnItem(returnId));
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, gsi1pk: _g, gsi1sk: _s, ...rest } = item;
  return rest;
}

export async function setReturnStatus(
  returnId: string,
  status: ReturnStatus,
  fields: Partial<ReturnRecord> = {},
): Promise<void> {
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = { ':status': status };
  const sets = ['#status = :status'];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || name === 'status') continue;
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    sets.push(`#${name} = :${name}`);
  }
  await updateItem({
    key: k.returnItem(returnId),
    update: `SET ${sets.join(', ')}`,
    names,
    values,
    condition: 'attribute_exists(pk)',
  });
}

export async function listReturns(urn: string, limit: number, cursor?: string) {
  const page = await queryPage<ReturnItem>(
    {
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': k.returnsBySchool(urn) },
      ScanIndexForward: false,
      Limit: limit,
    },
    cursor,
  );
  return {
    items: page.items.map(({ returnId, urn: u, status, format, receivedAt, processedAt, counts }) => ({
      returnId,
      urn: u,
      status,
      format,
      receivedAt,
      processedAt,
      counts,
    })),
    nextCursor: page.nextCursor,
  };
}

/**
 * Returns of the same school received before this one and not yet finished (received, or left at
 * processing by a crash), oldest first. At most `limit` of the most recent are considered.
 */
export async function unfinishedBefore(
  r: Pick<ReturnRecord, 'urn' | 'receivedAt' | 'returnId'>,
  limit = 25,
): Promise<ReturnRecord[]> {
  const page = await queryPage<ReturnItem>({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk < :me',
    ExpressionAttributeValues: { ':pk': k.returnsBySchool(r.urn), ':me': `${r.receivedAt}#${r.returnId}` },
    ScanIndexForward: false,
    Limit: limit,
  });
  return page.items
    .filter((i) => i.status === 'received' || i.status === 'processing')
    .map(({ pk: _pk, sk: _sk, gsi1pk: _g, gsi1sk: _s, ...rest }) => rest)
    .reverse();
}

/**
 * Returns of the same school received after this one and waiting (received, or left at processing
 * by a crash), oldest first: the run of them up to the first that has not yet arrived (a presigned
 * upload still awaiting its file), which nothing received after it may overtake. At most `limit`.
 */
export async function waitingAfter(
  r: Pick<ReturnRecord, 'urn' | 'receivedAt' | 'returnId'>,
  limit: number,
): Promise<ReturnRecord[]> {
  const out: ReturnRecord[] = [];
  let start: Record<string, unknown> | undefined;
  while (out.length < limit) {
    const page = await queryFromKey<ReturnItem>(
      {
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk > :me',
        ExpressionAttributeValues: { ':pk': k.returnsBySchool(r.urn), ':me': `${r.receivedAt}#${r.returnId}` },
        ScanIndexForward: true,
        Limit: Math.min(100, limit + 10),
      },
      start,
    );
    for (const { pk: _pk, sk: _sk, gsi1pk: _g, gsi1sk: _s, ...rest } of page.items) {
      if (rest.status === 'awaiting_upload') return out;
      if (rest.status === 'received' || rest.status === 'processing') out.push(rest);
      if (out.length >= limit) return out;
    }
    if (!page.lastKey) return out;
    start = page.lastKey;
  }
  return out;
}

/** A school's returns received at or after `since` (an ISO instant), newest first: the notification job's rejected returns. */
export async function returnsReceivedSince(
  urn: string,
  since: string,
  limit = 100,
): Promise<Array<Pick<ReturnRecord, 'returnId' | 'urn' | 'status' | 'receivedAt'>>> {
  const page = await queryPage<ReturnItem>({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk >= :since',
    ExpressionAttributeValues: { ':pk': k.returnsBySchool(urn), ':since': since },
    ScanIndexForward: false,
    Limit: limit,
  });
  return page.items.map(({ returnId, urn: u, status, receivedAt }) => ({ returnId, urn: u, status, receivedAt }));
}
