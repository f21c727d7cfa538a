/**
 * After a return is applied to a school's register: note what it told the LA (new pupils listed,
 * leaving dates, grounds and destinations, pupils no longer listed) and when, then recompute the
 * school's new entries, deletions and part-time timetables for the year (issue 20). Running it
 * twice for the same return ends in the same state (the notices keep first dates).
 */
import { noteReturn, rollChanges, type DeletionDetails } from '../../shared/domain/admission-register.js';
import { countSchoolDays, schoolCalendar } from '../../shared/domain/calendar.js';
import { addDays, todayInEngland } from '../../shared/domain/dates.js';
import { partTimeTimetables } from '../../shared/domain/part-time-timetables.js';
import { sessionDays, type SchoolRegister } from '../../shared/domain/register.js';
import { calendarSourcesFor } from '../../shared/store/calendars.js';
import { getSchoolDuties, putSchoolDuties, type SchoolDuties } from '../../shared/store/duties.js';
import { loadRegister } from '../../shared/store/registers.js';

export async function recordDuties(register: SchoolRegister, rows: readonly DeletionDetails[], receivedAt: string): Promise<void> {
  const { urn, academicYear } = register;
  const receivedOn = todayInEngland(new Date(receivedAt));
  let doc = await getSchoolDuties(urn, academicYear);
  if (!doc) {
    // First return of the year: which pupils continue from last year, and since when the service holds the school.
    const [before, previousDoc] = await Promise.all([loadRegister(urn, academicYear - 1), getSchoolDuties(urn, academicYear - 1)]);
    const continuing = [...before.pupils.values()].filter((p) => p.leavingDate === undefined).map((p) => p.upn).sort();
    let earliest: string | undefined = previousDoc?.heldFrom;
    for (const p of [...before.pupils.values(), ...register.pupils.values()]) if (earliest === undefined || p.firstListed < earliest) earliest = p.firstListed;
    doc = {
      urn, academicYear, heldFrom: earliest ?? receivedOn, continuing,
      notices: { urn, academicYear, pupils: {} }, entries: [], deletions: [], partTimeTimetables: [], computedAt: receivedAt,
    } satisfies SchoolDuties;
  }
  for (const p of register.pupils.values()) if (p.firstListed < doc.heldFrom) doc.heldFrom = p.firstListed;
  noteReturn(doc.notices, register, rows, receivedOn);

  const calendar = schoolCalendar(await calendarSourcesFor(urn, academicYear));
  const schoolDays = (from: string, to: string) => (to > from ? countSchoolDays(calendar, addDays(from, 1), to) : 0);
  const changes = rollChanges({ register, continuing: new Set(doc.continuing), notices: doc.notices, heldFrom: doc.heldFrom, schoolDays });
  doc.entries = changes.entries;
  doc.deletions = changes.deletions;
  doc.partTimeTimetables = partTimeTimetables(register, sessionDays(register));
  doc.computedAt = new Date().toISOString();
  await putSchoolDuties(doc);
}
