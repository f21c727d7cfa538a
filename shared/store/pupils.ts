/**
 * The pupil record: every enrolment the LA has for a pupil (each school's marks and statements, all
 * years) and the combined figures across schools per academic year.
 *
 * Stored as a small head item and one item per enrolment (school-year):
 * - the head (`SUMMARY`) lists the pupil's enrolments and is versioned: it is only ever written with
 *   a condition on the version read, so two schools' ingests can never overwrite each other;
 * - an enrolment item (`SUMMARY#<year>#<urn>`) is written only by that school's ingest (one school's
 *   returns are applied one at a time), so it is written without a condition, 25 to a request.
 *
 * A pupil known to one school only (nearly every pupil) is "owned" by it: the year's summary is kept
 * in the enrolment item, and a daily return rewrites only enrolment items — no head writes. Once a
 * second school lists the pupil the head is "shared": it holds the summaries, and every ingest
 * touching the pupil writes the head under the version condition, as before (functions/ingest/
 * pupil-summaries.ts has the protocol). Heads written before enrolment items existed hold every
 * enrolment themselves; they are read as shared heads with their enrolments embedded.
 */
import { randomUUID } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { CHARACTERISTICS, decodeRuns, encodeRuns, type Characteristic } from '../domain/register.js';
import type { Enrolment, PupilYearSummary } from '../domain/pupil-summary.js';
import { k } from './keys.js';
import { batchGet, batchPut, isConditionFailure, putItem, queryAll, type Key } from './table.js';

export function enrolmentKeyOf(e: Pick<Enrolment, 'academicYear' | 'urn'>): string {
  return `${e.academicYear}#${e.urn}`;
}

function parseEnrolmentKey(key: string): { academicYear: number; urn: string } {
  const i = key.indexOf('#');
  return { academicYear: Number(key.slice(0, i)), urn: key.slice(i + 1) };
}

/** Enrolments as stored: characteristic statements run-length encoded (mostly long runs). */
type StoredEnrolment = Omit<Enrolment, 'stated'> & { stated: Record<Characteristic, string> };

function storeEnrolment(e: Enrolment): StoredEnrolment {
  // The register's per-field statement dates are its own bookkeeping, not part of the enrolment.
  const { detailDates: _d, ...rest } = e as Enrolment & { detailDates?: unknown };
  return { ...rest, stated: Object.fromEntries(CHARACTERISTICS.map((c) => [c, encodeRuns(e.stated[c])])) as Record<Characteristic, string> };
}

function loadEnrolment(e: StoredEnrolment): Enrolment {
  return { ...e, stated: Object.fromEntries(CHARACTERISTICS.map((c) => [c, decodeRuns(e.stated[c])])) as Record<Characteristic, string> };
}

/** The pupil across schools: per academic year summaries, and every enrolment held. */
export interface PupilSummaryRecord {
  upn: string;
  version: number;
  computedAt: string;
  /** "year#urn" of every enrolment held for the pupil. */
  enrolmentKeys: string[];
  /** Every enrolment held for the pupil: each school's marks and statements, all years. */
  enrolments: Enrolment[];
  years: Record<string, PupilYearSummary>;
}

// ---- Items ---------------------------------------------------------------------------------------

/**
 * Summaries and enrolments are JSON strings: a string attribute costs DynamoDB (and the SDK's
 * marshalling) far less than a deep map of numbers.
 */
type HeadItem = {
  pk: string;
  sk: string;
  upn: string;
  version: number;
  computedAt: string;
  enrolmentKeys: string[];
  /** Owned: the one school every enrolment is at (summaries are in the enrolment items). */
  owner?: string;
  /** Shared: the summaries per academic year, computed across schools. */
  years?: string;
  /** Heads written before enrolment items: every enrolment, embedded. */
  enrolments?: string;
};

type EnrolmentItem = {
  pk: string;
  sk: string;
  upn: string;
  /** Changes on every write, so a reader can tell whether the item moved since it read it. */
  rev: string;
  computedAt: string;
  /**
   * Deflated JSON of the stored enrolment and the pupil's summary for its year as its school's ingest
   * computed it (used while the pupil is owned): about a quarter of the JSON's size, which is what
   * DynamoDB writes are charged by and what the local engine spends its time on.
   */
  body?: Uint8Array;
  /** Items written before bodies were deflated: the same, as JSON strings. */
  enrolment?: string;
  summary?: string;
};

