/**
 * Pupil items: one enrolment item per pupil per school per academic year (the marks and details that
 * school holds), and one summary item per pupil (the combined figures across schools, versioned so
 * that two schools' ingests can never overwrite each other's newer computation).
 */
import { CHARACTERISTICS, decodeRuns, encodeRuns, type Characteristic } from '../domain/register.js';
import type { Enrolment, PupilYearSummary } from '../domain/pupil-summary.js';
import { k } from './keys.js';
import { batchGet, batchPut, getItem, isConditionFailure, putItem, queryAll, type Key } from './table.js';

interface EnrolmentItem extends Omit<Enrolment, 'stated'> {
  pk: string;
  sk: string;
  stated: Record<Characteristic, string>;
}

function toItem(e: Enrolment): EnrolmentItem {
  return {
    ...k.enrolment(e.upn, e.academicYear, e.urn),
    ...e,
    stated: Object.fromEntries(CHARACTERISTICS.map((c) => [c, encodeRuns(e.stated[c])])) as Record<Characteristic, string>,
  };
}

function fromItem(item: EnrolmentItem): Enrolment {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return { ...rest, stated: Object.fromEntries(CHARACTERISTICS.map((c) => [c, decodeRuns(item.stated[c])])) as Record<Characteristic, string> };
}

export function enrolmentKeyOf(e: Pick<Enrolment, 'academicYear' | 'urn'>): string {
  return `${e.academicYear}#${e.urn}`;
}

export async function putEnrolments(enrolments: Enrolment[]): Promise<void> {
  await batchPut(enrolments.map(toItem));
}

export async function getEnrolmentsByKeys(keys: Array<{ upn: string; academicYear: number; urn: string }>): Promise<Enrolment[]> {
  const items = await batchGet<EnrolmentItem>(keys.map((x) => k.enrolment(x.upn, x.academicYear, x.urn)));
  return items.map(fromItem);
}

/** Every enrolment of a pupil, all schools and years. */
export async function getPupilEnrolments(upn: string): Promise<Enrolment[]> {
  const items = await queryAll<EnrolmentItem>({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
    ExpressionAttributeValues: { ':pk': k.pupilPk(upn), ':sk': k.enrolmentPrefix },
  });
  return items.map(fromItem);
}

/** The pupil across schools: per academic year summaries, and every enrolment held. */
export interface PupilSummaryRecord {
  upn: string;
  version: number;
  computedAt: string;
  /** "year#urn" of every enrolment held for the pupil. */
  enrolmentKeys: string[];
  years: Record<string, PupilYearSummary>;
}

type SummaryItem = PupilSummaryRecord & { pk: string; sk: string };

export async function getSummary(upn: string): Promise<PupilSummaryRecord | undefined> {
  const item = await getItem<SummaryItem>(k.pupilSummary(upn));
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest;
}

export async function getSummaries(upns: string[]): Promise<Map<string, PupilSummaryRecord>> {
  const items = await batchGet<SummaryItem>(upns.map((u) => k.pupilSummary(u) as Key));
  return new Map(items.map(({ pk: _pk, sk: _sk, ...rest }) => [rest.upn, rest]));
}

/**
 * Write a summary only if nobody else wrote one since `expectedVersion` was read (0 = none existed).
 * Returns false when another computation got there first: the caller re-reads and recomputes.
 */
export async function putSummaryIfUnchanged(summary: PupilSummaryRecord, expectedVersion: number): Promise<boolean> {
  try {
    await putItem(
      { ...k.pupilSummary(summary.upn), ...summary },
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
