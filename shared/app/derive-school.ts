/**
 * Everything derived from a school's register after it changes: the pupils' enrolment items, their
 * combined summaries across schools, the school's session days and materialised view, and a request
 * for the LA-wide rollup. Every write is an overwrite computed from the register, so running this
 * twice (a retry after a crash) ends in the same state as running it once.
 */
import type { LaSettings } from '../config.js';
import { todayInEngland } from '../domain/dates.js';
import { nSessionsByDate, sessionsCodedN } from '../domain/data-quality.js';
import { sessionDays, unmarkedSessions, type SchoolRegister } from '../domain/register.js';
import { markedDaysOf, schoolCells, type PupilRow, type SchoolView } from '../domain/school-view.js';
import { toStats } from '../domain/stats.js';
import type { CareIndex } from '../store/care.js';
import type { CareIndexSource, PupilStore, SchoolDerived } from './ports.js';
import { refreshPupilSummaries } from './pupil-summaries.js';

export interface DeriveDeps {
  pupilStore: PupilStore;
  derived: SchoolDerived;
  care: CareIndexSource;
  settings(): LaSettings;
}

export interface DeriveResult {
  pupils: number;
  viewVersion: number;
}

/**
 * Re-derive after a change to `register`. `upns` are the pupils whose combined figures must be
 * recomputed (those in the return); 'all' recomputes every pupil on the register. `care`, when
 * given, is the index already read for this batch.
 */
export async function deriveFromRegister(
  deps: DeriveDeps,
  register: SchoolRegister,
  upns: Iterable<string> | 'all',
  receivedAt?: string,
  care?: CareIndex,
): Promise<DeriveResult> {
  const careIndex = care ?? (await deps.care.careIndex());
  const careOf = (upn: string) => careIndex.get(upn) ?? [];
  // Pupils in the return, plus anyone on the register without a row yet (first derivation). The
  // previous view is read only for the rows of pupils not in the return (a daily return lists them all).
  const affected = new Set<string>(
    upns === 'all' ? register.pupils.keys() : [...upns].filter((u) => register.pupils.has(u)),
  );
  const previous =
    affected.size < register.pupils.size ? await deps.derived.view(register.urn, register.academicYear) : undefined;
  const previousRows = new Map((previous?.pupils ?? []).map((r) => [r.upn, r]));
  for (const upn of register.pupils.keys()) if (!previousRows.has(upn)) affected.add(upn);

  const days = sessionDays(register);
  await deps.derived.putSessionDays(register.urn, register.academicYear, days);

  const today = todayInEngland();
  const rows = await refreshPupilSummaries(deps, {
    register,
    sessionDays: days,
    upns: [...affected],
    care: careIndex,
    settings: deps.settings(),
    today,
  });

  const pupils: PupilRow[] = [];
  for (const upn of register.pupils.keys()) {
    const row = rows.get(upn) ?? previousRows.get(upn);
    if (row) pupils.push(row);
  }
  pupils.sort((a, b) => (a.upn < b.upn ? -1 : 1));

  const periods = schoolCells(register, careOf);
  let latestDate: string | undefined;
  for (let d = days.length - 1; d >= 0; d--) {
    if (days[d]) {
      latestDate = new Date(Date.UTC(register.academicYear, 7, 1 + d)).toISOString().slice(0, 10);
      break;
    }
  }
  const view: SchoolView = {
    urn: register.urn,
    academicYear: register.academicYear,
    registerVersion: register.version,
    periods,
    pupils,
    unmarkedSessions: unmarkedSessions(register),
    nSessions: sessionsCodedN(register),
    markedDays: markedDaysOf(register),
    latestDate,
  };
  const version = (await deps.derived.viewVersion(register.urn, register.academicYear)) + 1;
  await deps.derived.putView(view, version);

  const year = periods.find((p) => p.period.kind === 'year');
  const all = year?.cells.filter((c) => c.cohort === 'all') ?? [];
  const counts = all.reduce(
    (acc, c) => acc.map((n, i) => n + c.counts[i]),
    new Array<number>(all[0]?.counts.length ?? 0).fill(0),
  );
  const enrolments = all.reduce((n, c) => n + c.enrolments, 0);
  const pa = all.reduce((n, c) => n + c.persistentAbsence, 0);
  const sa = all.reduce((n, c) => n + c.severeAbsence, 0);
  const stats = toStats(counts);
  await deps.derived.upsertSchool(register.urn, {
    latestDate,
    lastReturnAt: receivedAt,
    unmarkedSessions: view.unmarkedSessions,
    nSessionsByDate: nSessionsByDate(view.nSessions ?? []),
    nSessionsYear: register.academicYear,
    headline: {
      academicYear: register.academicYear,
      enrolments,
      possibleSessions: stats.possibleSessions,
      attendanceRate: stats.attendanceRate,
      absenceRate: stats.absenceRate,
      persistentAbsenceRate: enrolments > 0 ? (pa / enrolments) * 100 : null,
      severeAbsenceRate: enrolments > 0 ? (sa / enrolments) * 100 : null,
    },
  });
  await deps.derived.requestRollup(register.academicYear);
  return { pupils: affected.size, viewVersion: version };
}
