/**
 * The pupil record: every enrolment the LA has for a pupil (each school's marks and statements, all
 * years) and the combined figures across schools per academic year.
 *
 * Stored in two parts:
 * - a small head per pupil (`PUPIL#<upn>` / `SUMMARY`) listing the pupil's enrolments ("year#urn"). It
 *   is versioned and only ever written under a condition on the version read, so two schools'
 *   ingests can never overwrite each other;
 * - the enrolments themselves, kept by school and year: each school-year's pupils are spread over
 *   32 items by UPN (`SCHOOL#<urn>` / `PUPILS#<year>#<nn>`), each entry holding the enrolment and the
 *   pupil's summary as that school's ingest computed it. Only that school's ingest writes them (one
 *   school's returns are applied one at a time), so they are written without a condition, and a
 *   daily return of 2,000 pupils is 32 item writes rather than 2,000.
 *
 * A pupil known to one school only (nearly every pupil) is "owned" by it: the year's summary is the
 * one in the school's entry, and a daily return writes no head at all. Once a second school lists the
 * pupil the head is "shared": it holds the combined summaries, and every ingest touching the pupil
 * writes the head under the version condition (shared/app/pupil-summaries.ts has the protocol).
 * Only this layout is read: a 0.1.0 service holds no data in earlier ones (docs/decisions.md).
 */
import { randomUUID } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { NO_MARK } from '../domain/codes.js';
import { SESSIONS_PER_YEAR_SLOT } from '../domain/dates.js';
import { CHARACTERISTICS, decodeRuns, encodeRuns, rowSpanOf, type Characteristic } from '../domain/register.js';
import type { Enrolment, PupilYearSummary } from '../domain/pupil-summary.js';
import { enrolmentKeys, k } from './keys.js';
import { batchGet, batchPut, getItem, getTogether, isConditionFailure, putItem, updateItem } from './table.js';

export function enrolmentKeyOf(e: Pick<Enrolment, 'academicYear' | 'urn'>): string {
  return enrolmentKeys.of(e);
}

const parseEnrolmentKey = enrolmentKeys.parse;

/**
 * Enrolments as stored: the one Enrolment, its characteristic statements run-length encoded (mostly
 * long runs), and its marks from the first slot with a row to the last (`marksFrom` that slot's
 * index; absent in entries written before, which hold all 732 slots).
 */
type StoredEnrolment = Enrolment & { marksFrom?: number };

const EMPTY_MARKS = NO_MARK.repeat(SESSIONS_PER_YEAR_SLOT);

function storeEnrolment(e: Enrolment): StoredEnrolment {
  // The register's per-field statement dates are its own bookkeeping, not part of the enrolment.
  const { detailDates: _d, ...rest } = e as Enrolment & { detailDates?: unknown };
  const { lo, hi } = rowSpanOf(e.marks);
  return {
    ...rest,
    marks: lo > hi ? '' : e.marks.slice(lo, hi + 1),
    marksFrom: lo > hi ? 0 : lo,
    stated: Object.fromEntries(CHARACTERISTICS.map((c) => [c, encodeRuns(e.stated[c])])) as Record<
      Characteristic,
      string
    >,
  };
}

