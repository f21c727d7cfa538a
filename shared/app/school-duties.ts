/**
 * After a return is applied to a school's register: note what it told the LA (new pupils listed,
 * leaving dates, grounds and destinations, pupils no longer listed) and when, then recompute the
 * school's new entries, deletions and part-time timetables for the year (issue 20). Running it
 * twice for the same return ends in the same state (the notices keep first dates).
 */
import { noteReturn, rollChanges, type DeletionDetails } from '../domain/admission-register.js';
import { countSchoolDays, schoolCalendar } from '../domain/calendar.js';
import { addDays, todayInEngland } from '../domain/dates.js';
import { partTimeTimetables } from '../domain/part-time-timetables.js';
import { sessionDays, type SchoolRegister } from '../domain/register.js';
import type { SchoolDuties } from '../store/duties.js';
import type { DutiesStore, SchoolRegisters } from './ports.js';

export interface DutiesDeps {
  duties: DutiesStore;
  registers: SchoolRegisters;
}

/**
 * The school's duties document for the year, as held or (first return of the year) begun. A batch
 * of returns (apply-return.ts) opens it once, after applying its first return of the year, notes
 * each return after applying it, and closes it once: the same document as one return at a time.
 */
export async function openDuties(
  deps: DutiesDeps,
  register: SchoolRegister,
  receivedAt: string,
): Promise<SchoolDuties> {
  const { urn, academicYear } = register;
  const doc = await deps.duties.get(urn, academicYear);
  if (doc) return doc;
  // First return of the year: which pupils continue from last year, and since when the service holds the school.
  const [before, previousDoc] = await Promise.all([
    deps.registers.load(urn, academicYear - 1),
    deps.duties.get(urn, academicYear - 1),
  ]);
  const continuing = [...before.pupils.values()]
    .filter((p) => p.leavingDate === undefined)
    .map((p) => p.upn)
    .sort();
  let earliest: string | undefined = previousDoc?.heldFrom;
  for (const p of [...before.pupils.values(), ...register.pupils.values()])
    if (earliest === undefined || p.firstListed < earliest) earliest = p.firstListed;
  return {
    urn,
    academicYear,
    heldFrom: earliest ?? todayInEngland(new Date(receivedAt)),
    continuing,
    notices: { urn, academicYear, pupils: {} },
    entries: [],
    deletions: [],
    partTimeTimetables: [],
    computedAt: receivedAt,
  } satisfies SchoolDuties;
}

/** What one return (its rows just applied to `register`) told the LA, and when. */
export function noteDuties(
  doc: SchoolDuties,
  register: SchoolRegister,
  rows: readonly DeletionDetails[],
  receivedAt: string,
): void {
  for (const p of register.pupils.values()) if (p.firstListed < doc.heldFrom) doc.heldFrom = p.firstListed;
  noteReturn(doc.notices, register, rows, todayInEngland(new Date(receivedAt)));
}

/** The year's new entries, deletions and part-time timetables from the register as it now is; stored. */
export async function closeDuties(deps: DutiesDeps, doc: SchoolDuties, register: SchoolRegister): Promise<void> {
  const calendar = schoolCalendar(await deps.duties.calendarSources(register.urn, register.academicYear));
  const schoolDays = (from: string, to: string) => (to > from ? countSchoolDays(calendar, addDays(from, 1), to) : 0);
  const changes = rollChanges({
    register,
    continuing: new Set(doc.continuing),
    notices: doc.notices,
    heldFrom: doc.heldFrom,
    schoolDays,
  });
  doc.entries = changes.entries;
  doc.deletions = changes.deletions;
  doc.partTimeTimetables = partTimeTimetables(register, sessionDays(register));
  doc.computedAt = new Date().toISOString();
  await deps.duties.put(doc);
}
