/**
 * The pupil record: one item per pupil holding every enrolment the LA has for them (each school's
 * marks and statements, all years) and the combined figures across schools per academic year. It is
 * versioned, so two schools' ingests touching the same pupil can never overwrite each other: the
 * loser re-reads and recomputes. One item means one read and one write per pupil per return.
 */
import { CHARACTERISTICS, decodeRuns, encodeRuns, type Characteristic } from '../domain/register.js';
import type { Enrolment, PupilYearSummary } from '../domain/pupil-summary.js';
import { k } from './keys.js';
import { batchGet, getItem, isConditionFailure, putItem, type Key } from './table.js';

export function enrolmentKeyOf(e: Pick<Enrolment, 'academicYear' | 'urn'>): string {
  return `${e.academicYear}#${e.urn}`;
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

/**
 * Stored with the per-year summaries as one JSON string: a summary is read and written whole, and a
 * string attribute costs DynamoDB (and the SDK's marshalling) far less than a deep map of numbers.
 */
type SummaryItem = {
  pk: string;
  sk: string;
  upn: string;
  version: number;
  computedAt: string;
  enrolmentKeys: string[];
  enrolments: string;
  years: string;
};

function toSummaryItem(summary: PupilSummaryRecord): SummaryItem {
  return { ...k.pupilSummary(summary.upn), upn: summary.upn, version: summary.version, computedAt: summary.computedAt, enrolmentKeys: summary.enrolmentKeys, enrolments: JSON.stringify(summary.enrolments.map(storeEnrolment)), years: JSON.stringify(summary.years) };
}

function fromSummaryItem(item: SummaryItem): PupilSummaryRecord {
  return { upn: item.upn, version: item.version, computedAt: item.computedAt, enrolmentKeys: item.enrolmentKeys, enrolments: (JSON.parse(item.enrolments ?? '[]') as StoredEnrolment[]).map(loadEnrolment), years: JSON.parse(item.years) as PupilSummaryRecord['years'] };
}

export async function getSummary(upn: string): Promise<PupilSummaryRecord | undefined> {
  const item = await getItem<SummaryItem>(k.pupilSummary(upn));
  return item ? fromSummaryItem(item) : undefined;
}

export async function getSummaries(upns: string[]): Promise<Map<string, PupilSummaryRecord>> {
  const items = await batchGet<SummaryItem>(upns.map((u) => k.pupilSummary(u) as Key));
  return new Map(items.map((item) => [item.upn, fromSummaryItem(item)]));
}

/**
 * Write a summary only if nobody else wrote one since `expectedVersion` was read (0 = none existed).
 * Returns false when another computation got there first: the caller re-reads and recomputes.
 */
export async function putSummaryIfUnchanged(summary: PupilSummaryRecord, expectedVersion: number): Promise<boolean> {
  try {
    await putItem(
      toSummaryItem(summary),
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