type EnrolmentBody = { enrolment: StoredEnrolment; summary: PupilYearSummary };

const DEFLATE = { level: 1 };

/** A pupil's head as read: who holds the pupil and what is listed. */
export interface PupilHead {
  upn: string;
  version: number;
  computedAt: string;
  enrolmentKeys: string[];
  owner?: string;
  /** Shared heads: summaries per academic year. */
  years?: Record<string, PupilYearSummary>;
  /** Heads written before enrolment items: their embedded enrolments by key (raw, for carrying over). */
  embedded?: { raw: string; byKey: Map<string, Enrolment> };
}

/** One enrolment item as read. */
export interface HeldEnrolment {
  enrolment: Enrolment;
  summary?: PupilYearSummary;
  rev: string;
  computedAt: string;
}

function headOf(item: HeadItem): PupilHead {
  const head: PupilHead = { upn: item.upn, version: item.version, computedAt: item.computedAt, enrolmentKeys: item.enrolmentKeys ?? [] };
  if (item.owner !== undefined) head.owner = item.owner;
  if (item.years !== undefined) head.years = JSON.parse(item.years) as Record<string, PupilYearSummary>;
  if (item.enrolments !== undefined) {
    const list = (JSON.parse(item.enrolments) as StoredEnrolment[]).map(loadEnrolment);
    head.embedded = { raw: item.enrolments, byKey: new Map(list.map((e) => [enrolmentKeyOf(e), e])) };
  }
  return head;
}

function heldOf(item: EnrolmentItem): HeldEnrolment {
  const body: Partial<EnrolmentBody> = item.body !== undefined
    ? JSON.parse(inflateRawSync(item.body).toString('utf8')) as EnrolmentBody
    : { enrolment: JSON.parse(item.enrolment as string) as StoredEnrolment, ...(item.summary !== undefined ? { summary: JSON.parse(item.summary) as PupilYearSummary } : {}) };
  return {
    enrolment: loadEnrolment(body.enrolment as StoredEnrolment),
    ...(body.summary !== undefined ? { summary: body.summary } : {}),
    rev: item.rev,
    computedAt: item.computedAt,
  };
}

const enrolmentItemKey = (upn: string, key: string): Key => {
  const { academicYear, urn } = parseEnrolmentKey(key);
  return k.pupilEnrolment(upn, academicYear, urn);
};

const refOf = (upn: string, key: string) => `${upn}|${key}`;

/** The pupils' heads (consistent reads); pupils never seen are absent. */
export async function getPupilHeads(upns: string[]): Promise<Map<string, PupilHead>> {
  const items = await batchGet<HeadItem>(upns.map((u) => k.pupilSummary(u) as Key));
  return new Map(items.map((item) => [item.upn, headOf(item)]));
}

/** Enrolment items by pupil and "year#urn" (consistent reads), keyed `${upn}|${key}`; missing ones are absent. */
export async function getHeldEnrolments(refs: Array<{ upn: string; key: string }>): Promise<Map<string, HeldEnrolment>> {
  if (refs.length === 0) return new Map();
  const items = await batchGet<EnrolmentItem>(refs.map((r) => enrolmentItemKey(r.upn, r.key)));
  return new Map(items.map((item) => {
    const held = heldOf(item);
    return [refOf(item.upn, enrolmentKeyOf(held.enrolment)), held];
  }));
}

export const heldEnrolmentRef = refOf;

/**
 * Write enrolment items (each with the summary its school computed for the year), without a
 * condition: only the enrolment's own school writes it. Returns each item's new revision by ref.
 */
export async function putEnrolments(entries: Array<{ enrolment: Enrolment; summary: PupilYearSummary }>): Promise<Map<string, string>> {
  const revs = new Map<string, string>();
  const computedAt = new Date().toISOString();
  const items = entries.map(({ enrolment, summary }) => {
    const rev = randomUUID();
    revs.set(refOf(enrolment.upn, enrolmentKeyOf(enrolment)), rev);
    return {
      ...k.pupilEnrolment(enrolment.upn, enrolment.academicYear, enrolment.urn),
      upn: enrolment.upn,
      rev,
      computedAt,
      body: deflateRawSync(JSON.stringify({ enrolment: storeEnrolment(enrolment), summary } satisfies EnrolmentBody), DEFLATE),
    } satisfies EnrolmentItem;
  });
  await batchPut(items, 4);
  return revs;
}

