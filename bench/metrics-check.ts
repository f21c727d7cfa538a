/** Comparing the API's metrics rows with DuckDB's (bench item 5 and the metrics oracle test). */
import type { OracleRow } from './duckdb-metrics.js';

const INTEGER_FIELDS = [
  'enrolments',
  'possibleSessions',
  'attendedSessions',
  'presentSessions',
  'approvedActivitySessions',
  'authorisedAbsenceSessions',
  'unauthorisedAbsenceSessions',
  'absenceSessions',
  'lateSessions',
  'persistentAbsenceCount',
  'severeAbsenceCount',
] as const;
const RATE_FIELDS = [
  'attendanceRate',
  'absenceRate',
  'authorisedAbsenceRate',
  'unauthorisedAbsenceRate',
  'persistentAbsenceRate',
  'severeAbsenceRate',
] as const;

export type ApiMetricsRow = Record<string, unknown> & { key: Record<string, string>; codes: Record<string, number> };

const keyId = (k: Record<string, string | undefined>) =>
  ['cohort', 'urn', 'phase', 'yearGroup', 'sex', 'week'].map((f) => `${f}=${k[f] ?? ''}`).join('|');

/**
 * Differences between the API's rows and the oracle's, in words (empty when they agree): the same
 * groups, counts and codes exactly equal, rates within 1e-9.
 */
export function metricsDifferences(
  label: string,
  actual: readonly ApiMetricsRow[],
  wanted: readonly OracleRow[],
): string[] {
  const out: string[] = [];
  const byKey = new Map(wanted.map((r) => [keyId(r.key), r]));
  const seen = new Set<string>();
  for (const a of actual) {
    const id = keyId(a.key);
    seen.add(id);
    const w = byKey.get(id);
    if (!w) {
      out.push(`${label}: the API has a row the oracle does not: ${id}`);
      continue;
    }
    for (const f of INTEGER_FIELDS)
      if (a[f] !== w[f]) out.push(`${label} ${id}: ${f} API ${String(a[f])} oracle ${w[f]}`);
    for (const f of RATE_FIELDS) {
      const x = a[f] as number | null;
      const y = w[f];
      if (x === null || y === null ? x !== y : Math.abs(x - y) > 1e-9)
        out.push(`${label} ${id}: ${f} API ${x} oracle ${y}`);
    }
    const codes = new Set([...Object.keys(a.codes ?? {}), ...Object.keys(w.codes)]);
    for (const c of codes)
      if ((a.codes?.[c] ?? 0) !== (w.codes[c] ?? 0))
        out.push(`${label} ${id}: code ${c} API ${a.codes?.[c] ?? 0} oracle ${w.codes[c] ?? 0}`);
  }
  for (const id of byKey.keys()) if (!seen.has(id)) out.push(`${label}: the oracle has a row the API does not: ${id}`);
  return out;
}
