/**
 * Everything derived from a school's register after it changes: the pupils' enrolment items, their
 * combined summaries across schools, the school's session days and materialised view, and a request
 * for the LA-wide rollup. Every write is an overwrite computed from the register, so running this
 * twice (a retry after a crash) ends in the same state as running it once.
 */
import { runtimeConfig } from '../../shared/config.js';
import { todayInEngland } from '../../shared/domain/dates.js';
import type { Enrolment } from '../../shared/domain/pupil-summary.js';
import { nSessionsByDate, sessionsCodedN } from '../../shared/domain/data-quality.js';
import { sessionDays, unmarkedSessions, type SchoolRegister } from '../../shared/domain/register.js';
import { markedDaysOf, schoolCells, type PupilRow, type SchoolView } from '../../shared/domain/school-view.js';
import { toStats } from '../../shared/domain/stats.js';
import { loadCareIndex, type CareIndex } from '../../shared/store/care.js';
import { requestRollup } from '../../shared/store/queues.js';
import { putSessionDays, upsertSchool } from '../../shared/store/schools.js';
import { getSchoolView, getSchoolViewPointer, putSchoolView } from '../../shared/store/views.js';
import { refreshPupilSummaries } from './pupil-summaries.js';

export function enrolmentFromRegister(register: SchoolRegister, upn: string): Enrolment {
  const p = register.pupils.get(upn);
  if (!p) throw new RangeError(`pupil not on register ${register.urn}/${register.academicYear}`);
  return { ...p, urn: register.urn, academicYear: register.academicYear };
}

export interface DeriveResult {
  pupils: number;
  viewVersion: number;
}

/**
 * Re-derive after a change to `register`. `upns` are the pupils whose combined figures must be
 * recomputed (those in the return); 'all' recomputes every pupil on the register.
 */
export async function deriveFromRegister(register: SchoolRegister, upns: Iterable<string> | 'all', receivedAt?: string): Promise<DeriveResult> {
  const config = runtimeConfig();
  const care = await loadCareIndex();
  const careOf = (upn: string) => care.get(upn) ?? [];
  // Pupils in the return, plus anyone on the register without a row yet (first derivation). The
  // previous view is read only for the rows of pupils not in the return (a daily return lists them all).
  const affected = new Set<string>(upns === 'all' ? register.pupils.keys() : [...upns].filter((u) => register.pupils.has(u)));
  const previous = affected.size < register.pupils.size ? await getSchoolView(register.urn, register.academicYear) : undefined;
  const previousRows = new Map((previous?.pupils ?? []).map((r) => [r.upn, r]));
  for (const upn of register.pupils.keys()) if (!previousRows.has(upn)) affected.add(upn);

  const days = sessionDays(register);
  await putSessionDays(register.urn, register.academicYear, days);

  const today = todayInEngland();
  const rows = await refreshPupilSummaries({ register, upns: [...affected], care, settings: config.settings, today });

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
  const pointer = await getSchoolViewPointer(register.urn, register.academicYear);
  const version = (pointer?.version ?? 0) + 1;
  await putSchoolView(view, version);

  const year = periods.find((p) => p.period.kind === 'year');
  const all = year?.cells.filter((c) => c.cohort === 'all') ?? [];
  const counts = all.reduce((acc, c) => acc.map((n, i) => n + c.counts[i]), new Array<number>(all[0]?.counts.length ?? 0).fill(0));
  const enrolments = all.reduce((n, c) => n + c.enrolments, 0);
  const pa = all.reduce((n, c) => n + c.persistentAbsence, 0);
  const sa = all.reduce((n, c) => n + c.severeAbsence, 0);
  const stats = toStats(counts);
  await upsertSchool(register.urn, {
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
  await requestRollup(register.academicYear);
  return { pupils: affected.size, viewVersion: version };
}

export type { CareIndex };