/** A head to write: owned (by `owner`) or shared (with `years`). */
export interface PupilHeadWrite {
  upn: string;
  version: number;
  enrolmentKeys: string[];
  owner?: string;
  years?: Record<string, PupilYearSummary>;
  /** Carried over unchanged from a head written before enrolment items. */
  embeddedRaw?: string;
}

/**
 * Write a head only if nobody else wrote one since `expectedVersion` was read (0 = none existed).
 * Returns false when another computation got there first: the caller re-reads and recomputes.
 */
export async function putSummaryIfUnchanged(head: PupilHeadWrite, expectedVersion: number): Promise<boolean> {
  const item: HeadItem = {
    ...k.pupilSummary(head.upn),
    upn: head.upn,
    version: head.version,
    computedAt: new Date().toISOString(),
    enrolmentKeys: head.enrolmentKeys,
    ...(head.owner !== undefined ? { owner: head.owner } : {}),
    ...(head.years !== undefined ? { years: JSON.stringify(head.years) } : {}),
    ...(head.embeddedRaw !== undefined ? { enrolments: head.embeddedRaw } : {}),
  };
  try {
    await putItem(
      item,
      expectedVersion === 0
        ? { expression: 'attribute_not_exists(pk)' }
        : { expression: '#v = :v', names: { '#v': 'version' }, values: { ':v': expectedVersion } },
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

// ---- Reading whole records -------------------------------------------------------------------------

/** A record from its head and enrolment items: listed enrolments only; shared summaries win. */
function recordOf(head: PupilHead, held: (key: string) => HeldEnrolment | undefined): PupilSummaryRecord {
  const enrolments: Enrolment[] = [];
  const years: Record<string, PupilYearSummary> = {};
  let computedAt = head.computedAt;
  for (const key of head.enrolmentKeys) {
    const item = held(key);
    const enrolment = item?.enrolment ?? head.embedded?.byKey.get(key);
    if (enrolment) enrolments.push(enrolment);
    if (item?.summary && head.years?.[String(item.enrolment.academicYear)] === undefined) years[String(item.enrolment.academicYear)] = item.summary;
    if (item && item.computedAt > computedAt) computedAt = item.computedAt;
  }
  Object.assign(years, head.years ?? {});
  return { upn: head.upn, version: head.version, computedAt, enrolmentKeys: head.enrolmentKeys, enrolments, years };
}

export async function getSummary(upn: string): Promise<PupilSummaryRecord | undefined> {
  // One query gives the head and every enrolment item of the pupil.
  const items = await queryAll<HeadItem | EnrolmentItem>({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
    ExpressionAttributeValues: { ':pk': k.pupilPk(upn), ':sk': k.pupilSummaryPrefix },
    ConsistentRead: true,
  });
  const headItem = items.find((i) => i.sk === k.pupilSummary(upn).sk) as HeadItem | undefined;
  if (!headItem) return undefined;
  const held = new Map<string, HeldEnrolment>();
  for (const item of items) {
    if (item === headItem) continue;
    const h = heldOf(item as EnrolmentItem);
    held.set(enrolmentKeyOf(h.enrolment), h);
  }
  return recordOf(headOf(headItem), (key) => held.get(key));
}

export async function getSummaries(upns: string[]): Promise<Map<string, PupilSummaryRecord>> {
  const heads = await getPupilHeads(upns);
  const refs: Array<{ upn: string; key: string }> = [];
  for (const head of heads.values()) for (const key of head.enrolmentKeys) refs.push({ upn: head.upn, key });
  const held = await getHeldEnrolments(refs);
  return new Map([...heads.values()].map((head) => [head.upn, recordOf(head, (key) => held.get(refOf(head.upn, key)))]));
}

/** The given enrolments of the given pupils (missing ones are simply absent). */
export async function getEnrolmentsByKeys(keys: Array<{ upn: string; academicYear: number; urn: string }>): Promise<Enrolment[]> {
  const records = await getSummaries([...new Set(keys.map((x) => x.upn))]);
  const wanted = new Set(keys.map((x) => `${x.upn}#${x.academicYear}#${x.urn}`));
  const out: Enrolment[] = [];
  for (const r of records.values()) for (const e of r.enrolments) if (wanted.has(`${e.upn}#${e.academicYear}#${e.urn}`)) out.push(e);
  return out;
}

/** Every enrolment of a pupil, all schools and years. */
export async function getPupilEnrolments(upn: string): Promise<Enrolment[]> {
  return (await getSummary(upn))?.enrolments ?? [];
}
