/** Schools: registry entries (from GIAS), data freshness, and each school's inferred session days. */
import { k } from './keys.js';
import { batchGet, getItem, queryAll, queryPage, updateItem } from './table.js';

export interface SchoolRecord {
  urn: string;
  name?: string;
  laCode?: string;
  establishmentNumber?: string;
  phase?: string;
  type?: string;
  status?: string;
  open?: boolean;
  /** Outside this LA (holds looked-after children placed out of area). */
  outOfArea?: boolean;
  /** Present in the GIAS registry import (schools can send returns before the registry is loaded). */
  inRegistry?: boolean;
  latestDate?: string;
  lastReturnAt?: string;
  unmarkedSessions?: number;
  /** Sessions the register holds coded N, per date (the unresolved count is worked out as at the day asked). */
  nSessionsByDate?: Record<string, number>;
  /** The academic year `nSessionsByDate` is for. */
  nSessionsYear?: number;
  headline?: Record<string, number | null>;
}

type SchoolItem = SchoolRecord & { pk: string; sk: string; gsi1pk: string; gsi1sk: string };

/** Set some fields of a school, creating it if needed, without touching the others. */
export async function upsertSchool(urn: string, fields: Partial<SchoolRecord>): Promise<void> {
  const names: Record<string, string> = { '#urn': 'urn', '#g': 'gsi1pk', '#gs': 'gsi1sk' };
  const values: Record<string, unknown> = { ':urn': urn, ':g': k.schoolsIndex, ':gs': urn };
  const sets = ['#urn = :urn', '#g = :g', '#gs = :gs'];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || name === 'urn') continue;
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    sets.push(`#${name} = :${name}`);
  }
  await updateItem({ key: k.school(urn), update: `SET ${sets.join(', ')}`, names, values });
}

export async function getSchool(urn: string): Promise<SchoolRecord | undefined> {
  const item = await getItem<SchoolItem>(k.school(urn), false);
  return item ? strip(item) : undefined;
}

export async function getSchools(urns: string[]): Promise<Map<string, SchoolRecord>> {
  const items = await batchGet<SchoolItem>(urns.map((u) => k.school(u)));
  return new Map(items.map((i) => [i.urn, strip(i)]));
}

export async function listSchools(): Promise<SchoolRecord[]> {
  const items = await queryAll<SchoolItem>({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :pk',
    ExpressionAttributeValues: { ':pk': k.schoolsIndex },
  });
  return items.map(strip).sort((a, b) => (a.urn < b.urn ? -1 : 1));
}

/**
 * One page of the schools, in URN order (the registry's index is keyed by URN): one Query of `limit`
 * items, whatever the number of schools. The cursor is signed and bound to this index.
 */
export async function listSchoolsPage(
  limit: number,
  cursor?: string,
): Promise<{ items: SchoolRecord[]; nextCursor: string | null }> {
  const page = await queryPage<SchoolItem>(
    {
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': k.schoolsIndex },
      Limit: limit,
    },
    cursor,
  );
  return { items: page.items.map(strip), nextCursor: page.nextCursor };
}

function strip(item: SchoolItem): SchoolRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _g, gsi1sk: _s, ...rest } = item;
  return rest;
}

// ---- Session days ------------------------------------------------------------------------------

/** Day slots of the academic year with school sessions, as a string of '0'/'1' (366 characters). */
export async function putSessionDays(urn: string, academicYear: number, days: Uint8Array): Promise<void> {
  await updateItem({
    key: k.schoolSessions(urn, academicYear),
    update: 'SET #d = :d, #u = :u, #y = :y',
    names: { '#d': 'days', '#u': 'urn', '#y': 'academicYear' },
    values: { ':d': Array.from(days).join(''), ':u': urn, ':y': academicYear },
  });
}

export async function getSessionDays(
  pairs: Array<{ urn: string; academicYear: number }>,
): Promise<Map<string, Uint8Array>> {
  const items = await batchGet<{ urn: string; academicYear: number; days: string }>(
    pairs.map((p) => k.schoolSessions(p.urn, p.academicYear)),
  );
  return new Map(items.map((i) => [`${i.academicYear}#${i.urn}`, dayFlags(i.days)]));
}

/** '0'/'1' characters as 0/1 (a plain loop: a callback per character was 2 % of GET /v1/schools' CPU). */
function dayFlags(days: string): Uint8Array {
  const out = new Uint8Array(days.length);
  for (let d = 0; d < days.length; d++) out[d] = days.charCodeAt(d) === 49 ? 1 : 0;
  return out;
}
