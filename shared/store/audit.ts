/**
 * The audit log (DESIGN §4): every read of pupil-level data and every write, with who, role, what,
 * when and outcome. Append-only: entries are only ever put with a fresh key, never updated or deleted.
 */
import { randomBytes } from 'node:crypto';
import type { Principal } from '../domain/access.js';
import { k } from './keys.js';
import { putItem, queryPage } from './table.js';

export interface AuditEntry {
  at: string;
  sub: string;
  role: string;
  action: string;
  target: string;
  outcome: string;
  urn?: string;
  upn?: string;
  /** How many pupils a list read returned. */
  count?: number;
}

export async function recordAudit(p: Pick<Principal, 'sub' | 'role'>, e: Omit<AuditEntry, 'at' | 'sub' | 'role'>): Promise<void> {
  const at = new Date().toISOString();
  const id = randomBytes(6).toString('hex');
  const entry: AuditEntry = { at, sub: p.sub, role: p.role, ...e };
  await putItem(
    { ...k.audit(at.slice(0, 10), at, id), gsi1pk: k.auditByUser(p.sub), gsi1sk: `${at}#${id}`, ...entry },
    { expression: 'attribute_not_exists(pk)' },
  );
}

export async function auditForDate(date: string, limit: number, cursor?: string) {
  return queryPage<AuditEntry & { pk: string; sk: string }>(
    { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `AUDIT#${date}` }, ScanIndexForward: false, Limit: limit },
    cursor,
  );
}

export async function auditForUser(sub: string, limit: number, cursor?: string) {
  return queryPage<AuditEntry & { gsi1pk: string }>(
    { IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': k.auditByUser(sub) }, ScanIndexForward: false, Limit: limit },
    cursor,
  );
}