function loadEnrolment(e: StoredEnrolment): Enrolment {
  const { marksFrom, ...rest } = e;
  return {
    ...rest,
    marks:
      marksFrom === undefined
        ? e.marks
        : EMPTY_MARKS.slice(0, marksFrom) + e.marks + EMPTY_MARKS.slice(marksFrom + e.marks.length),
    stated: Object.fromEntries(CHARACTERISTICS.map((c) => [c, decodeRuns(e.stated[c])])) as Record<
      Characteristic,
      string
    >,
  };
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

// ---- Heads ---------------------------------------------------------------------------------------

/**
 * Summaries are JSON strings: a string attribute costs DynamoDB (and the SDK's marshalling) far less
 * than a deep map of numbers.
 */
type HeadItem = {
  pk: string;
  sk: string;
  upn: string;
  version: number;
  computedAt: string;
  enrolmentKeys: string[];
  /** Owned: the one school every enrolment is at (summaries are in its enrolment entries). */
  owner?: string;
  /** Shared: the summaries per academic year, computed across schools. */
  years?: string;
};

/** A pupil's head as read: who holds the pupil and what is listed. */
export interface PupilHead {
  upn: string;
  version: number;
  computedAt: string;
  enrolmentKeys: string[];
  owner?: string;
  /** Shared heads: summaries per academic year. */
  years?: Record<string, PupilYearSummary>;
}

function headOf(item: HeadItem): PupilHead {
  const head: PupilHead = {
    upn: item.upn,
    version: item.version,
    computedAt: item.computedAt,
    enrolmentKeys: item.enrolmentKeys ?? [],
  };
  if (item.owner !== undefined) head.owner = item.owner;
  if (item.years !== undefined) head.years = JSON.parse(item.years) as Record<string, PupilYearSummary>;
  return head;
}

/**
 * How a read of pupils goes: on its own (the ingest's, in batches of 100), or `together` with the
 * other reads asked in the same turn (the API's: concurrent pupil views share round trips).
 */
export interface PupilReadOptions {
  together?: boolean;
  /** Told each head as soon as it is read, before the enrolments are asked for (in the same turn). */
  onHead?: (head: PupilHead) => void;
}

const readItems = <T extends object>(keys: Array<{ pk: string; sk: string }>, options: PupilReadOptions) =>
  options.together ? getTogether<T>(keys) : batchGet<T>(keys);

/** The pupils' heads (consistent reads); pupils never seen are absent. */
export async function getPupilHeads(upns: string[], options: PupilReadOptions = {}): Promise<Map<string, PupilHead>> {
  const items = await readItems<HeadItem>(
    upns.map((u) => k.pupilSummary(u)),
    options,
  );
  return new Map(items.map((item) => [item.upn, headOf(item)]));
}

/** A head to write: owned (by `owner`) or shared (with `years`). */
export interface PupilHeadWrite {
  upn: string;
  version: number;
  enrolmentKeys: string[];
  owner?: string;
  years?: Record<string, PupilYearSummary>;
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

/**
 * The epochs of the heads a school owns, one per group of pupils (the group is the pupil's enrolment
 * item number, so a pupil taken on moves 1/32 of the school's heads' epochs): moved, before and after,
 * by whoever changes the version of a head that school owns, so the school's ingest can tell with one
 * read which heads it holds a copy of may have moved (shared/app/pupil-summaries.ts). 0 when never moved.
 */
export async function getHeadEpochs(urn: string): Promise<Map<string, number>> {
  const item = await getItem<Record<string, unknown>>(k.schoolHeadEpoch(urn));
  return new Map(
    Object.entries(item ?? {}).flatMap(([name, n]) =>
      name.startsWith('e') && typeof n === 'number' ? [[name.slice(1), n] as const] : [],
    ),
  );
}

/** The group of a pupil's head epoch. */
export const headEpochGroup = (upn: string): string => String(enrolmentBucketOf(upn));

export async function moveHeadEpochs(urn: string, upns: readonly string[]): Promise<void> {
  const groups = [...new Set(upns.map(headEpochGroup))];
  if (groups.length === 0) return;
  await updateItem({
    key: k.schoolHeadEpoch(urn),
    update: `ADD ${groups.map((g) => `e${g} :one`).join(', ')}`,
    values: { ':one': 1 },
  });
}

// ---- Enrolments, by school and year ---------------------------------------------------------------

/** Items a school-year's enrolments are spread over. Fixed: a pupil's item follows from the UPN alone. */
const ENROLMENT_BUCKETS = 32;
/** DynamoDB's item limit is 400 KB; a deflated entry is about 0.3-0.6 KB, so this is ~600 pupils per item. */
const MAX_BUCKET_BYTES = 350_000;

/** The item (0..31) holding a pupil's enrolment at any school (FNV-1a of the UPN). */
function enrolmentBucketOf(upn: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < upn.length; i++) {
    h ^= upn.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % ENROLMENT_BUCKETS;
}

/** One pupil's entry: the enrolment and the summary its school's ingest computed for the year. */
type BucketEntry = { rev: string; computedAt: string; enrolment: StoredEnrolment; summary?: PupilYearSummary };

/**
 * The entries, by UPN, as one deflated JSON body: about a quarter of the JSON's size, which is what
 * DynamoDB writes are charged by and what the local engine spends its time on.
 */
type BucketItem = { pk: string; sk: string; urn: string; academicYear: number; bucket: number; body: Uint8Array };

/** One enrolment as read. */
export interface HeldEnrolment {
  enrolment: Enrolment;
  summary?: PupilYearSummary;
  /** Changes on every write of the entry, so a reader can tell whether it moved since it read it. */
  rev: string;
  computedAt: string;
}

const bucketId = (urn: string, academicYear: number, bucket: number) => `${academicYear}#${urn}#${bucket}`;
const refOf = (upn: string, key: string) => `${upn}|${key}`;
export const heldEnrolmentRef = refOf;

/**
 * An item's body: its entries by UPN, each statement an index into the item's table of distinct
 * encodings (a school's pupils share a few; each is a run per gap of weekends and holidays, so it
 * grows through the year). Items written before hold the entries alone, each encoding in full.
 */
type BucketBody = { runs: string[]; entries: Record<string, BucketEntry> };

function entriesOf(item: BucketItem): Map<string, BucketEntry> {
  const body = JSON.parse(inflateRawSync(item.body).toString('utf8')) as BucketBody | Record<string, BucketEntry>;
  if (!Array.isArray(body.runs)) return new Map(Object.entries(body as Record<string, BucketEntry>));
  const { runs, entries } = body as BucketBody;
  for (const entry of Object.values(entries)) {
    const stated = entry.enrolment.stated as Record<Characteristic, string | number>;
    for (const c of CHARACTERISTICS) {
      const v = stated[c];
      if (typeof v === 'number') stated[c] = runs[v];
    }
  }
  return new Map(Object.entries(entries));
}

function bodyOf(entries: Map<string, BucketEntry>): Uint8Array {
  const runs = new Map<string, number>();
  const out: Record<string, BucketEntry> = {};
  for (const [upn, entry] of entries) {
    const stated: Record<string, number> = {};
    for (const c of CHARACTERISTICS) {
      const e = entry.enrolment.stated[c];
      let i = runs.get(e);
      if (i === undefined) runs.set(e, (i = runs.size));
      stated[c] = i;
    }
    out[upn] = {
      ...entry,
      enrolment: { ...entry.enrolment, stated: stated as unknown as Record<Characteristic, string> },
    };
  }
  return deflateRawSync(JSON.stringify({ runs: [...runs.keys()], entries: out }), DEFLATE);
}

function heldOf(entry: BucketEntry): HeldEnrolment {
  return {
    enrolment: loadEnrolment(entry.enrolment),
    ...(entry.summary !== undefined ? { summary: entry.summary } : {}),
    rev: entry.rev,
    computedAt: entry.computedAt,
  };
}

async function readBucketItems(
  ids: Iterable<{ urn: string; academicYear: number; bucket: number }>,
  options: PupilReadOptions = {},
): Promise<Map<string, BucketItem>> {
  const wanted = [...new Map([...ids].map((b) => [bucketId(b.urn, b.academicYear, b.bucket), b])).values()];
  const items =
    wanted.length > 0
      ? await readItems<BucketItem>(
          wanted.map((b) => k.schoolEnrolments(b.urn, b.academicYear, b.bucket)),
          options,
        )
      : [];
  return new Map(items.map((item) => [bucketId(item.urn, item.academicYear, item.bucket), item]));
}

async function readBuckets(
  ids: Iterable<{ urn: string; academicYear: number; bucket: number }>,
  options: PupilReadOptions = {},
): Promise<Map<string, Map<string, BucketEntry>>> {
  const items = await readBucketItems(ids, options);
  return new Map([...items].map(([id, item]) => [id, entriesOf(item)]));
}

const RUNS_START = '{"runs":[';
const RUNS_END = '],"entries":{';

/** The index just past the JSON object or array starting at `start` (strings skipped whole), or -1. */
function jsonValueEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // A string: to its closing quote, past escapes.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
    } else if (c === 123 || c === 91) depth++;
    else if ((c === 125 || c === 93) && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * One pupil's entry of an item, without parsing the other pupils' (an item holds a school-year's
 * pupils by UPN, each entry the pupil's marks and summary, which grow through the year): the entry's
 * object found by its key and parsed alone, with the item's table of statement encodings. Absent
 * (undefined) when the item has no entry for the UPN; null when the body is not the shape this
 * reads (an item written before the table of encodings), for the caller to parse it whole.
 * Issue 17: a pupil view parsed every entry of the item to serve one.
 */
function entryIn(item: BucketItem, upn: string): BucketEntry | undefined | null {
  const text = inflateRawSync(item.body).toString('utf8');
  if (!text.startsWith(RUNS_START)) return null;
  // The first `],"entries":{` ends the table: its strings hold no unescaped quote.
  const runsEnd = text.indexOf(RUNS_END);
  if (runsEnd < 0) return null;
  // UPNs are letters and digits, so an entry's key is written exactly so; a match elsewhere is
  // caught below (the object found must be that pupil's entry) and the item parsed whole.
  const key = `"${upn}":{`;
  const at = text.indexOf(key, runsEnd + RUNS_END.length - 1);
  if (at < 0) return /^[A-Za-z0-9]+$/.test(upn) ? undefined : null;
  const start = at + key.length - 1;
  const end = jsonValueEnd(text, start);
  if (end < 0) return null;
  const entry = JSON.parse(text.slice(start, end)) as BucketEntry;
  if (entry?.enrolment?.upn !== upn) return null;
  const runs = JSON.parse(text.slice(RUNS_START.length - 1, runsEnd + 1)) as string[];
  const stated = entry.enrolment.stated as Record<Characteristic, string | number>;
  for (const c of CHARACTERISTICS) {
    const v = stated[c];
    if (typeof v === 'number') stated[c] = runs[v];
  }
  return entry;
}

/** The wanted pupils' entries of an item: one pupil's alone, several by parsing the item whole. */
function wantedEntries(item: BucketItem, upns: ReadonlySet<string>): Map<string, BucketEntry> {
  if (upns.size === 1) {
    const [upn] = upns;
    const entry = entryIn(item, upn);
    if (entry !== null) return new Map(entry ? [[upn, entry]] : []);
  }
  return entriesOf(item);
}

/** Enrolments by pupil and "year#urn" (consistent reads), keyed `${upn}|${key}`; missing ones are absent. */
export async function getHeldEnrolments(
  refs: Array<{ upn: string; key: string }>,
  options: PupilReadOptions = {},
): Promise<Map<string, HeldEnrolment>> {
  const out = new Map<string, HeldEnrolment>();
  if (refs.length === 0) return out;
  const located = refs.map((r) => ({ ...r, ...parseEnrolmentKey(r.key), bucket: enrolmentBucketOf(r.upn) }));
  const items = await readBucketItems(located, options);
  const wanted = new Map<string, Set<string>>();
  for (const r of located) {
    const id = bucketId(r.urn, r.academicYear, r.bucket);
    const upns = wanted.get(id);
    if (upns) upns.add(r.upn);
    else wanted.set(id, new Set([r.upn]));
  }
  // The API's reads (`together`) parse only the wanted pupil's entry of an item; the ingest's, as before.
  const buckets = new Map(
    [...items].map(([id, item]) => [
      id,
      options.together ? wantedEntries(item, wanted.get(id) ?? new Set()) : entriesOf(item),
    ]),
  );
  for (const r of located) {
    const entry = buckets.get(bucketId(r.urn, r.academicYear, r.bucket))?.get(r.upn);
    if (entry) out.set(refOf(r.upn, r.key), heldOf(entry));
  }
  return out;
}

/**
 * Write a school-year's enrolments (each with the summary the school computed for the year), without
 * a condition: only that school's ingest writes them. `onRegister` is every pupil on the school's
 * register for the year: the entries of those not in `entries` are kept (their items are read first;
 * a return listing every pupil reads nothing). Returns each entry's new revision by ref.
 */
export async function putEnrolments(
  urn: string,
  academicYear: number,
  entries: Array<{ enrolment: Enrolment; summary: PupilYearSummary }>,
  onRegister: Iterable<string>,
): Promise<Map<string, string>> {
  const revs = new Map<string, string>();
  const computedAt = new Date().toISOString();
  const byBucket = new Map<number, Map<string, BucketEntry>>();
  for (const { enrolment, summary } of entries) {
    if (enrolment.urn !== urn || enrolment.academicYear !== academicYear)
      throw new RangeError(`enrolment of ${enrolment.academicYear}#${enrolment.urn} given for ${academicYear}#${urn}`);
    const bucket = enrolmentBucketOf(enrolment.upn);
    let list = byBucket.get(bucket);
    if (!list) byBucket.set(bucket, (list = new Map()));
    const rev = randomUUID();
    revs.set(refOf(enrolment.upn, enrolmentKeyOf(enrolment)), rev);
    list.set(enrolment.upn, { rev, computedAt, enrolment: storeEnrolment(enrolment), summary });
  }
  // Items holding a pupil not being written now are read, so that pupil's entry is kept.
  const partial = new Set<number>();
  for (const upn of onRegister) {
    const bucket = enrolmentBucketOf(upn);
    if (byBucket.has(bucket) && !byBucket.get(bucket)!.has(upn)) partial.add(bucket);
  }
  const held = await readBuckets([...partial].map((bucket) => ({ urn, academicYear, bucket })));
  const items: BucketItem[] = [];
  for (const [bucket, fresh] of byBucket) {
    const merged = new Map(held.get(bucketId(urn, academicYear, bucket)) ?? []);
    for (const [upn, entry] of fresh) merged.set(upn, entry);
    const body = bodyOf(merged);
    if (body.length > MAX_BUCKET_BYTES)
      throw new Error(`enrolments of ${academicYear}#${urn} item ${bucket} exceed ${MAX_BUCKET_BYTES} bytes`);
    items.push({ ...k.schoolEnrolments(urn, academicYear, bucket), urn, academicYear, bucket, body });
  }
  await batchPut(items, 4);
  return revs;
}

const DEFLATE = { level: 1 };

// ---- Reading whole records -------------------------------------------------------------------------

/** A record from its head and enrolments: listed enrolments only; shared summaries win. */
function recordOf(head: PupilHead, held: (key: string) => HeldEnrolment | undefined): PupilSummaryRecord {
  const enrolments: Enrolment[] = [];
  const years: Record<string, PupilYearSummary> = {};
  let computedAt = head.computedAt;
  for (const key of head.enrolmentKeys) {
    const item = held(key);
    if (item) enrolments.push(item.enrolment);
    if (item?.summary && head.years?.[String(item.enrolment.academicYear)] === undefined)
      years[String(item.enrolment.academicYear)] = item.summary;
    if (item && item.computedAt > computedAt) computedAt = item.computedAt;
  }
  Object.assign(years, head.years ?? {});
  return { upn: head.upn, version: head.version, computedAt, enrolmentKeys: head.enrolmentKeys, enrolments, years };
}

export async function getSummary(upn: string, options: PupilReadOptions = {}): Promise<PupilSummaryRecord | undefined> {
  return (await getSummaries([upn], options)).get(upn);
}

export async function getSummaries(
  upns: string[],
  options: PupilReadOptions = {},
): Promise<Map<string, PupilSummaryRecord>> {
  const heads = await getPupilHeads(upns, options);
  if (options.onHead) for (const head of heads.values()) options.onHead(head);
  const refs: Array<{ upn: string; key: string }> = [];
  for (const head of heads.values()) for (const key of head.enrolmentKeys) refs.push({ upn: head.upn, key });
  const held = await getHeldEnrolments(refs, options);
  return new Map(
    [...heads.values()].map((head) => [head.upn, recordOf(head, (key) => held.get(refOf(head.upn, key)))]),
  );
}

/** The given enrolments of the given pupils (missing ones are simply absent). */
export async function getEnrolmentsByKeys(
  keys: Array<{ upn: string; academicYear: number; urn: string }>,
): Promise<Enrolment[]> {
  const records = await getSummaries([...new Set(keys.map((x) => x.upn))]);
  const wanted = new Set(keys.map((x) => `${x.upn}#${x.academicYear}#${x.urn}`));
  const out: Enrolment[] = [];
  for (const r of records.values())
    for (const e of r.enrolments) if (wanted.has(`${e.upn}#${e.academicYear}#${e.urn}`)) out.push(e);
  return out;
}

/** Every enrolment of a pupil, all schools and years. */
export async function getPupilEnrolments(upn: string): Promise<Enrolment[]> {
  return (await getSummary(upn))?.enrolments ?? [];
}
